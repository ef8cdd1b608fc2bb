// A note's history: the earlier titles and bodies the server kept (one every so often while
// it is edited, and one before every merge, conflict settlement and restore), newest first,
// with a preview; restoring one makes it the note's text again (the text it replaces is kept
// as a version too). Read over the API, never synced: it needs the server.

import { ApiError } from './api.js';
import { h, icon, replace } from './dom.js';
import { editsApi, explain } from './edits-api.js';
import { fullTime, parseTime, relativeTime } from './format.js';
import { confirmDialog, showDialog } from './ui.js';

const REASONS = {
  merge: 'before a merge',
  conflict: 'before a conflict was settled',
  restore: 'before a restore',
};

/** The editor bar's History button. */
export function createHistoryButton(onOpen) {
  return h(
    'button',
    { class: 'button ghost history-button', type: 'button', 'aria-label': 'History', title: 'Earlier versions of this note', onclick: onOpen },
    icon('clock'),
    h('span', { class: 'history-text' }, 'History'),
  );
}

/**
 * @param {{note: object, writable: boolean, personName: (id: string) => string|null,
 *          beforeRestore: () => Promise, toaster: object}} options
 */
export function openHistoryPanel({ note, writable, personName, beforeRestore, toaster }) {
  const name = note.title?.trim() ? `“${note.title.trim()}”` : 'this untitled note';
  const status = h('p', { class: 'panel-status', role: 'status' }, 'Loading earlier versions…');
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const list = h('ul', { class: 'version-list', 'aria-label': 'Versions' });
  const preview = h('section', { class: 'version-preview', 'aria-label': 'Preview', hidden: true });
  const close = h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Close' }, icon('close'));
  const dialog = h(
    'dialog',
    { class: 'dialog panel-dialog history-dialog', 'aria-labelledby': 'history-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'history-title' }, `History of ${name}`), close),
    status,
    error,
    h('div', { class: 'history-body' }, list, preview),
  );
  let versions = [];
  let selected = null;

  function showError(message) {
    error.textContent = message ?? '';
    error.hidden = !message;
  }

  async function load() {
    try {
      ({ versions } = await editsApi.versions(note.id));
    } catch (err) {
      status.textContent = '';
      // A note made here that has not reached the server yet has no history there either.
      if (err instanceof ApiError && err.status === 404) versions = [];
      else return showError(explain(err));
    }
    status.textContent = versions.length
      ? `${versions.length} earlier version${versions.length === 1 ? '' : 's'}`
      : 'No earlier versions yet: notebox keeps them as the note changes.';
    const now = new Date();
    replace(list, versions.map((v) => item(v, now)));
    if (versions.length) select(versions[0], { focus: true });
  }

  function who(version) {
    return personName(version.created_by) ?? version.created_by_name ?? 'someone';
  }

  function item(version, now) {
    const when = parseTime(version.created_at);
    return h(
      'li',
      {},
      h(
        'button',
        { class: 'version-item', type: 'button', dataset: { id: String(version.id) }, onclick: () => select(version) },
        h('time', { class: 'version-time', datetime: when?.toISOString() ?? '', title: fullTime(when) }, relativeTime(when, now) || 'Unknown time'),
        h('span', { class: 'version-who' }, who(version)),
        REASONS[version.reason] ? h('span', { class: 'version-reason' }, REASONS[version.reason]) : null,
      ),
    );
  }

  function select(version, { focus = false } = {}) {
    selected = version;
    for (const button of list.querySelectorAll('.version-item')) {
      if (button.dataset.id === String(version.id)) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    const when = parseTime(version.created_at);
    const restore = h('button', { class: 'button primary', type: 'button', onclick: () => restoreSelected() }, icon('restore'), h('span', {}, 'Restore this version'));
    replace(
      preview,
      h('p', { class: 'version-meta' }, `Written ${fullTime(when)} by ${who(version)}`),
      h('h3', { class: `version-title${version.title?.trim() ? '' : ' untitled'}` }, version.title?.trim() || 'Untitled'),
      h('div', { class: 'version-text', tabindex: '0', role: 'group', 'aria-label': 'Text' }, version.body || h('em', { class: 'muted' }, 'Empty')),
      writable ? h('div', { class: 'dialog-actions' }, restore) : null,
    );
    preview.hidden = false;
    if (focus) list.querySelector('[aria-current]')?.focus();
  }

  async function restoreSelected() {
    const version = selected;
    const when = fullTime(parseTime(version.created_at));
    const ok = await confirmDialog({
      title: 'Restore this version?',
      body: `The note goes back to its text of ${when}. Its current text is kept in the history, so you can change your mind.`,
      confirm: 'Restore',
    });
    if (!ok) return;
    showError(null);
    try {
      await beforeRestore();
      await editsApi.restoreVersion(note.id, version.id);
    } catch (err) {
      return showError(explain(err));
    }
    dialog.close();
    toaster.show(`Restored the version of ${when}`);
  }

  close.addEventListener('click', () => dialog.close());
  showDialog(dialog, { focus: close });
  load();
  return dialog;
}
