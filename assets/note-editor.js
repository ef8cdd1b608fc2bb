// The editor's elements: its bar (back, "View only" badge, save state, notebook picker,
// delete), the title and body fields, the line saying who edited last and when, and the
// placeholder shown when no note is open. Behaviour (saving, following remote edits) stays
// with the notes view.

import { h, icon, replace } from './dom.js';
import { fullTime, parseTime, relativeTime } from './format.js';
import { createRenderedView } from './markdown.js';
import { explainImagePaste } from './paste-image.js';
import { sizeWarning } from './size-warning.js';

export function createEditorView() {
  const back = h('button', { class: 'icon-button back', type: 'button', 'aria-label': 'Back to notes' }, icon('back'));
  // Not a live region: it changes with every keystroke (editing, saving, saved).
  const saveState = h('span', { class: 'save-state' });
  const deleteButton = h(
    'button',
    { class: 'button ghost danger-text', type: 'button', 'aria-label': 'Delete note' },
    icon('trash'),
    h('span', { class: 'delete-text' }, 'Delete'),
  );
  const viewOnly = h(
    'span',
    { class: 'badge', hidden: true, title: 'You can read this notebook but not change it' },
    icon('lock'),
    'View only',
  );
  const moveSelect = h('select', { class: 'move-select', 'aria-label': 'Notebook of this note', title: 'Move to another notebook' });
  // A textarea, so a long title wraps (on a phone above all) instead of being cut.
  const titleInput = h('textarea', { class: 'title-input', rows: 1, placeholder: 'Untitled', 'aria-label': 'Title', maxlength: 1000, spellcheck: 'true' });
  titleInput.addEventListener('input', () => {
    if (!/[\r\n]/.test(titleInput.value)) return;
    const at = titleInput.selectionStart;
    titleInput.value = titleInput.value.replace(/\r?\n|\r/g, ' ');
    titleInput.setSelectionRange(at, at);
  });
  const bodyInput = h('textarea', { class: 'body-input', placeholder: 'Start writing…', 'aria-label': 'Note' });
  const bodySize = sizeWarning(bodyInput);
  const rendered = createRenderedView(bodyInput, { h, icon });
  const pasteNotice = explainImagePaste(bodyInput);
  const meta = h('p', { class: 'editor-meta' });
  const editor = h(
    'article',
    { class: 'editor', hidden: true, 'aria-label': 'Editor' },
    h('div', { class: 'editor-bar' }, back, viewOnly, saveState, h('span', { class: 'spacer' }), rendered.toggle, moveSelect, deleteButton),
    h('div', { class: 'editor-sheet' }, titleInput, bodyInput, rendered.element, pasteNotice, bodySize.el, meta),
  );
  const placeholder = h(
    'div',
    { class: 'placeholder' },
    h('div', { class: 'placeholder-art', 'aria-hidden': 'true' }, icon('note')),
    h('h2', {}, 'Pick a note, or start a new one'),
    h(
      'p',
      { class: 'muted' },
      'Everything saves as you type and syncs when you are online. ',
      h('kbd', {}, 'N'),
      ' new note · ',
      h('kbd', {}, '/'),
      ' search',
    ),
  );

  return {
    editor,
    placeholder,
    back,
    titleInput,
    bodyInput,
    deleteButton,
    moveSelect,

    setSaveState(state) {
      saveState.dataset.state = state;
      saveState.textContent = {
        editing: 'Editing…',
        saving: 'Saving…',
        saved: 'Saved on this device',
        error: 'Could not save',
        refused: 'Not saved: the server refused it (see above)',
      }[state] ?? '';
    },

    /** The notebook picker: `targets` [{id, name}] ('' is Personal), `selected` the note's. */
    setMoveTargets(targets, selected, enabled) {
      replace(moveSelect, targets.map((t) => h('option', { value: t.id, selected: t.id === selected }, t.name || 'Untitled notebook')));
      // A viewer's note goes nowhere: no picker at all rather than a dead one.
      moveSelect.hidden = !enabled || targets.length < 2;
    },

    /** Viewers get a read-only editor with a badge, and no delete. */
    setWritable(writable) {
      titleInput.readOnly = bodyInput.readOnly = !writable;
      viewOnly.hidden = writable;
      deleteButton.hidden = !writable;
      saveState.hidden = !writable;
      editor.classList.toggle('read-only', !writable);
      rendered.refresh({ writable });
    },

    /**
     * Shows `row`; without `force` a field already holding the value is left alone, and the
     * caret of a focused field stays where it was. `by`: who edited last ("you", a name).
     */
    fill(row, { force = false, by = null } = {}) {
      for (const [input, value] of [[titleInput, row.title ?? ''], [bodyInput, row.body ?? '']]) {
        if (!force && input.value === value) continue;
        const focused = document.activeElement === input;
        const { selectionStart, selectionEnd } = input;
        input.value = value;
        if (focused) input.setSelectionRange(Math.min(selectionStart, value.length), Math.min(selectionEnd, value.length));
      }
      const created = parseTime(row.created_at);
      const updated = parseTime(row.updated_at);
      bodySize.update();
      rendered.refresh({ opened: force, empty: !row.title && !row.body });
      meta.textContent = [
        updated ? `Edited ${relativeTime(updated)}${by ? ` by ${by}` : ''}` : null,
        created ? `created ${fullTime(created)}` : null,
      ].filter(Boolean).join(' · ');
      meta.title = updated ? `Last edit: ${fullTime(updated)}` : '';
    },
  };
}
