// The order of the notes list: the ids of the notes it shows, read again on every change to
// notes, and notes written on this device put in their place at once, before the database
// has them.

import { createListReader } from './list-queries.js';

/**
 * @param {{ready: Promise, onRead: () => void, onError: (error: Error) => void, onDiscarded: () => void}} hooks
 *   ready: resolves when the search index exists (searches wait for it, the list does not);
 *   onRead: the ids changed after a read; onDiscarded: a read came back for a view no longer shown.
 */
export function createListOrder(db, signal, { ready, onRead, onError, onDiscarded }) {
  const reader = createListReader(db);
  ready.then(() => !signal.aborted && reader.warm()).catch(() => {});
  let view = null; // {scope, sort, query}: nothing is read before the list says what it shows
  let ids = [];
  let pinnedCount = 0; // how many notes lead the list pinned (0 in a search)
  let rows = []; // rows of some of the first notes, read with the ids (a ranked search's)
  // Reads are numbered; one is shown only if it is the newest shown yet and still for the
  // search, sort and notebook on screen.
  let issued = 0;
  let shown = 0;
  let reading = null; // the read under way, after a change
  let readAgain = false;
  // Notes written on this device: id → {row (null: deleted), from: the first read that sees
  // the write (Infinity until it is done)}.
  const written = new Map();

  /** Reads the ids again: at once for another view, else after the read under way. */
  function refresh({ now = false } = {}) {
    if (!view) return;
    if (reading && !now) {
      readAgain = true;
      return;
    }
    const read = readIds().finally(() => {
      if (reading !== read) return;
      reading = null;
      if (readAgain) {
        readAgain = false;
        refresh();
      }
    });
    reading = read;
  }

  async function readIds() {
    const number = (issued += 1);
    const wanted = view;
    try {
      if (wanted.query) await ready;
      if (wanted !== view || signal.aborted) return;
      const found = await reader.read(wanted);
      if (wanted !== view || number < shown || signal.aborted) return onDiscarded?.();
      shown = number;
      ids = found.ids;
      pinnedCount = found.pinned;
      rows = found.rows;
      for (const [id, change] of written) {
        if (number >= change.from) written.delete(id);
        else place(id, change.row);
      }
      onRead();
    } catch (error) {
      onError(error);
    }
  }
  db.onChange({
    onChange: () => {
      reader.changed();
      refresh();
    },
  }, { tables: ['notes'], signal, throttleMs: 30 });

  /**
   * Moves a note written here to where the database will put it, or out. Newest first: a
   * new or edited note leads its group (pinned or not). By title a new, untitled note goes
   * last in its group and an edited one keeps its place, as in a search, until the database
   * answers (a few frames later).
   */
  function place(id, row) {
    const at = ids.indexOf(id);
    if (at >= 0) {
      ids.splice(at, 1);
      if (at < pinnedCount) pinnedCount -= 1;
    }
    if (!row || !view || (row.notebook_id ?? null) !== view.scope) return;
    if (view.query) {
      if (at >= 0) ids.splice(at, 0, id);
      return;
    }
    const pinned = Boolean(row.pinned);
    const [first, last] = pinned ? [0, pinnedCount] : [pinnedCount, ids.length];
    let to = first;
    if (view.sort === 'title' && at < 0) to = last;
    else if (at >= 0 && view.sort !== 'edited') to = Math.min(Math.max(at, first), last);
    ids.splice(to, 0, id);
    if (pinned) pinnedCount += 1;
  }

  return {
    /** The ids in order: changed in place by `written`, replaced by a read. */
    get ids() {
      return ids;
    },
    /** Rows (rowsQuery's columns) of some of the first notes, read with the last read's ids. */
    get rows() {
      return rows;
    },
    /** Shows another search, sort or notebook; `clear`: nothing of the previous one meanwhile. */
    show(next, { clear = false } = {}) {
      view = next;
      if (clear) {
        ids = [];
        pinnedCount = 0;
      }
      refresh({ now: true });
    },
    /** The ids of the first screen saved on this device, until the first read replaces them. */
    seed(first, pinned) {
      ids = first;
      pinnedCount = pinned;
    },
    /** A note written here (row: as written; null: deleted), in place at once; `write` is the write. */
    written(id, row, write) {
      const change = { row, from: Infinity };
      written.set(id, change);
      place(id, row);
      write.then(
        () => {
          change.from = issued + 1;
          // The next read must see the write, before the database says the notes changed.
          reader.changed();
        },
        () => {
          if (written.get(id) === change) written.delete(id);
          refresh();
        },
      );
    },
    /** True while a note written here waits for the database to have it. */
    waits: (id) => written.has(id),
  };
}
