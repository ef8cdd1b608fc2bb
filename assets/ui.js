// Toasts (with an optional action, e.g. Undo) and a confirmation dialog.

import { h, icon } from './dom.js';

/** One toast at a time, announced politely; the action stays reachable by keyboard. */
export function createToaster(region) {
  let timer = null;
  let current = null;

  function dismiss() {
    clearTimeout(timer);
    current?.remove();
    current = null;
  }

  function show(message, { action, onAction, duration = 8000 } = {}) {
    dismiss();
    const buttons = [];
    if (action) {
      buttons.push(
        h('button', {
          class: 'button ghost toast-action',
          type: 'button',
          onclick: () => {
            dismiss();
            onAction();
          },
        }, action),
      );
    }
    buttons.push(
      h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Dismiss', onclick: dismiss }, icon('close')),
    );
    current = h('div', { class: 'toast', role: 'status' }, h('span', { class: 'toast-text' }, message), ...buttons);
    region.append(current);
    timer = setTimeout(dismiss, duration);
    return { dismiss };
  }

  return { show, dismiss };
}

/**
 * Shows `dialog` (a <dialog> element) modally: adds it to the page, opens it, focuses
 * `focus` (an element inside it, or a function returning one), and on close removes it,
 * calls `onClose`, and gives focus back to whatever had it before, if that is still on the
 * page. Every dialog of the app opens through here.
 * @returns the dialog
 */
export function showDialog(dialog, { focus = null, onClose = null } = {}) {
  const opener = document.activeElement;
  dialog.addEventListener('close', () => {
    dialog.remove();
    onClose?.();
    if (opener?.isConnected && !document.querySelector('dialog[open]')) opener.focus();
  }, { once: true });
  document.body.append(dialog);
  dialog.showModal();
  const target = typeof focus === 'function' ? focus() : focus;
  target?.focus();
  return dialog;
}

/**
 * Asks a yes/no question in a modal <dialog>. Resolves true when confirmed.
 * @param {{title: string, body: string, confirm: string, danger?: boolean}} options
 */
export function confirmDialog({ title, body, confirm, danger = false }) {
  return new Promise((resolve) => {
    const cancelButton = h('button', { class: 'button', type: 'button', value: 'cancel' }, 'Cancel');
    const okButton = h('button', { class: `button ${danger ? 'danger' : 'primary'}`, type: 'button' }, confirm);
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': 'dialog-title', 'aria-describedby': 'dialog-body' },
      h('h2', { id: 'dialog-title' }, title),
      h('p', { id: 'dialog-body' }, body),
      h('div', { class: 'dialog-actions' }, cancelButton, okButton),
    );
    let answer = false;
    cancelButton.addEventListener('click', () => dialog.close());
    okButton.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    showDialog(dialog, { focus: cancelButton, onClose: () => resolve(answer) });
  });
}

/**
 * Asks for one line of text in a modal <dialog>. Resolves the trimmed text, or null when
 * cancelled or left empty.
 * @param {{title: string, label: string, value?: string, confirm: string}} options
 */
export function promptDialog({ title, label, value = '', confirm }) {
  return new Promise((resolve) => {
    const input = h('input', { id: 'prompt-input', type: 'text', value, maxlength: 200, autocomplete: 'off', required: true });
    const cancelButton = h('button', { class: 'button', type: 'button' }, 'Cancel');
    const okButton = h('button', { class: 'button primary', type: 'submit' }, confirm);
    const form = h(
      'form',
      { class: 'stack' },
      h('div', { class: 'field' }, h('label', { for: 'prompt-input' }, label), input),
      h('div', { class: 'dialog-actions' }, cancelButton, okButton),
    );
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'prompt-title' }, h('h2', { id: 'prompt-title' }, title), form);
    let answer = null;
    cancelButton.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      answer = input.value.trim() || null;
      dialog.close();
    });
    showDialog(dialog, { focus: input, onClose: () => resolve(answer) });
    input.select();
  });
}
