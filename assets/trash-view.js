// The Trash: notes deleted by you (or, in notebooks you may edit, by anyone) wait on the
// server for a while. Restore brings a note back to every device that may see it; Delete
// forever removes it and its history. Read over the API, never synced: it needs the server.

import { h, icon, replace } from './dom.js';
import { editsApi, explain } from './edits-api.js';
import { clipWords, fullTime, parseTime, relativeTime } from './format.js';
import { confirmDialog, showDialog } from './ui.js';

/** The sidebar button that opens the trash. */
export function createTrashButton(onOpen) {
  return h(
    'button',
    { class: 'nb-item trash-button', type: 'button', onclick: onOpen },
    icon('trash', 'nb-icon'),
    h('span', { class: 'nb-name' }, 'Trash'),
  );
}

/**
 * @param {{user: object, notebookName: (id: string) => string|null,
 *          onRestored: (id: string) => void}} options
 */
export function openTrashDialog({ user, notebookName, onRestored }) {
  const status = h('p', { class: 'panel-status', role: 'status' }, 'Loading the trash…');
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  // What was just done, inside the dialog: a toast would sit behind the modal.
  const done = h('div', { class: 'panel-done', role: 'status' });
  const list = h('ul', { class: 'trash-list', 'aria-label': 'Deleted notes' });
  const close = h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Close' }, icon('close'));
  const dialog = h(
    'dialog',
    { class: 'dialog panel-dialog trash-dialog', 'aria-labelledby': 'trash-title', 'aria-describedby': 'trash-intro' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'trash-title' }, 'Trash'), close),
    h('p', { id: 'trash-intro' }, 'Deleted notes wait here for a while before they are removed for good. Restore one to bring it back on every device.'),
    status,
    done,
    error,
    list,
  );
  let notes = [];

  function say(message, action) {
    replace(done, message ? h('span', {}, message) : null, action ? h('button', { class: 'button ghost', type: 'button', onclick: action.run }, action.label) : null);
  }

  function showError(message) {
    error.textContent = message ?? '';
    error.hidden = !message;
  }

  async function load() {
    try {
      ({ notes } = await editsApi.trash());
      render();
    } catch (err) {
      status.textContent = '';
      showError(explain(err));
    }
  }

  function render() {
    status.textContent = notes.length ? `${notes.length} deleted note${notes.length === 1 ? '' : 's'}` : 'The trash is empty.';
    const now = new Date();
    replace(list, notes.map((note) => item(note, now)));
  }

  function item(note, now) {
    const title = note.title?.trim() || 'Untitled';
    const deleted = parseTime(note.deleted_at);
    const by = note.deleted_by === user.id ? 'you' : note.deleted_by_name;
    const where = note.notebook_id ? notebookName(note.notebook_id) : null;
    const snippet = clipWords(note.body, 160);
    const headingId = `trash-${note.id}`;
    return h(
      'li',
      { class: 'trash-item', dataset: { id: note.id }, 'aria-labelledby': headingId },
      h('h3', { class: `trash-title${note.title?.trim() ? '' : ' untitled'}`, id: headingId }, title),
      snippet ? h('p', { class: 'trash-snippet' }, snippet) : null,
      h(
        'p',
        { class: 'trash-meta' },
        h('time', { datetime: deleted?.toISOString() ?? '', title: fullTime(deleted) }, `Deleted ${relativeTime(deleted, now)}`),
        by ? ` by ${by}` : '',
        where ? ` · from “${where}”` : '',
      ),
      h(
        'div',
        { class: 'trash-actions' },
        h('button', { class: 'button', type: 'button', 'aria-label': `Restore “${title}”`, onclick: () => restore(note) }, icon('restore'), h('span', {}, 'Restore')),
        h('button', { class: 'button ghost danger-text', type: 'button', 'aria-label': `Delete forever “${title}”`, onclick: () => purge(note) }, 'Delete forever'),
      ),
    );
  }

  /** Drops a note from the list and puts the focus on what took its place. */
  function drop(note) {
    const index = notes.findIndex((n) => n.id === note.id);
    notes = notes.filter((n) => n.id !== note.id);
    render();
    const next = list.querySelectorAll('.trash-item')[Math.min(index, notes.length - 1)];
    (next?.querySelector('button') ?? close).focus();
  }

  async function restore(note) {
    showError(null);
    say(null);
    try {
      await editsApi.restore(note.id);
    } catch (err) {
      return showError(explain(err));
    }
    drop(note);
    const name = note.title?.trim() ? `“${note.title.trim()}”` : 'Untitled note';
    say(`${name} restored.`, {
      label: 'Open it',
      run: () => {
        dialog.close();
        onRestored(note.id);
      },
    });
  }

  async function purge(note) {
    const name = note.title?.trim() ? `“${note.title.trim()}”` : 'this untitled note';
    const ok = await confirmDialog({
      title: `Delete ${name} forever?`,
      body: 'It and its earlier versions are removed from the server. This cannot be undone.',
      confirm: 'Delete forever',
      danger: true,
    });
    if (!ok) return;
    showError(null);
    say(null);
    try {
      await editsApi.deleteForever(note.id);
    } catch (err) {
      return showError(explain(err));
    }
    drop(note);
    say(`${name[0].toUpperCase()}${name.slice(1)} deleted forever.`);
  }

  close.addEventListener('click', () => dialog.close());
  showDialog(dialog, { focus: close });
  load();
  return dialog;
}
