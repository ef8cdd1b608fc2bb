// Notebooks and their members as the local database holds them: one live snapshot that the
// sidebar, the note list, the editor and the share dialog all read. Notebooks are written
// locally (they upload like notes); memberships only arrive through sync.

import { nowIso, uuid } from './format.js';

export const ROLES = {
  owner: 'Owner',
  editor: 'Can edit',
  viewer: 'View only',
};

/**
 * Watches notebooks, members and note counts. Subscribers get a snapshot on every change;
 * `onLost(notebook)` runs when a notebook the user could see is gone without them deleting
 * or leaving it here (they were removed, or its owner deleted it).
 */
export function createNotebooks(db, user, signal, { onLost }) {
  const listeners = new Set();
  let notebooks = [];
  let members = [];
  let personalCount = 0;
  const deletedHere = new Set();
  let ready = { notebooks: false, members: false };

  db.watch(
    `SELECT nb.id, nb.name, nb.created_by, nb.created_at,
            (SELECT count(*) FROM notes n WHERE n.notebook_id = nb.id) AS note_count
       FROM notebooks nb
      ORDER BY lower(nb.name), nb.created_at, nb.id`,
    [],
    { onResult: (r) => setNotebooks(r.rows?._array ?? []), onError: (e) => console.error(e) },
    { signal, throttleMs: 30 },
  );
  db.watch(
    `SELECT id, notebook_id, user_id, role, display_name, email, created_at
       FROM notebook_members ORDER BY created_at, id`,
    [],
    {
      onResult: (r) => {
        members = r.rows?._array ?? [];
        ready.members = true;
        emit();
      },
      onError: (e) => console.error(e),
    },
    { signal, throttleMs: 30 },
  );
  // The personal count must follow notes even when there are no notebooks.
  db.watch(
    'SELECT count(*) AS n FROM notes WHERE notebook_id IS NULL',
    [],
    {
      onResult: (r) => {
        personalCount = r.rows?._array?.[0]?.n ?? 0;
        emit();
      },
      onError: (e) => console.error(e),
    },
    { signal, throttleMs: 30 },
  );

  function setNotebooks(next) {
    const before = new Map(notebooks.map((nb) => [nb.id, nb]));
    notebooks = next;
    ready.notebooks = true;
    for (const nb of next) before.delete(nb.id);
    for (const [id, nb] of before) {
      if (deletedHere.delete(id)) continue;
      onLost?.(nb);
    }
    emit();
  }

  function emit() {
    if (!ready.notebooks || !ready.members) return;
    const now = snapshot();
    for (const listener of listeners) listener(now);
  }

  function membersOf(id) {
    return members.filter((m) => m.notebook_id === id);
  }

  /** My role: from my membership row, or "owner" for one created here and not yet synced back. */
  function roleIn(id) {
    if (!id) return 'owner';
    const mine = members.find((m) => m.notebook_id === id && m.user_id === user.id);
    if (mine) return mine.role;
    const nb = notebooks.find((n) => n.id === id);
    return nb && nb.created_by === user.id ? 'owner' : null;
  }

  function snapshot() {
    return {
      personalCount,
      notebooks: notebooks.map((nb) => ({ ...nb, members: membersOf(nb.id), role: roleIn(nb.id) })),
    };
  }

  /** "you" for me, else the member's name (or email) as a co-member sees it. */
  function personName(userId) {
    if (!userId) return null;
    if (userId === user.id) return 'you';
    const m = members.find((row) => row.user_id === userId);
    return m ? m.display_name || m.email : null;
  }

  return {
    /** Calls `listener(snapshot)` now (once loaded) and on every change; returns the unsubscribe. */
    subscribe(listener) {
      listeners.add(listener);
      if (ready.notebooks && ready.members) listener(snapshot());
      return () => listeners.delete(listener);
    },
    snapshot,
    roleIn,
    membersOf,
    personName,
    find: (id) => notebooks.find((nb) => nb.id === id) ?? null,
    canWrite: (id) => ['owner', 'editor'].includes(roleIn(id)),

    /**
     * May I edit this note, and where may it move: notebooks I can write to, and Personal
     * ({id: ''}) for a note I created.
     */
    accessTo(note) {
      const notebookId = note.notebook_id ?? null;
      const writable = notebookId ? ['owner', 'editor'].includes(roleIn(notebookId)) : note.owner_id === user.id;
      const writableBooks = notebooks.filter((nb) => nb.id === notebookId || ['owner', 'editor'].includes(roleIn(nb.id)));
      const personal = notebookId === null || note.owner_id === user.id ? [{ id: '', name: 'Personal' }] : [];
      return { writable, targets: [...personal, ...writableBooks.map((nb) => ({ id: nb.id, name: nb.name }))] };
    },

    async create(name) {
      const now = nowIso();
      const id = uuid();
      await db.execute(
        'INSERT INTO notebooks (id, name, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        [id, name, user.id, now, now],
      );
      return id;
    },
    rename: (id, name) => db.execute('UPDATE notebooks SET name = ?, updated_at = ? WHERE id = ?', [name, nowIso(), id]),
    async remove(id) {
      deletedHere.add(id);
      // The server deletes its notes too; do the same here so they leave the list now.
      await db.writeTransaction(async (tx) => {
        await tx.execute('DELETE FROM notes WHERE notebook_id = ?', [id]);
        await tx.execute('DELETE FROM notebooks WHERE id = ?', [id]);
      });
    },
    /** Called before leaving through the API, so the notebook's departure is no surprise. */
    expectGone: (id) => deletedHere.add(id),
  };
}

/** Up to two letters for a person: "Ada Lovelace" → "AL", "bea@example.com" → "B". */
export function initials(member) {
  const name = (member.display_name || member.email || '?').trim();
  const words = name.split(/[\s@._-]+/).filter(Boolean);
  if (!member.display_name) return (words[0]?.[0] ?? '?').toUpperCase();
  return words.slice(0, 2).map((w) => w[0]).join('').toUpperCase();
}
