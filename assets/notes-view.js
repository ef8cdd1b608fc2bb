// The signed-in app: notes list with search, editor with autosave, delete with undo,
// sync status, refused-changes banner, logout. All reads are live queries on the local
// database; all writes go to it too, and the SDK uploads them when it can.

import { connect, NoteboxConnector, openDatabase } from './db.js';
import { logo } from './auth-view.js';
import { debounce, h, icon, replace } from './dom.js';
import { fullTime, nowIso, parseTime, plural, relativeTime, uuid } from './format.js';
import { sizeWarning } from './size-warning.js';
import { createRejectionsBanner, createSyncStatus } from './sync-view.js';
import { confirmDialog, createToaster } from './ui.js';

const SAVE_DELAY_MS = 400;
const NOTE_PATH = /^\/notes\/([0-9a-f-]{36})\/?$/;

export async function startNotes(root, user, hooks) {
  const db = openDatabase(user.id);
  await db.init();
  const connector = new NoteboxConnector({ onSessionEnded: () => hooks.onSessionEnded() });
  connect(db, connector).catch((error) => console.warn('PowerSync connect failed', error));

  const abort = new AbortController();
  const { signal } = abort;
  const sync = createSyncStatus(db, signal);

  // ---- layout ------------------------------------------------------------------------
  const search = h('input', {
    class: 'search-input',
    type: 'search',
    placeholder: 'Search notes',
    'aria-label': 'Search notes',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const newButton = h(
    'button',
    { class: 'button primary new-note', type: 'button', title: 'New note (N)', 'aria-label': 'New note' },
    icon('plus'),
    h('span', {}, 'New note'),
  );
  const listCount = h('p', { class: 'list-count', 'aria-live': 'polite' });
  const list = h('ul', { class: 'note-list', 'aria-label': 'Notes' });
  const listEmpty = h('div', { class: 'list-empty', hidden: true });

  const back = h(
    'button',
    { class: 'icon-button back', type: 'button', 'aria-label': 'Back to notes' },
    icon('back'),
  );
  const saveState = h('span', { class: 'save-state', role: 'status' });
  const deleteButton = h(
    'button',
    { class: 'button ghost danger-text', type: 'button' },
    icon('trash'),
    h('span', {}, 'Delete'),
  );
  const titleInput = h('input', {
    class: 'title-input',
    type: 'text',
    placeholder: 'Untitled',
    'aria-label': 'Title',
    maxlength: 1000,
  });
  const bodyInput = h('textarea', {
    class: 'body-input',
    placeholder: 'Start writing…',
    'aria-label': 'Note',
  });
  const bodySize = sizeWarning(bodyInput);
  const meta = h('p', { class: 'editor-meta' });
  const editor = h(
    'article',
    { class: 'editor', hidden: true, 'aria-label': 'Editor' },
    h('div', { class: 'editor-bar' }, back, saveState, h('span', { class: 'spacer' }), deleteButton),
    h('div', { class: 'editor-sheet' }, titleInput, bodyInput, bodySize.el, meta),
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

  const logoutButton = h(
    'button',
    { class: 'button ghost logout', type: 'button', title: `Log out ${user.email}`, 'aria-label': 'Log out' },
    icon('logout'),
    h('span', { class: 'logout-text' }, 'Log out'),
  );
  const banner = createRejectionsBanner(db, signal, { onOpenNote: (id) => navigate(id) });
  const toastRegion = h('div', { class: 'toast-region' });
  const toaster = createToaster(toastRegion);

  const workspace = h(
    'div',
    { class: 'workspace', dataset: { view: 'list' } },
    h(
      'aside',
      { class: 'sidebar', 'aria-label': 'Notes list' },
      h(
        'div',
        { class: 'sidebar-tools' },
        h('div', { class: 'search' }, icon('search', 'search-icon'), search),
        newButton,
      ),
      listCount,
      list,
      listEmpty,
    ),
    h('main', { class: 'editor-pane' }, editor, placeholder),
  );
  replace(
    root,
    h(
      'div',
      { class: 'app' },
      h(
        'header',
        { class: 'topbar' },
        h('div', { class: 'brand' }, logo(), h('span', {}, 'notebox')),
        sync.element,
        h(
          'div',
          { class: 'account' },
          h('span', { class: 'who', title: user.email }, user.display_name || user.email),
          logoutButton,
        ),
      ),
      banner.element,
      workspace,
      toastRegion,
    ),
  );

  // ---- notes list --------------------------------------------------------------------
  let selectedId = null;
  let rows = [];
  let query = '';
  let listWatch = null;

  function watchList() {
    listWatch?.abort();
    listWatch = new AbortController();
    signal.addEventListener('abort', () => listWatch.abort(), { once: true });
    const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    db.watch(
      `SELECT id, title, substr(body, 1, 400) AS snippet, updated_at
         FROM notes
        WHERE ?1 = '' OR title LIKE ?2 ESCAPE '\\' OR body LIKE ?2 ESCAPE '\\'
        ORDER BY coalesce(julianday(replace(updated_at, ' ', 'T')), 0) DESC, updated_at DESC, id`,
      [query, pattern],
      { onResult: (result) => renderList(result.rows?._array ?? []), onError: (e) => console.error(e) },
      { signal: listWatch.signal, throttleMs: 30 },
    );
  }

  function renderList(next) {
    rows = next;
    const focusedId = document.activeElement?.closest?.('.note-item')?.dataset.id;
    const now = new Date();
    replace(
      list,
      rows.map((row) => {
        const title = row.title?.trim() || 'Untitled';
        const when = parseTime(row.updated_at);
        return h(
          'li',
          {},
          h(
            'a',
            {
              class: `note-item${row.title?.trim() ? '' : ' untitled'}`,
              href: `/notes/${row.id}`,
              dataset: { id: row.id },
              'aria-current': row.id === selectedId ? 'page' : null,
            },
            h('span', { class: 'note-title' }, highlight(title, query)),
            h('time', { class: 'note-time', datetime: when?.toISOString() ?? '', title: fullTime(when) }, relativeTime(when, now)),
            h('span', { class: 'note-snippet' }, highlight(snippetOf(row.snippet, query), query)),
          ),
        );
      }),
    );
    if (focusedId) list.querySelector(`[data-id="${focusedId}"]`)?.focus();
    listCount.textContent = query
      ? `${plural(rows.length, 'match', 'matches')} for “${query}”`
      : plural(rows.length, 'note');
    renderEmpty();
  }

  function renderEmpty() {
    listEmpty.hidden = rows.length > 0;
    if (rows.length > 0) return;
    if (query) {
      replace(listEmpty, h('p', { class: 'empty-title' }, 'No matches'), h('p', { class: 'muted' }, `Nothing in your notes mentions “${query}”.`));
    } else {
      replace(
        listEmpty,
        h('div', { class: 'empty-art', 'aria-hidden': 'true' }, icon('note')),
        h('p', { class: 'empty-title' }, 'No notes yet'),
        h('p', { class: 'muted' }, 'Your first note is one click away. It will be on all your devices, even offline.'),
        h('button', { class: 'button primary', type: 'button', onclick: createNote }, icon('plus'), h('span', {}, 'Write your first note')),
      );
    }
  }

  list.addEventListener('click', (event) => {
    const item = event.target.closest('.note-item');
    if (!item || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(item.dataset.id);
  });
  list.addEventListener('keydown', (event) => {
    const item = event.target.closest('.note-item');
    if (!item) return;
    const items = [...list.querySelectorAll('.note-item')];
    const index = items.indexOf(item);
    if (event.key === 'ArrowDown' && index < items.length - 1) {
      event.preventDefault();
      items[index + 1].focus();
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      (index > 0 ? items[index - 1] : search).focus();
    } else if (event.key === 'Delete') {
      event.preventDefault();
      deleteNote(item.dataset.id);
    }
  });

  const runSearch = debounce(() => {
    query = search.value.trim();
    watchList();
  }, 60);
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      list.querySelector('.note-item')?.focus();
    } else if (event.key === 'Enter') {
      runSearch.flush();
      const first = list.querySelector('.note-item');
      if (first) navigate(first.dataset.id, { focus: 'body' });
    } else if (event.key === 'Escape' && search.value) {
      search.value = '';
      runSearch.flush();
    }
  });

  // ---- editor ------------------------------------------------------------------------
  let current = null; // {id, owner_id, created_at, ...} as last read
  let editVersion = 0;
  let savedVersion = 0;
  let noteWatch = null;
  const createdHere = new Set();
  const deleting = new Set(); // deleted here: their disappearance is no surprise
  const inserts = new Map(); // id → the pending INSERT of a note created here

  const dirty = () => editVersion !== savedVersion;

  const save = debounce(() => persist(), SAVE_DELAY_MS);

  async function persist() {
    if (!current || !dirty()) return;
    const version = editVersion;
    const id = current.id;
    const values = [titleInput.value, bodyInput.value, nowIso(), id];
    setSaveState('saving');
    try {
      await inserts.get(id);
      await db.execute('UPDATE notes SET title = ?, body = ?, updated_at = ? WHERE id = ?', values);
      if (current?.id === id) {
        savedVersion = Math.max(savedVersion, version);
        setSaveState(dirty() ? 'editing' : 'saved');
      }
      sync.refreshWaiting();
    } catch (error) {
      console.error(error);
      setSaveState('error');
    }
  }

  function setSaveState(state) {
    saveState.dataset.state = state;
    saveState.textContent = {
      editing: 'Editing…',
      saving: 'Saving…',
      saved: 'Saved on this device',
      error: 'Could not save',
    }[state] ?? '';
  }

  function onEdit() {
    editVersion += 1;
    setSaveState('editing');
    save();
    if (document.title !== docTitle(titleInput.value)) document.title = docTitle(titleInput.value);
  }
  titleInput.addEventListener('input', onEdit);
  bodyInput.addEventListener('input', onEdit);
  titleInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || (event.key === 'ArrowDown' && titleInput.selectionStart === titleInput.value.length)) {
      event.preventDefault();
      bodyInput.focus();
      bodyInput.setSelectionRange(0, 0);
    }
  });
  for (const input of [titleInput, bodyInput]) input.addEventListener('blur', () => save.flush());

  /**
   * Switches the editor to `id` (null: none). The note being left is saved first; its
   * field values are captured synchronously, so typing right after a switch never lands
   * in the wrong note.
   */
  async function open(id, { focus } = {}) {
    if (current?.id === id && id) return;
    const leaving = leaveCurrent();
    selectedId = id;
    markSelected();
    if (!id) {
      editor.hidden = true;
      placeholder.hidden = false;
      workspace.dataset.view = 'list';
      document.title = 'notebox';
      return leaving;
    }
    const row = await db.getOptional('SELECT * FROM notes WHERE id = ?', [id]);
    if (selectedId !== id) return; // another navigation won meanwhile
    if (!row) {
      toaster.show('That note does not exist (any more).');
      return navigate(null, { replace: true });
    }
    show(row, { focus });
    watchNote(id);
  }

  function show(row, { focus } = {}) {
    current = row;
    editVersion = savedVersion = 0;
    fill(row, true);
    setSaveState(createdHere.has(row.id) ? '' : 'saved');
    editor.hidden = false;
    placeholder.hidden = true;
    workspace.dataset.view = 'editor';
    if (focus === 'title') titleInput.focus();
    else if (focus === 'body') bodyInput.focus();
  }

  function fill(row, force) {
    for (const [input, value] of [[titleInput, row.title ?? ''], [bodyInput, row.body ?? '']]) {
      if (!force && input.value === value) continue;
      const focused = document.activeElement === input;
      const { selectionStart, selectionEnd } = input;
      input.value = value;
      if (focused) input.setSelectionRange(Math.min(selectionStart, value.length), Math.min(selectionEnd, value.length));
    }
    bodySize.update();
    const created = parseTime(row.created_at);
    const updated = parseTime(row.updated_at);
    meta.textContent = [
      updated ? `Edited ${relativeTime(updated)}` : null,
      created ? `created ${fullTime(created)}` : null,
    ].filter(Boolean).join(' · ');
    meta.title = updated ? `Last edit: ${fullTime(updated)}` : '';
    document.title = docTitle(row.title);
  }

  /** Follows the open note: changes from other devices show up while you are not typing. */
  function watchNote(id) {
    noteWatch?.abort();
    noteWatch = new AbortController();
    const mine = noteWatch;
    signal.addEventListener('abort', () => mine.abort(), { once: true });
    db.watch('SELECT * FROM notes WHERE id = ?', [id], {
      onResult: (result) => {
        if (mine.signal.aborted || current?.id !== id) return;
        const row = result.rows?._array?.[0];
        if (!row) {
          current = null;
          if (!deleting.has(id)) explainDisappearance(id);
          return navigate(null, { replace: true });
        }
        current = row;
        if (!dirty() && !save.pending()) fill(row, false);
      },
      onError: (e) => console.error(e),
    }, { signal: mine.signal, throttleMs: 30 });
  }

  /** The open note vanished: refused by the server (see the banner), or deleted elsewhere. */
  async function explainDisappearance(id) {
    const refused = await db.getOptional('SELECT 1 FROM upload_rejections WHERE row_id = ?', [id]);
    toaster.show(
      refused
        ? 'The server refused this note, so it was removed from this device.'
        : 'This note was deleted on another device.',
    );
  }

  /**
   * Saves what is pending; a new note left empty is removed rather than kept as clutter.
   * Everything it reads from the editor is read before its first await.
   */
  function leaveCurrent() {
    if (!current) return Promise.resolve();
    save.cancel();
    const saving = persist();
    noteWatch?.abort();
    const id = current.id;
    const empty = createdHere.has(id) && !titleInput.value.trim() && !bodyInput.value.trim();
    createdHere.delete(id);
    current = null;
    if (!empty) return saving;
    deleting.add(id);
    return saving.then(() => inserts.get(id)).then(() => db.execute('DELETE FROM notes WHERE id = ?', [id]));
  }

  function markSelected() {
    for (const item of list.querySelectorAll('.note-item')) {
      if (item.dataset.id === selectedId) item.setAttribute('aria-current', 'page');
      else item.removeAttribute('aria-current');
    }
  }

  async function createNote() {
    const now = nowIso();
    const row = { id: uuid(), owner_id: user.id, title: '', body: '', created_at: now, updated_at: now };
    if (search.value) {
      search.value = '';
      runSearch.flush();
    }
    const leaving = leaveCurrent();
    createdHere.add(row.id);
    history.pushState({}, '', `/notes/${row.id}`);
    selectedId = row.id;
    show(row, { focus: 'title' });
    const insert = leaving.then(() =>
      db.execute(
        'INSERT INTO notes (id, owner_id, title, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        [row.id, row.owner_id, row.title, row.body, row.created_at, row.updated_at],
      ),
    );
    inserts.set(row.id, insert);
    await insert;
    inserts.delete(row.id);
    markSelected();
    if (current?.id === row.id) watchNote(row.id);
    sync.refreshWaiting();
  }
  newButton.addEventListener('click', createNote);

  async function deleteNote(id) {
    const row = await db.getOptional('SELECT * FROM notes WHERE id = ?', [id]);
    if (!row) return;
    if (current?.id === id) {
      save.cancel();
      if (dirty()) {
        row.title = titleInput.value;
        row.body = bodyInput.value;
      }
    }
    const index = rows.findIndex((r) => r.id === id);
    deleting.add(id);
    createdHere.delete(id);
    await db.execute('DELETE FROM notes WHERE id = ?', [id]);
    if (current?.id === id) {
      noteWatch?.abort();
      current = null;
      await navigate(null);
    }
    sync.refreshWaiting();
    const neighbour = list.querySelectorAll('.note-item')[Math.max(0, Math.min(index, rows.length - 1))];
    (neighbour ?? search).focus();
    const name = row.title?.trim() ? `“${row.title.trim()}”` : 'Untitled note';
    toaster.show(`${name} deleted`, {
      action: 'Undo',
      onAction: async () => {
        await db.execute(
          'INSERT INTO notes (id, owner_id, title, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
          [row.id, row.owner_id, row.title ?? '', row.body ?? '', row.created_at, nowIso()],
        );
        deleting.delete(row.id);
        sync.refreshWaiting();
        navigate(row.id);
      },
    });
  }
  deleteButton.addEventListener('click', () => current && deleteNote(current.id));

  // ---- navigation (URL = /notes/<id>, so Back works and a note can be bookmarked) -----
  async function navigate(id, { replace: replaceState = false, focus } = {}) {
    const path = id ? `/notes/${id}` : '/';
    if (location.pathname !== path) history[replaceState ? 'replaceState' : 'pushState']({}, '', path);
    await open(id, { focus });
  }
  back.addEventListener('click', async () => {
    const id = current?.id;
    await navigate(null);
    const item = id && list.querySelector(`[data-id="${id}"]`);
    (item || search).focus();
  });
  window.addEventListener('popstate', () => open(location.pathname.match(NOTE_PATH)?.[1] ?? null), { signal });

  // ---- keyboard ----------------------------------------------------------------------
  document.addEventListener(
    'keydown',
    (event) => {
      if (document.querySelector('dialog[open]')) return;
      const typing = event.target.closest?.('input, textarea, [contenteditable]');
      const mod = event.ctrlKey || event.metaKey;
      if (mod && event.key.toLowerCase() === 's') {
        event.preventDefault();
        save.flush();
      } else if (mod && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        search.focus();
        search.select();
      } else if (!typing && !mod && !event.altKey && event.key === '/') {
        event.preventDefault();
        search.focus();
      } else if ((!typing && !mod && event.key.toLowerCase() === 'n') || (event.altKey && event.key.toLowerCase() === 'n')) {
        event.preventDefault();
        createNote();
      } else if (event.key === 'Escape' && current && editor.contains(event.target)) {
        back.click();
      }
    },
    { signal },
  );

  // Leaving the page: write what is pending (the write is local and fast).
  window.addEventListener('pagehide', () => save.flush(), { signal });
  document.addEventListener('visibilitychange', () => document.hidden && save.flush(), { signal });

  // Refresh relative times now and then.
  const clock = setInterval(() => renderList(rows), 60000);
  signal.addEventListener('abort', () => clearInterval(clock));

  // ---- logout ------------------------------------------------------------------------
  logoutButton.addEventListener('click', async () => {
    save.flush();
    await sync.refreshWaiting();
    const waiting = sync.waiting();
    const ok = await confirmDialog({
      title: 'Log out?',
      body:
        waiting > 0
          ? `${plural(waiting, 'change')} on this device ${waiting === 1 ? 'has' : 'have'} not reached the server yet and will be lost. Notes on this device are removed when you log out.`
          : 'Notes on this device are removed when you log out. They stay safe on the server.',
      confirm: 'Log out',
      danger: waiting > 0,
    });
    if (!ok) return;
    logoutButton.disabled = true;
    try {
      await hooks.onLogout();
    } catch (error) {
      logoutButton.disabled = false;
      toaster.show(`Could not log out: ${error.message}`);
    }
  });

  // ---- start -------------------------------------------------------------------------
  watchList();
  const initial = location.pathname.match(NOTE_PATH)?.[1] ?? null;
  if (initial) await open(initial);
  else if (location.pathname !== '/') history.replaceState({}, '', '/');

  async function stop() {
    save.flush();
    await leaveCurrent().catch(() => {});
    abort.abort();
    await db.disconnect().catch(() => {});
    await db.close().catch(() => {});
  }

  return {
    stop,
    /** Logout: forget everything this device holds for the user. */
    async clear() {
      save.cancel();
      abort.abort();
      await db.disconnectAndClear();
      await db.close().catch(() => {});
    },
  };
}

function docTitle(title) {
  const t = (title ?? '').trim();
  return t ? `${t} · notebox` : 'notebox';
}

/** Around the first match of the query, so a hit deep in the body is visible in the list. */
function snippetOf(text, query) {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  if (!query) return flat.slice(0, 160);
  const at = flat.toLowerCase().indexOf(query.toLowerCase());
  if (at < 40) return flat.slice(0, 160);
  return `…${flat.slice(at - 30, at + 130)}`;
}

/** Text with every case-insensitive occurrence of `query` wrapped in <mark>. */
function highlight(text, query) {
  if (!query) return text;
  const parts = [];
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
    parts.push(text.slice(from, at), h('mark', {}, text.slice(at, at + needle.length)));
    from = at + needle.length;
  }
  parts.push(text.slice(from));
  return parts;
}
