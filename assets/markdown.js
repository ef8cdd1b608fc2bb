// A note's body as Markdown: rendered with marked, then sanitized with DOMPurify, so no HTML
// or script from a note ever runs. Raw HTML in a note shows as the text it is; links open
// in a new tab without telling the site where they came from; images are not loaded (the
// CSP would refuse other sites anyway): they show as links. Checklist items (`- [ ]`,
// `- [x]`) render as checkboxes, and ticking one edits the body text.

import { DOMPurify, Marked } from './vendor/markdown.js';

const escapeHtml = (text) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // A note's own HTML is shown, never interpreted.
    html: ({ text }) => escapeHtml(text),
    image: ({ href, text }) => `<a href="${escapeHtml(href ?? '')}">${escapeHtml(text || href || 'image')}</a>`,
    checkbox: ({ checked }) => `<input type="checkbox" class="task-box"${checked ? ' checked' : ''}> `,
  },
});

const purifier = DOMPurify(window);
purifier.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});
const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'button', 'select', 'textarea', 'iframe', 'object', 'embed', 'img', 'video', 'audio', 'source'],
  FORBID_ATTR: ['style', 'id', 'name'],
  RETURN_DOM_FRAGMENT: true,
};

/** The rendered, sanitized body: a DocumentFragment. */
export function renderMarkdown(text) {
  const html = marked.parse(text ?? '', { async: false });
  const fragment = purifier.sanitize(html, PURIFY);
  // Only checkboxes we rendered survive as inputs.
  for (const input of fragment.querySelectorAll('input')) {
    if (!(input.type === 'checkbox' && input.classList.contains('task-box'))) input.remove();
  }
  return fragment;
}

// A checklist marker at the start of a line: list bullet or number (inside quotes too),
// then `[ ]` or `[x]`. Lines in fenced code blocks are skipped, as marked skips them.
const TASK = /^((?:[ \t]*>)*[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+)\[([ xX])\](?=[ \t]|$)/;
const FENCE = /^[ \t]*(?:>[ \t]*)*(`{3,}|~{3,})/;

/** Offsets in `text` of each checklist marker's state character, in order. */
export function taskOffsets(text) {
  const offsets = [];
  let fence = null;
  let at = 0;
  for (const line of text.split('\n')) {
    const opening = line.match(FENCE);
    if (fence) {
      if (opening && opening[1][0] === fence[0] && opening[1].length >= fence.length) fence = null;
    } else if (opening) {
      fence = opening[1];
    } else {
      const task = line.match(TASK);
      if (task) offsets.push(at + task[1].length + 1);
    }
    at += line.length + 1;
  }
  return offsets;
}

/** `text` with checklist item `index` ticked or not. */
export function setTask(text, index, done) {
  const offset = taskOffsets(text)[index];
  if (offset === undefined) return text;
  return text.slice(0, offset) + (done ? 'x' : ' ') + text.slice(offset + 1);
}

/**
 * The rendered view of `bodyInput`, and the button that switches between writing and
 * reading. A tick writes the body through `bodyInput` and an `input` event, so it is saved
 * and synced exactly like typing. Remembered per device: the mode last chosen.
 */
export function createRenderedView(bodyInput, { h, icon }) {
  const MODE_KEY = 'notebox.noteMode';
  const element = h('div', { class: 'rendered', hidden: true, role: 'region', 'aria-label': 'Rendered note' });
  const toggle = h('button', { class: 'button ghost mode-toggle', type: 'button' });
  let mode = localStorage.getItem(MODE_KEY) === 'preview' ? 'preview' : 'edit';
  let writable = true;

  let rendered = null; // what the view shows now: {text, writable}

  function render() {
    const text = bodyInput.value;
    if (rendered?.text === text && rendered.writable === writable) return;
    rendered = { text, writable };
    const fragment = renderMarkdown(bodyInput.value);
    const boxes = [...fragment.querySelectorAll('input.task-box')];
    // Ticks are written back by position: when the renderer and the scan disagree (an
    // unusual nesting), the boxes only show and never edit the wrong line.
    const live = writable && boxes.length === taskOffsets(bodyInput.value).length;
    boxes.forEach((box, index) => {
      const item = box.closest('li');
      item?.classList.add('task');
      box.disabled = !live;
      box.setAttribute('aria-label', (item?.textContent ?? '').trim() || `Checklist item ${index + 1}`);
      box.addEventListener('change', () => {
        bodyInput.value = setTask(bodyInput.value, index, box.checked);
        bodyInput.dispatchEvent(new Event('input', { bubbles: true }));
      });
    });
    const empty = bodyInput.value.trim() ? null : h('p', { class: 'rendered-empty' }, 'Nothing written yet.');
    element.replaceChildren(fragment, empty ?? '');
  }

  // The mode shown: the one remembered, except that a new, empty note opens for writing.
  let writing = false;

  function show() {
    const preview = mode === 'preview' && !writing;
    element.hidden = !preview;
    bodyInput.hidden = preview;
    toggle.replaceChildren(icon(preview ? 'pencil' : 'eye'), h('span', { class: 'mode-text' }, preview ? 'Edit' : 'Preview'));
    toggle.setAttribute('aria-label', preview ? 'Edit' : 'Preview');
    toggle.title = preview ? 'Edit the Markdown text' : 'Show the note rendered';
    if (preview) render();
    else rendered = null;
  }

  toggle.addEventListener('click', () => {
    mode = mode === 'preview' && !writing ? 'edit' : 'preview';
    writing = false;
    localStorage.setItem(MODE_KEY, mode);
    show();
    if (mode === 'edit') bodyInput.focus();
  });
  // A double click on the text opens it for writing.
  element.addEventListener('dblclick', (event) => {
    if (!writable || event.target.closest('a, input')) return;
    toggle.click();
  });

  show();
  return {
    element,
    toggle,
    /**
     * After the body changed: `opened` a note was opened (`empty`: a new one, shown for
     * writing), or an edit came from elsewhere, or the note became read-only or writable.
     */
    refresh({ writable: canWrite = writable, opened = false, empty = false } = {}) {
      writable = canWrite;
      if (opened) writing = empty && writable;
      show();
    },
  };
}
