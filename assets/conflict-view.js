// "Edited in two places at once": when two edits changed the same lines of a note, the
// server keeps the one that arrived first in the note and the other as a note_conflicts row
// (synced to everyone who sees the note). The editor shows a notice while such a row exists;
// the dialog puts both versions side by side and settles it: keep this, keep the other,
// keep both (the other becomes a new note beside it) or merge by hand.

import { ApiError } from './api.js';
import { h, icon, replace } from './dom.js';
import { editsApi, explain } from './edits-api.js';
import { fullTime, parseTime, relativeTime, uuid } from './format.js';
import { showDialog } from './ui.js';

/** The mark on a note in the list while it has an edit to settle. */
export function conflictBadge() {
  return h('span', { class: 'badge conflict-badge', title: 'Edited in two places at once: open the note to compare' }, icon('split'), 'Two versions');
}

/**
 * The notice above the open note's text.
 * @param {{onOpen: (conflicts: object[]) => void}} hooks
 */
export function createConflictNotice(db, signal, { onOpen }) {
  let conflicts = [];
  let watch = null;
  const text = h('p', { class: 'notice-text' });
  const review = h('button', { class: 'button conflict-review', type: 'button', onclick: () => onOpen(conflicts) }, 'Compare versions');
  const element = h(
    'div',
    { class: 'conflict-notice', role: 'status', hidden: true },
    icon('split', 'notice-icon'),
    text,
    review,
  );

  function render() {
    element.hidden = conflicts.length === 0;
    if (!conflicts.length) return;
    const what = conflicts.length === 1 ? 'another version of this note is' : `${conflicts.length} other versions of this note are`;
    replace(text, h('strong', {}, 'Edited in two places at once: '), `${what} waiting. Nothing was lost.`);
  }

  return {
    element,
    /** Follows the conflicts of note `id` (null: none). */
    follow(id) {
      watch?.abort();
      conflicts = [];
      render();
      if (!id) return;
      watch = new AbortController();
      const mine = watch;
      signal.addEventListener('abort', () => mine.abort(), { once: true });
      db.watch(
        'SELECT * FROM note_conflicts WHERE note_id = ? ORDER BY created_at, id',
        [id],
        {
          onResult: (result) => {
            if (mine.signal.aborted) return;
            conflicts = result.rows?._array ?? [];
            render();
          },
          onError: (e) => console.error(e),
        },
        { signal: mine.signal, throttleMs: 30 },
      );
    },
    /** The conflicts of the followed note, as last read. */
    current: () => conflicts,
  };
}

/**
 * The conflict dialog for the first of `conflicts` (the rest follow once it is settled).
 * @param {{note: object, conflicts: object[], writable: boolean, personName: (id) => string|null,
 *          toaster: object, onBoth: (newNoteId: string) => void}} options
 */
export function openConflictDialog({ note, conflicts, writable, personName, toaster, onBoth }) {
  const queue = [...conflicts];
  const intro = h('p', { id: 'conflict-intro' });
  const sides = h('div', { class: 'conflict-sides' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const mergeInput = h('textarea', { id: 'conflict-merge', class: 'merge-input', rows: 8 });
  const saveMerge = h('button', { class: 'button primary', type: 'button' }, 'Save merged text');
  const cancelMerge = h('button', { class: 'button', type: 'button' }, 'Cancel');
  const merge = h(
    'div',
    { class: 'conflict-merge', hidden: true },
    h('label', { for: 'conflict-merge' }, 'Merged text'),
    h('p', { class: 'hint', id: 'conflict-merge-hint' }, 'Both versions are below, one after the other. Edit them into the text you want.'),
    mergeInput,
    h('div', { class: 'dialog-actions' }, cancelMerge, saveMerge),
  );
  mergeInput.setAttribute('aria-describedby', 'conflict-merge-hint');
  const keepThis = h('button', { class: 'button', type: 'button' }, 'Keep this');
  const keepOther = h('button', { class: 'button', type: 'button' }, 'Keep the other');
  const keepBoth = h('button', { class: 'button', type: 'button' }, 'Keep both');
  const byHand = h('button', { class: 'button primary', type: 'button' }, icon('pencil'), h('span', {}, 'Merge by hand'));
  const choices = h('div', { class: 'dialog-actions conflict-actions' }, keepThis, keepOther, keepBoth, byHand);
  const viewerHint = h('p', { class: 'hint', hidden: writable }, 'You can only view this notebook: an owner or editor can choose which version to keep.');
  const dialog = h(
    'dialog',
    { class: 'dialog panel-dialog conflict-dialog', 'aria-labelledby': 'conflict-title', 'aria-describedby': 'conflict-intro' },
    h(
      'div',
      { class: 'panel-head' },
      h('h2', { id: 'conflict-title' }, 'Edited in two places at once'),
      h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Close', onclick: () => dialog.close() }, icon('close')),
    ),
    intro,
    sides,
    merge,
    error,
    viewerHint,
    choices,
  );
  choices.hidden = !writable;

  function showError(message) {
    error.textContent = message ?? '';
    error.hidden = !message;
  }

  function render() {
    const conflict = queue[0];
    const column = conflict.column_name === 'title' ? 'title' : 'text';
    const name = note.title?.trim() ? `“${note.title.trim()}”` : 'this untitled note';
    const when = parseTime(conflict.created_at);
    const who = personName(conflict.created_by);
    const lines = column === 'title' ? '' : ', on the same lines';
    intro.textContent = `The ${column} of ${name} was changed in two places before they could sync${lines}. ` +
      'The note shows the version that reached the server first; the other one is kept here until you choose.' +
      (queue.length > 1 ? ` (${queue.length} to settle.)` : '');
    replace(
      sides,
      side('conflict-this', 'This version', 'In the note now', conflict.kept_text, conflict.base_text),
      side(
        'conflict-other',
        'The other version',
        [who ? `By ${who}` : 'Edited elsewhere', when ? ` · ${relativeTime(when)}` : ''].join(''),
        conflict.their_text,
        conflict.base_text,
        when ? fullTime(when) : '',
      ),
    );
    merge.hidden = true;
    choices.hidden = !writable;
    dialog.classList.remove('merging');
    showError(null);
  }

  async function settle(keep, extra = {}) {
    const conflict = queue[0];
    showError(null);
    for (const button of dialog.querySelectorAll('button')) button.disabled = true;
    try {
      await editsApi.resolve(conflict.note_id, conflict.id, { keep, ...extra });
    } catch (err) {
      // Settled meanwhile (on another device, by someone else): nothing left to do here.
      if (!(err instanceof ApiError && err.status === 404 && /settled/i.test(err.message))) {
        showError(explain(err));
        return;
      }
    } finally {
      for (const button of dialog.querySelectorAll('button')) button.disabled = false;
    }
    queue.shift();
    const message = {
      kept: 'Kept the version in the note',
      theirs: 'Kept the other version',
      both: 'Kept both: the other version is a new note',
      merged: 'Saved the merged text',
    }[keep];
    if (queue.length) {
      // A toast would sit behind the modal: say it here, and show the next one.
      render();
      intro.prepend(h('strong', {}, `${message}. `));
      return keepThis.focus();
    }
    dialog.close();
    toaster.show(message, keep === 'both' ? { action: 'Open it', onAction: () => onBoth(extra.new_note_id) } : {});
  }

  keepThis.addEventListener('click', () => settle('kept'));
  keepOther.addEventListener('click', () => settle('theirs'));
  keepBoth.addEventListener('click', () => settle('both', { new_note_id: uuid() }));
  byHand.addEventListener('click', () => {
    const { kept_text: kept, their_text: theirs, column_name: column } = queue[0];
    mergeInput.value = column === 'title' ? `${kept} / ${theirs}` : `${kept}\n\n${theirs}`;
    merge.hidden = false;
    choices.hidden = true;
    dialog.classList.add('merging');
    mergeInput.focus();
    mergeInput.setSelectionRange(0, 0);
  });
  cancelMerge.addEventListener('click', () => {
    merge.hidden = true;
    choices.hidden = false;
    dialog.classList.remove('merging');
    byHand.focus();
  });
  saveMerge.addEventListener('click', () => settle('merged', { text: mergeInput.value }));

  render();
  return showDialog(dialog, { focus: () => (writable ? keepThis : dialog.querySelector('.icon-button')) });
}

/** One version: a heading, who/when, and the text with lines not in the base marked. */
function side(id, heading, meta, text, base, metaTitle = '') {
  const baseLines = new Set((base ?? '').split('\n'));
  const lines = (text ?? '').split('\n').map((line) =>
    h('span', { class: baseLines.has(line) ? 'line' : 'line changed' }, line || '\u200b'),
  );
  return h(
    'section',
    { class: 'conflict-side', 'aria-labelledby': `${id}-heading` },
    h('h3', { id: `${id}-heading` }, heading),
    h('p', { class: 'conflict-meta', title: metaTitle }, meta),
    h('div', { class: 'conflict-text', tabindex: '0', role: 'group', 'aria-label': 'Text' }, text ? lines : h('em', { class: 'muted' }, 'Empty')),
  );
}
