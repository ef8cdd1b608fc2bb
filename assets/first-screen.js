// The notes list's first screen, kept on this device per user so a reload shows it at once,
// while the local database opens (half a second to a second at 10,000 notes): the rows on the
// screen (title, start of the body, times, pinned) and how many notes there are, as the live
// list last showed them. It is replaced in place by the live list once the database answers;
// what the user does meanwhile (open a note, arrow keys, New note, a search) waits for the
// database, with the list marked busy. Forgotten when the user logs out or another user signs
// in on this browser: it is never shown to anyone else.

const KEY_PREFIX = 'notebox.firstScreen.';
/** The most rows kept: a tall screen's worth. */
export const MAX_ROWS = 20;
const MAX_TITLE = 120;
const MAX_SNIPPET = 200;
const SAVE_DELAY_MS = 1500;

const keyOf = (userId) => `${KEY_PREFIX}${userId}`;

/** Forgets a user's first screen (logout, another user on this browser). */
export function forgetFirstScreen(userId) {
  if (userId) localStorage.removeItem(keyOf(userId));
}

/**
 * The user's saved first screen: `load(scope, sort)` gives {count, rows} when one was saved for
 * that notebook and sort (else null); `save(snapshot)` keeps what the live list shows, at most
 * every SAVE_DELAY_MS (`flush` writes a pending one now: the page is going away).
 */
export function createFirstScreen(userId) {
  const key = keyOf(userId);
  let pending = null;
  let timer = null;
  let written = null;

  function read() {
    try {
      const saved = JSON.parse(localStorage.getItem(key) ?? 'null');
      return saved?.userId === userId && Array.isArray(saved.rows) ? saved : null;
    } catch {
      return null;
    }
  }

  function write() {
    clearTimeout(timer);
    timer = null;
    if (!pending) return;
    const text = JSON.stringify(pending);
    pending = null;
    if (text === written) return;
    written = text;
    try {
      localStorage.setItem(key, text);
    } catch (error) {
      console.warn('could not keep the first screen', error); // storage full: it is only a head start
    }
  }

  return {
    load(scope, sort) {
      const saved = read();
      if (!saved || saved.scope !== (scope ?? null) || saved.sort !== sort) return null;
      return { count: saved.count, rows: saved.rows };
    },
    /** @param {{scope, sort, count: number, rows: object[]}} snapshot rows as the list shows them */
    save({ scope, sort, count, rows }) {
      pending = {
        userId,
        scope: scope ?? null,
        sort,
        count,
        rows: rows.slice(0, MAX_ROWS).map((row) => ({
          id: row.id,
          title: (row.title ?? '').slice(0, MAX_TITLE),
          snippet: (row.snippet ?? '').slice(0, MAX_SNIPPET),
          updated_at: row.updated_at,
          created_at: row.created_at,
          pinned: row.pinned ? 1 : 0,
          conflicted: row.conflicted ? 1 : 0,
        })),
      };
      timer ??= setTimeout(write, SAVE_DELAY_MS);
    },
    flush: write,
    /** Drops a save not written yet (the session stops). */
    cancel() {
      clearTimeout(timer);
      timer = null;
      pending = null;
    },
    forget() {
      this.cancel();
      written = null;
      forgetFirstScreen(userId);
    },
  };
}
