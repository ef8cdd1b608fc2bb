// notebox web UI: decides which screen to show, and owns the signed-in session.

import { showAdmin } from './admin.js';
import { api, ApiError, NetworkError } from './api.js';
import { renderAuth } from './auth-view.js';
import { openDatabase } from './db.js';
import { forgetFirstScreen } from './first-screen.js';
import { h, replace } from './dom.js';
import { acceptInvitation, invitationAuth, invitationToken, takeJoined } from './invitation.js';
import { startNotes } from './notes-view.js';
import { decorateAuth, loadSingleSignOn } from './oidc.js';

const root = document.getElementById('app');
// Who was signed in on this browser, so the notes open even when the server is unreachable.
const USER_KEY = 'notebox.user';
let session = null;

function remember(user) {
  // Another person on this browser: the previous one's saved first screen goes.
  const previous = remembered();
  if (previous?.id && previous.id !== user.id) forgetFirstScreen(previous.id);
  localStorage.setItem(USER_KEY, JSON.stringify(user));
}

/** Logged out: this browser forgets who was signed in, and their saved first screen. */
function forget(user) {
  forgetFirstScreen(user.id);
  localStorage.removeItem(USER_KEY);
}

function remembered() {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) ?? 'null');
  } catch {
    return null;
  }
}

async function boot() {
  // The remembered user's notes start opening while the server says who is signed in: most
  // of the time it is the same person, and the list shows that much sooner.
  const cached = remembered();
  const opening = cached && location.pathname !== ADMIN_PATH ? openDatabase(cached.id) : null;
  const database = (user) => {
    if (opening && user?.id === cached.id) return opening;
    opening?.close().catch(() => {});
    return undefined;
  };
  let user;
  try {
    user = await api.me();
  } catch (error) {
    if (error instanceof NetworkError && cached) return showNotes(cached, {}, database(cached));
    database(null);
    if (error instanceof ApiError && error.status === 401) return showAuth();
    return showUnreachable(error);
  }
  remember(user);
  const db = database(user);
  if (location.pathname === ADMIN_PATH) return showAdminPage(user);
  const token = invitationToken();
  return showNotes(user, token ? await acceptInvitation(token) : {}, db);
}

const ADMIN_PATH = '/admin';

/** The admin page; logging out there forgets this device's notes as it does anywhere. */
function showAdminPage(user) {
  showAdmin(root, user, {
    onLogout: async () => {
      await api.logout();
      const db = openDatabase(user.id);
      await db.init();
      await db.disconnectAndClear();
      await db.close().catch(() => {});
      forget(user);
      history.replaceState({}, '', '/');
      await showAuth({ notice: 'You have logged out. Notes on this device were removed.' });
    },
  });
}

/** The first-run, login or sign-up screen. */
async function showAuth(options = {}) {
  document.title = 'notebox';
  let setup, sso;
  let invited = {};
  const token = invitationToken();
  try {
    [setup, sso] = await Promise.all([api.setup(), loadSingleSignOn()]);
    if (token) invited = await invitationAuth(token);
  } catch (error) {
    return showUnreachable(error);
  }
  renderAuth(root, {
    mode: setup.needs_setup ? 'setup' : 'login',
    signupOpen: setup.signup === 'open',
    notice: options.notice,
    email: options.email,
    ...invited,
    decorate: (card, parts) => decorateAuth(sso, card, parts),
    onSignedIn: async (user) => {
      remember(user);
      if (location.pathname === ADMIN_PATH) return showAdminPage(user);
      // Logging in (not signing up) with an invitation at hand: accept it now.
      const pending = invitationToken();
      showNotes(user, pending ? await acceptInvitation(pending) : takeJoined());
    },
  });
}

/**
 * @param joined {notebookId?, message?} after an invitation
 * @param db the user's local database when it is already opening (else startNotes opens it)
 */
async function showNotes(user, joined = {}, db = undefined) {
  if (session) await session.stop();
  session = await startNotes(root, user, {
    db,
    notebookId: joined.notebookId,
    message: joined.message,
    onLogout: async () => {
      await api.logout();
      await session.clear();
      session = null;
      forget(user);
      await showAuth({ notice: 'You have logged out. Notes on this device were removed.' });
    },
    onSessionEnded: async () => {
      // Keep the local database: unsent changes upload once the same user logs back in.
      // Token and upload requests can both notice; only the first one acts.
      const ending = session;
      if (!ending) return;
      session = null;
      forgetFirstScreen(user.id); // someone else may log in next
      await ending.stop();
      await showAuth({
        notice: 'Your session has ended. Log in again to keep syncing.',
        email: user.email,
      });
    },
  });
}

function showUnreachable(error) {
  document.title = 'notebox';
  const retry = h('button', { class: 'button primary', type: 'button', onclick: () => boot() }, 'Try again');
  replace(
    root,
    h(
      'main',
      { class: 'auth' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'unreachable-title' },
        h('h1', { id: 'unreachable-title' }, 'notebox is out of reach'),
        h('p', { class: 'muted' }, error?.message ?? 'The server did not answer.'),
        retry,
      ),
    ),
  );
  retry.focus();
}

// Lets the app open offline after the first visit. Browsers allow service workers only on
// https and localhost; elsewhere notebox still works, it just needs the server to load.
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('/sw.js').catch((error) => console.warn('no offline support', error));
}

boot().catch((error) => {
  console.error(error);
  showUnreachable(error);
});
