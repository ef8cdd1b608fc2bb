// Account settings in a dialog: display name, password (other sessions are logged out,
// this one stays) and the sessions logged in to the account, each with Revoke.

import { accountApi } from './account-api.js';
import { h, icon, replace } from './dom.js';
import { fullTime, parseTime, plural, relativeTime } from './format.js';

const USER_KEY = 'notebox.user'; // app.js remembers who was signed in, for offline starts

/** @param hooks {onRenamed: (user) => void} */
export function openAccountDialog(user, { onRenamed }) {
  const close = h('button', { class: 'icon-button dialog-close', type: 'button', 'aria-label': 'Close' }, icon('close'));
  const dialog = h(
    'dialog',
    { class: 'dialog account-dialog', 'aria-labelledby': 'account-title' },
    h('div', { class: 'dialog-head' }, h('h2', { id: 'account-title' }, 'Account settings'), close),
    profileSection(user, onRenamed),
    passwordSection(user),
    sessionsSection(),
  );
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
  return dialog;
}

/** A status line under a form: what happened, or what went wrong. */
function statusLine() {
  const el = h('p', { class: 'form-status', role: 'status' });
  return {
    el,
    ok(text) {
      el.className = 'form-status ok';
      el.textContent = text;
    },
    error(text) {
      el.className = 'form-status error';
      el.textContent = text;
    },
    clear() {
      el.textContent = '';
    },
  };
}

function profileSection(user, onRenamed) {
  const input = h('input', { id: 'account-display-name', type: 'text', value: user.display_name, maxlength: 200, autocomplete: 'name' });
  const save = h('button', { class: 'button primary', type: 'submit' }, 'Save name');
  const status = statusLine();
  const form = h(
    'form',
    { class: 'account-section', 'aria-labelledby': 'account-profile' },
    h('h3', { id: 'account-profile' }, 'Profile'),
    h('p', { class: 'account-signed-in' }, 'Signed in as ', h('strong', {}, user.email)),
    h('div', { class: 'field' }, h('label', { for: 'account-display-name' }, 'Display name'), input),
    h('p', { class: 'hint' }, 'Shown to the people you share notebooks with.'),
    h('div', { class: 'form-actions' }, save),
    status.el,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    save.disabled = true;
    status.clear();
    try {
      const updated = await accountApi.setDisplayName(input.value);
      input.value = updated.display_name;
      localStorage.setItem(USER_KEY, JSON.stringify({ ...user, ...updated }));
      onRenamed(updated);
      status.ok('Display name saved.');
    } catch (error) {
      status.error(error.message);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function passwordSection(user) {
  const field = (id, label, autocomplete) => {
    const input = h('input', { id, type: 'password', autocomplete, required: true });
    return { input, el: h('div', { class: 'field' }, h('label', { for: id }, label), input) };
  };
  const current = field('account-current-password', 'Current password', 'current-password');
  const next = field('account-new-password', 'New password', 'new-password');
  const again = field('account-repeat-password', 'New password again', 'new-password');
  const submit = h('button', { class: 'button primary', type: 'submit' }, 'Change password');
  const status = statusLine();
  // A hidden username lets password managers file the new password under the right account.
  const username = h('input', { type: 'email', value: user.email, autocomplete: 'username', hidden: true, 'aria-hidden': 'true', tabindex: '-1' });
  const form = h(
    'form',
    { class: 'account-section', 'aria-labelledby': 'account-password' },
    h('h3', { id: 'account-password' }, 'Password'),
    h('p', { class: 'hint' }, 'Changing it logs out every other device; this one stays logged in.'),
    username,
    current.el,
    next.el,
    again.el,
    h('div', { class: 'form-actions' }, submit),
    status.el,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.clear();
    if (next.input.value !== again.input.value) {
      status.error('The new passwords do not match.');
      again.input.focus();
      return;
    }
    submit.disabled = true;
    try {
      const { sessions_ended: ended } = await accountApi.changePassword(current.input.value, next.input.value);
      for (const f of [current, next, again]) f.input.value = '';
      status.ok(`Password changed. ${ended ? `${plural(ended, 'other session')} logged out.` : 'No other session was logged in.'}`);
      form.dispatchEvent(new CustomEvent('sessions-changed', { bubbles: true }));
    } catch (error) {
      status.error(error.message);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function sessionsSection() {
  const list = h('ul', { class: 'session-list', 'aria-labelledby': 'account-sessions' });
  const status = statusLine();
  const section = h(
    'section',
    { class: 'account-section', 'aria-labelledby': 'account-sessions' },
    h('h3', { id: 'account-sessions' }, 'Active sessions'),
    h('p', { class: 'hint' }, 'Every browser or app logged in to your account. Revoke one you do not recognise.'),
    list,
    status.el,
  );

  async function load() {
    try {
      const sessions = await accountApi.sessions();
      replace(list, sessions.map((s) => row(s)));
    } catch (error) {
      status.error(error.message);
    }
  }

  function row(session) {
    const seen = parseTime(session.last_seen_at);
    const started = parseTime(session.created_at);
    const revoke = session.current
      ? h('span', { class: 'badge' }, 'This device')
      : h('button', { class: 'button', type: 'button', onclick: () => revokeOne(session, revoke) }, 'Revoke');
    return h(
      'li',
      { class: 'session' },
      h(
        'div',
        { class: 'session-text' },
        h('span', { class: 'session-seen', title: seen ? fullTime(seen) : '' }, seen ? `Active ${relativeTime(seen)}` : 'Active'),
        h('span', { class: 'session-started' }, started ? `Logged in ${fullTime(started)}` : ''),
      ),
      revoke,
    );
  }

  async function revokeOne(session, button) {
    button.disabled = true;
    status.clear();
    try {
      await accountApi.revokeSession(session.id);
      // Gone at once, not after the list is read again: the message and the list agree.
      button.closest('li')?.remove();
      status.ok('Session revoked: that device is logged out.');
      await load();
    } catch (error) {
      button.disabled = false;
      status.error(error.message);
    }
  }

  section.addEventListener('sessions-changed', load);
  // The password form is a sibling: listen on the dialog once it exists.
  queueMicrotask(() => section.parentElement?.addEventListener('sessions-changed', load));
  load();
  return section;
}
