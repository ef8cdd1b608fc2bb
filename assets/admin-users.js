// The admin page's people: the list (created, last seen, disabled), a form to add someone,
// disable/enable, and a new one-time password — shown once, never stored.

import { adminApi } from './account-api.js';
import { card, when } from './admin.js';
import { h, replace } from './dom.js';
import { confirmDialog } from './ui.js';

export function renderUsers({ toaster, me }) {
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'user-table' },
    h('caption', { class: 'visually-hidden' }, 'People with an account'),
    h('thead', {}, h('tr', {}, ['Person', 'Created', 'Last seen', 'Status', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody,
  );

  async function load() {
    const users = await adminApi.users();
    replace(tbody, users.map((u) => row(u)));
  }

  function row(user) {
    const disabled = Boolean(user.disabled_at);
    const self = user.id === me.id;
    const name = user.display_name || user.email;
    const actions = h(
      'div',
      { class: 'user-actions' },
      self
        ? h('span', { class: 'muted' }, 'You')
        : h(
            'button',
            { class: `button ${disabled ? '' : 'danger-outline'}`, type: 'button', 'aria-label': `${disabled ? 'Enable' : 'Disable'} ${name}`, onclick: () => (disabled ? enable(user) : disable(user)) },
            disabled ? 'Enable' : 'Disable',
          ),
      h('button', { class: 'button', type: 'button', 'aria-label': `Reset password of ${name}`, onclick: () => reset(user) }, 'Reset password'),
    );
    return h(
      'tr',
      { class: disabled ? 'disabled' : '', dataset: { id: user.id } },
      h(
        'th',
        { scope: 'row', class: 'user-who' },
        h('span', { class: 'user-name' }, user.display_name || '—'),
        h('span', { class: 'user-email' }, user.email),
        user.is_admin ? h('span', { class: 'badge' }, 'Admin') : null,
      ),
      h('td', { 'data-label': 'Created' }, when(user.created_at)),
      h('td', { 'data-label': 'Last seen' }, user.last_seen_at ? when(user.last_seen_at) : h('span', { class: 'muted' }, 'Never')),
      h('td', { 'data-label': 'Status' }, disabled ? h('span', { class: 'status-disabled' }, 'Disabled') : 'Active'),
      h('td', { class: 'actions-cell' }, actions),
    );
  }

  async function act(work, done) {
    try {
      await work();
      toaster.show(done);
    } catch (error) {
      toaster.show(error.message);
    }
    await load().catch(() => {});
  }

  async function disable(user) {
    const yes = await confirmDialog({
      title: `Disable ${user.email}?`,
      body: 'They are logged out everywhere at once and cannot log in until an admin enables the account again. Their notes stay.',
      confirm: 'Disable',
      danger: true,
    });
    if (yes) await act(() => adminApi.disable(user.id), `${user.email} is disabled.`);
  }

  async function enable(user) {
    await act(() => adminApi.enable(user.id), `${user.email} can log in again.`);
  }

  async function reset(user) {
    const yes = await confirmDialog({
      title: `Reset the password of ${user.email}?`,
      body: 'Their current password stops working and they are logged out everywhere. You get a one-time password to pass on.',
      confirm: 'Reset password',
      danger: true,
    });
    if (!yes) return;
    try {
      const { password } = await adminApi.resetPassword(user.id);
      await showPassword(user.email, password, 'New password');
    } catch (error) {
      toaster.show(error.message);
    }
  }

  load().catch((error) => replace(tbody, h('tr', {}, h('td', { colspan: 5 }, error.message))));
  return card(
    'admin-users',
    'People',
    null,
    createForm({ toaster, reload: load }),
    h('div', { class: 'table-wrap' }, table),
  );
}

function createForm({ toaster, reload }) {
  const email = h('input', { id: 'new-user-email', type: 'email', required: true, autocomplete: 'off' });
  const name = h('input', { id: 'new-user-name', type: 'text', maxlength: 200, autocomplete: 'off' });
  const admin = h('input', { id: 'new-user-admin', type: 'checkbox' });
  const submit = h('button', { class: 'button primary', type: 'submit' }, 'Add person');
  const form = h(
    'form',
    { class: 'new-user', 'aria-label': 'Add a person' },
    h('div', { class: 'field' }, h('label', { for: 'new-user-email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'new-user-name' }, 'Display name'), name),
    h('label', { class: 'check-field', for: 'new-user-admin' }, admin, 'Admin'),
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const { user, password } = await adminApi.createUser(email.value, name.value, admin.checked);
      form.reset();
      await reload();
      await showPassword(user.email, password, 'Account created');
    } catch (error) {
      toaster.show(error.message);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** The one-time password, once: the admin copies it and passes it on. */
function showPassword(email, password, title) {
  return new Promise((resolve) => {
    const value = h('input', { id: 'one-time-password', class: 'link-input', type: 'text', value: password, readonly: true });
    const copy = h('button', { class: 'button', type: 'button' }, 'Copy');
    const done = h('button', { class: 'button primary', type: 'button' }, 'Done');
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': 'otp-title', 'aria-describedby': 'otp-body' },
      h('h2', { id: 'otp-title' }, title),
      h('p', { id: 'otp-body' }, `The one-time password for ${email}. It is shown only this once: pass it on, and ask them to change it in Account settings.`),
      h('div', { class: 'field otp-field' }, h('label', { for: 'one-time-password' }, 'One-time password'), h('div', { class: 'link-row' }, value, copy)),
      h('div', { class: 'dialog-actions' }, done),
    );
    copy.addEventListener('click', async () => {
      value.select();
      try {
        await navigator.clipboard.writeText(password);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Select and copy';
      }
    });
    done.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
    value.select();
  });
}
