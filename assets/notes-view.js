// The signed-in app: notebooks sidebar, notes list with search, editor with autosave
// (read-only for viewers), delete with undo, move between notebooks, sync status,
// refused-changes banner, logout. All reads are live queries on the local database; all
// writes go to it too, and the SDK uploads them when it can.

import { openDatabase } from './db.js';
import { createAccountMenu } from './account-menu.js';
import { debounce, h } from './dom.js';
import { attachEditSafety } from './edit-safety.js';
import { exportNotes } from './export.js';
import { nowIso, plural, uuid } from './format.js';
import { createEditorView } from './note-editor.js';
import { createFirstScreen } from './first-screen.js';
import { createNoteList } from './note-list.js';
import { createNewButton, createPinButton, renderNotesLayout } from './notes-layout.js';
import { startSession } from './notes-start.js';
import { createNotebookActions } from './notebook-actions.js';
import { createNotebooks } from './notebooks.js';
import { createLossNotice, createScopeBar, createSidebar } from './sidebar-view.js';
import { createRejectionsBanner, watchRefusals } from './sync-view.js';
import { bindShortcuts, createLogoutButton } from './shortcuts.js';
import { createToaster } from './ui.js';

const SAVE_DELAY_MS = 400;
const NOTE_PATH = /^\/notes\/([0-9a-f-]{36})\/?$/;

/**
 * @param hooks {onLogout, onSessionEnded, notebookId?: the notebook to show first, db?: the
 *   user's database, if it is already opening}
 */
export async function startNotes(root, user, hooks) {
  const db = hooks.db ?? openDatabase(user.id);
  const firstScreen = createFirstScreen(user.id);
  const abort = new AbortController();
  const { signal } = abort;
  const { sync, relogin, searchReady, listShown } = startSession(db, user, {
    signal,
    typing: () => [titleInput, bodyInput].includes(document.activeElement),
    onSwitchAccount: () => hooks.onSessionEnded(),
    onOpenFailed: (error) => toaster.show(`Could not open the notes on this device: ${error.message}`),
  });

  // ---- layout ------------------------------------------------------------------------
  const newButton = createNewButton();
  const noteList = createNoteList(db, signal, {
    onOpen: (id, options) => navigate(id, options),
    onDelete: (id) => deleteNote(id),
    onCreate: () => createNote(),
    onTogglePin: (id) => togglePin(id),
    ready: searchReady,
    firstScreen,
  });

  const { search } = noteList;
  noteList.firstLoad.then(listShown);
  const view = createEditorView();
  const { editor, placeholder, back, titleInput, bodyInput, deleteButton, moveSelect } = view;
  const pinButton = createPinButton();
  moveSelect.before(pinButton);

  const logoutButton = createLogoutButton(user, {
    pending: async () => {
      save.flush();
      await sync.refreshWaiting();
      return sync.waiting();
    },
    onLogout: () => hooks.onLogout(),
    onError: (error) => toaster.show(`Could not log out: ${error.message}`),
  });
  const banner = createRejectionsBanner(db, signal, { onOpenNote: (id) => navigate(id), toaster: { show: (...args) => toaster.show(...args) } });
  const toastRegion = h('div', { class: 'toast-region' });
  const toaster = createToaster(toastRegion);
  const notice = createLossNotice();

  // ---- notebooks ---------------------------------------------------------------------
  const SCOPE_KEY = `notebox.scope.${user.id}`;
  let scope = hooks.notebookId ?? localStorage.getItem(SCOPE_KEY) ?? null; // null: Personal
  const notebooks = createNotebooks(db, user, signal, { onLost: (nb) => notice.show(nb.name) });
  const actions = createNotebookActions({ db, notebooks, user, toaster, select: (id) => selectScope(id) });
  const sidebar = createSidebar({
    onSelect: (id) => selectScope(id, { focusList: true }),
    onCreate: actions.create,
    onExport: () =>
      exportNotes(db, user)
        .then((count) => toaster.show(`Exported ${plural(count, 'note')}.`))
        .catch((error) => toaster.show(`Could not export: ${error.message}`)),
    onClose: () => {
      workspace.dataset.view = 'list';
      search.focus();
    },
  });
  const scopeBar = createScopeBar({
    onShowNotebooks: () => {
      workspace.dataset.view = 'notebooks';
      sidebar.element.querySelector('[aria-current]')?.focus();
    },
    onShare: () => actions.share(scope),
    onRename: () => actions.rename(scope),
    onDelete: () => actions.remove(scope),
  });
  const edits = attachEditSafety({
    db, signal, user, notebooks, toaster, view, sidebar, current: () => current, flush: () => save.flush(), open: (id) => navigate(id),
  });

  const workspace = renderNotesLayout(root, {
    sidebar, scopeBar, search, newButton, listElements: noteList.elements, editor, placeholder, sync, banner, relogin, notice, toastRegion,
    account: [createAccountMenu(user, { onLogout: () => logoutButton.click() }).element, logoutButton],
  });

  // ---- notes list, scope -------------------------------------------------------------
  let selectedId = null;
  let scopeSeen = false; // the selected notebook was here once: its absence now means it is gone

  /** Shows a notebook's notes (null: Personal); a note of another notebook is closed. */
  function selectScope(id, { focusList = false } = {}) {
    scope = id ?? null;
    scopeSeen = Boolean(scope && notebooks.find(scope));
    if (scope) localStorage.setItem(SCOPE_KEY, scope);
    else localStorage.removeItem(SCOPE_KEY);
    renderScope();
    if (current && (current.notebook_id ?? null) !== scope) navigate(null);
    if (workspace.dataset.view === 'notebooks') workspace.dataset.view = 'list';
    if (focusList && !noteList.focusNote(0)) search.focus();
  }

  function renderScope() {
    const snapshot = notebooks.snapshot();
    const notebook = scope ? snapshot.notebooks.find((nb) => nb.id === scope) ?? null : null;
    const writable = !scope || ['owner', 'editor'].includes(notebook?.role);
    sidebar.render(snapshot, scope);
    scopeBar.render(notebook, { loading: Boolean(scope && !notebook) });
    noteList.setScope(scope, writable);
    newButton.disabled = !writable;
    newButton.title = writable ? 'New note (N)' : 'You can only view this notebook';
    if (current) renderAccess(current);
  }

  notebooks.subscribe(() => {
    if (scope && notebooks.find(scope)) scopeSeen = true;
    // The selected notebook is gone (removed, left, deleted): back to Personal.
    else if (scope && scopeSeen) return selectScope(null);
    renderScope();
  });
  // A notebook remembered (or just joined) but still missing after a full sync does not exist.
  // (Asked of the database: the notebooks watch may not have caught up with the sync yet.)
  db.waitForFirstSync({ signal })
    .then(async () => {
      const wanted = scope;
      if (wanted && !(await db.getOptional('SELECT 1 FROM notebooks WHERE id = ?', [wanted])) && scope === wanted) selectScope(null);
    })
    .catch(() => {});

  // ---- editor ------------------------------------------------------------------------
  let current = null; // {id, owner_id, created_at, ...} as last read
  let editVersion = 0;
  let savedVersion = 0;
  let noteWatch = null;
  const createdHere = new Set();
  const deleting = new Set(); // deleted here: their disappearance is no surprise
  const inserts = new Map(); // id → the pending INSERT of a note created here
  const writtenAt = new Map(); // id → updated_at of this device's last save

  const dirty = () => editVersion !== savedVersion;

  const save = debounce(() => persist(), SAVE_DELAY_MS);

  async function persist() {
    if (!current || !dirty()) return;
    const version = editVersion;
    const id = current.id;
    const values = [titleInput.value, bodyInput.value, nowIso(), id];
    const update = () => db.execute('UPDATE notes SET title = ?, body = ?, updated_at = ? WHERE id = ?', values);
    view.setSaveState('saving');
    try {
      const write = inserts.get(id)?.then(update) ?? update();
      noteList.showWritten(id, { ...current, title: values[0], body: values[1], updated_at: values[2] }, write);
      await write;
      writtenAt.set(id, values[2]);
      if (current?.id === id) {
        savedVersion = Math.max(savedVersion, version);
        view.setSaveState(dirty() ? 'editing' : 'saved');
      }
      sync.refreshWaiting();
    } catch (error) {
      console.error(error);
      view.setSaveState('error');
    }
  }

  function onEdit() {
    editVersion += 1;
    view.setSaveState('editing');
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
   * in the wrong note. Until the next note is read, the fields still hold the one left
   * and take no typing (it would belong to neither; `show` makes them writable again).
   */
  async function open(id, { focus } = {}) {
    if (current?.id === id && id) return;
    const leaving = leaveCurrent();
    selectedId = id;
    noteList.markSelected(id);
    if (!id) {
      editor.hidden = true;
      placeholder.hidden = false;
      workspace.dataset.view = 'list';
      document.title = 'notebox';
      return leaving;
    }
    titleInput.readOnly = bodyInput.readOnly = true;
    const row = await db.getOptional('SELECT * FROM notes WHERE id = ?', [id]);
    if (selectedId !== id) return; // another navigation won meanwhile
    if (!row) {
      toaster.show('That note does not exist (any more).');
      return navigate(null, { replace: true });
    }
    if ((row.notebook_id ?? null) !== scope) {
      scope = row.notebook_id ?? null;
      scopeSeen = true;
      renderScope();
    }
    show(row, { focus });
    watchNote(id);
  }

  function show(row, { focus } = {}) {
    current = row;
    renderPin(row);
    editVersion = savedVersion = 0;
    fill(row, true);
    renderAccess(row);
    edits.follow(row);
    view.setSaveState(createdHere.has(row.id) ? '' : 'saved');
    editor.hidden = false;
    placeholder.hidden = true;
    workspace.dataset.view = 'editor';
    if (focus === 'title') titleInput.focus();
    else if (focus === 'body') bodyInput.focus();
  }

  /** Viewers read: the editor is read-only with a badge, and nothing offers to change it. */
  function renderAccess(row) {
    const { writable, targets } = notebooks.accessTo(row);
    view.setWritable(writable);
    pinButton.hidden = !writable;
    view.setMoveTargets(targets, row.notebook_id ?? '', writable);
  }
  moveSelect.addEventListener('change', async () => {
    if (!current) return;
    save.flush();
    const id = current.id;
    const target = moveSelect.value || null;
    await actions.move(id, target);
    current = { ...current, notebook_id: target };
    scope = target;
    scopeSeen = true;
    renderScope();
    noteList.markSelected(id);
    sync.refreshWaiting();
  });

  function fill(row, force) {
    // Who, only where others can edit too. The server stamps updated_by; until it has, an
    // edit saved here (same updated_at as written) is ours.
    const mine = writtenAt.get(row.id) === row.updated_at;
    const by = row.notebook_id ? (mine ? 'you' : notebooks.personName(row.updated_by ?? row.owner_id)) : null;
    view.fill(row, { force, by });
    document.title = docTitle(row.title);
  }

  /** Follows the open note: changes from other devices show up while you are not typing. */
  function watchNote(id) {
    noteWatch?.abort();
    noteWatch = new AbortController();
    const mine = noteWatch;
    signal.addEventListener('abort', () => mine.abort(), { once: true });
    // Refused by the server: the editor says so instead of "Saved", until the next edit.
    watchRefusals(db, id, mine.signal, () => {
      if (current?.id === id && !dirty() && !save.pending()) view.setSaveState('refused');
    });
    db.watch('SELECT * FROM notes WHERE id = ?', [id], {
      onResult: (result) => {
        if (mine.signal.aborted || current?.id !== id) return;
        const row = result.rows?._array?.[0];
        if (!row) {
          const notebookId = current?.notebook_id ?? null;
          current = null;
          if (!deleting.has(id)) edits.explainDisappearance(id, notebookId);
          return navigate(null, { replace: true });
        }
        current = row;
        renderPin(row);
        if (!dirty() && !save.pending()) fill(row, false);
      },
      onError: (e) => console.error(e),
    }, { signal: mine.signal, throttleMs: 30 });
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
    const removal = saving.then(() => inserts.get(id)).then(() => db.execute('DELETE FROM notes WHERE id = ?', [id]));
    noteList.showWritten(id, null, removal);
    return removal;
  }

  async function createNote() {
    if (scope && !notebooks.canWrite(scope)) return;
    const now = nowIso();
    const row = { id: uuid(), owner_id: user.id, notebook_id: scope, title: '', body: '', created_at: now, updated_at: now, updated_by: user.id, pinned: 0 };
    noteList.clearSearch();
    const leaving = leaveCurrent();
    createdHere.add(row.id);
    history.pushState({}, '', `/notes/${row.id}`);
    selectedId = row.id;
    show(row, { focus: 'title' });
    const insert = leaving.then(() =>
      db.execute(
        'INSERT INTO notes (id, owner_id, notebook_id, title, body, created_at, updated_at, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, 0)',
        [row.id, row.owner_id, row.notebook_id, row.title, row.body, row.created_at, row.updated_at],
      ),
    );
    inserts.set(row.id, insert);
    noteList.showWritten(row.id, row, insert);
    await insert;
    inserts.delete(row.id);
    noteList.markSelected(selectedId);
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
    const index = noteList.indexOf(id);
    const fromEditor = current?.id === id;
    deleting.add(id);
    createdHere.delete(id);
    const removal = db.execute('DELETE FROM notes WHERE id = ?', [id]);
    noteList.showWritten(id, null, removal);
    await removal;
    if (current?.id === id) {
      noteWatch?.abort();
      current = null;
      await navigate(null);
    }
    sync.refreshWaiting();
    if (!noteList.focusNote(index)) search.focus();
    const name = row.title?.trim() ? `“${row.title.trim()}”` : 'Untitled note';
    toaster.show(`${name} deleted`, {
      action: 'Undo',
      // Undo puts the note back exactly as it was: same times, so the same place in the
      // list; focus goes back where the delete came from (the editor, or the list item).
      onAction: async () => {
        await db.execute(
          'INSERT INTO notes (id, owner_id, notebook_id, title, body, created_at, updated_at, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [row.id, row.owner_id, row.notebook_id, row.title ?? '', row.body ?? '', row.created_at, row.updated_at, row.pinned ? 1 : 0],
        );
        deleting.delete(row.id);
        sync.refreshWaiting();
        if (fromEditor) return navigate(row.id, { focus: 'body' });
        await poll(() => noteList.indexOf(row.id) >= 0);
        if (!noteList.focusNote(row.id)) search.focus();
      },
    });
  }
  deleteButton.addEventListener('click', () => current && deleteNote(current.id));

  // ---- pins ------------------------------------------------------------------------------
  /** Pinning is not an edit: the note keeps its place in "last edited" among the pinned. */
  async function togglePin(id) {
    const row = await db.getOptional('SELECT owner_id, notebook_id, pinned FROM notes WHERE id = ?', [id]);
    if (!row || !notebooks.accessTo(row).writable) return;
    await inserts.get(id);
    await db.execute('UPDATE notes SET pinned = ? WHERE id = ?', [row.pinned ? 0 : 1, id]);
    sync.refreshWaiting();
  }

  function renderPin(row) {
    const pinned = Boolean(row?.pinned);
    pinButton.setAttribute('aria-pressed', String(pinned));
  }
  pinButton.addEventListener('click', () => current && togglePin(current.id));

  // ---- navigation (URL = /notes/<id>, so Back works and a note can be bookmarked) -----
  async function navigate(id, { replace: replaceState = false, focus } = {}) {
    const path = id ? `/notes/${id}` : '/';
    if (location.pathname !== path) history[replaceState ? 'replaceState' : 'pushState']({}, '', path);
    await open(id, { focus });
  }
  back.addEventListener('click', async () => {
    const id = current?.id;
    await navigate(null);
    if (!(id && noteList.indexOf(id) >= 0 && noteList.focusNote(id))) search.focus();
  });
  window.addEventListener('popstate', () => open(location.pathname.match(NOTE_PATH)?.[1] ?? null), { signal });

  // ---- keyboard ----------------------------------------------------------------------
  bindShortcuts(signal, {
    save: () => save.flush(),
    search: (select) => {
      search.focus();
      if (select) search.select();
    },
    create: () => createNote(),
    escape: (target) => {
      if (current && editor.contains(target)) back.click();
      else if (workspace.dataset.view === 'notebooks') {
        workspace.dataset.view = 'list';
        search.focus();
      }
    },
  });

  // Leaving the page: write what is pending (the write is local and fast).
  window.addEventListener('pagehide', () => {
    save.flush();
    firstScreen.flush();
  }, { signal });
  document.addEventListener('visibilitychange', () => document.hidden && save.flush(), { signal });

  // ---- start -------------------------------------------------------------------------
  renderScope();
  if (hooks.message) toaster.show(hooks.message);
  const initial = location.pathname.match(NOTE_PATH)?.[1] ?? null;
  if (initial) open(initial).catch((error) => console.error(error));
  else if (location.pathname !== '/') history.replaceState({}, '', '/');

  async function stop() {
    save.flush();
    firstScreen.cancel();
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
      localStorage.removeItem(SCOPE_KEY);
      firstScreen.forget();
      await db.disconnectAndClear();
      await db.close().catch(() => {});
    },
  };
}

/** Resolves once `check()` is truthy, or after a second at most (a list re-render, say). */
async function poll(check, timeout = 1000) {
  const deadline = Date.now() + timeout;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

function docTitle(title) {
  const t = (title ?? '').trim();
  return t ? `${t} · notebox` : 'notebox';
}

