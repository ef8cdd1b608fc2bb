// The start of a notes session. The screen is drawn at once (the list shows the first screen
// saved on this device: first-screen.js) while the user's database opens; everything that
// reads or writes it waits for it. The list reads first: connecting starts a checkpoint (and
// the search index, once per database, is built) only once the list shows, as both wait for
// the database's one connection.

import { connect, NoteboxConnector } from './db.js';
import { createRelogin } from './relogin.js';
import { ensureSearchIndex } from './search-index.js';
import { createSyncStatus } from './sync-view.js';

/**
 * @param {{signal: AbortSignal, typing: () => boolean, onSwitchAccount: () => void,
 *          onOpenFailed: (error: Error) => void}} hooks
 * @returns {{sync, relogin, searchReady: Promise, listShown: () => void}} listShown: call once
 *   the list shows its first notes
 */
export function startSession(db, user, { signal, typing, onSwitchAccount, onOpenFailed }) {
  db.init()
    .then(() => performance.mark('notebox:db-open')) // the 10,000-note bench reports these marks
    .catch((error) => {
      console.error(error);
      onOpenFailed(error);
    });
  let listShown;
  const shown = new Promise((resolve) => { listShown = resolve; });
  const searchReady = shown.then(() => ensureSearchIndex(db)).catch((error) => console.error('search index', error));
  const connector = new NoteboxConnector({ onSessionEnded: () => relogin.sessionEnded() });
  const connectSync = () => connect(db, connector).catch((error) => console.warn('PowerSync connect failed', error));
  shown.then(connectSync);

  const sync = createSyncStatus(db, signal, connector);
  // The session ended: the screen stays, the editor keeps its text, and logging in again
  // (in a dialog) resumes the uploads.
  const relogin = createRelogin(user, { signal, sync, typing, onSignedIn: connectSync, onSwitchAccount });
  return { sync, relogin, searchReady, listShown };
}
