// When the session ends while the notes are open (expired, revoked, password changed
// elsewhere), the notes screen stays: the editor keeps its text and the local database every
// edit. A notice says what happened without taking the keyboard away from someone typing;
// logging in again happens in a dialog over the editor, and uploads resume right after.

import { api, ApiError } from './api.js';
import { h, icon } from './dom.js';
import { showDialog } from './ui.js';

/**
 * @param {{signal: AbortSignal, sync: {setSessionEnded: (ended: boolean) => void},
 *          typing: () => boolean, onSignedIn: () => void, onSwitchAccount: () => void}} hooks
 * @returns {{element: HTMLElement, sessionEnded: () => void}} call `sessionEnded` whenever
 *          a request finds the session gone (token and upload requests both may; once acts)
 */
export function createRelogin(user, { signal, sync, typing, onSignedIn, onSwitchAccount }) {
  const again = h('button', { class: 'button primary', type: 'button' }, 'Log in again');
  const element = h(
    'div',
    { class: 'relogin-notice', role: 'alert', hidden: true },
    icon('alert', 'relogin-icon'),
    h(
      'p',
      {},
      h('strong', {}, 'Your session has ended. '),
      'Keep writing: everything stays on this device and uploads once you log in again.',
    ),
    again,
  );
  let dialog = null;
  again.addEventListener('click', () => ask());

  function ask() {
    if (dialog) return;
    const error = h('p', { class: 'form-error', id: 'relogin-error', role: 'alert', hidden: true });
    const password = h('input', {
      id: 'relogin-password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
      'aria-describedby': 'relogin-error',
    });
    const submit = h('button', { class: 'button primary', type: 'submit' }, 'Log in');
    const later = h('button', { class: 'button', type: 'button' }, 'Not now');
    const other = h('button', { class: 'button ghost', type: 'button' }, 'Use another account');
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: 'relogin-email' }, 'Email'),
        h('input', { id: 'relogin-email', type: 'email', value: user.email, readonly: true, autocomplete: 'username' })),
      h('div', { class: 'field' }, h('label', { for: 'relogin-password' }, 'Password'), password),
      error,
      h('div', { class: 'dialog-actions relogin-actions' }, other, h('span', { class: 'spacer' }), later, submit),
    );
    dialog = h(
      'dialog',
      { class: 'dialog relogin-dialog', 'aria-labelledby': 'relogin-title', 'aria-describedby': 'relogin-lead' },
      h('h2', { id: 'relogin-title' }, 'Log in again'),
      h('p', { id: 'relogin-lead' }, 'Your notes and the text you were writing are safe on this device. Log in to keep syncing.'),
      form,
    );
    later.addEventListener('click', () => dialog.close());
    other.addEventListener('click', () => {
      dialog.close();
      onSwitchAccount();
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!password.value) {
        showError('Enter your password.');
        return password.focus();
      }
      submit.disabled = true;
      submit.textContent = 'Logging in…';
      try {
        await api.login(user.email, password.value);
        dialog.close();
        element.hidden = true;
        ended = false;
        sync.setSessionEnded(false);
        onSignedIn();
      } catch (failure) {
        showError(failure instanceof ApiError && failure.status === 401
          ? 'That password is not right. Try again.'
          : failure.message);
        password.select();
      } finally {
        submit.disabled = false;
        submit.textContent = 'Log in';
      }
    });
    function showError(message) {
      error.textContent = message;
      error.hidden = false;
    }
    showDialog(dialog, { focus: password, onClose: () => (dialog = null) });
  }

  let ended = false;
  return {
    element,
    sessionEnded() {
      if (ended || signal.aborted) return;
      ended = true;
      sync.setSessionEnded(true);
      element.hidden = false;
      // The dialog opens at once unless someone is typing: their keys would land in it.
      if (!typing() && !document.querySelector('dialog[open]')) ask();
    },
  };
}
