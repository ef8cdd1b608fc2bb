// Keyboard shortcuts of the notes screen, and the logout button with its question.

import { h, icon } from './dom.js';
import { plural } from './format.js';
import { confirmDialog, showDialog } from './ui.js';

/** What the shortcuts dialog (`?`) lists: keys, what they do. */
const SHORTCUTS = [
  [['N'], 'New note (Alt+N while typing)'],
  [['/'], 'Search'],
  [['Ctrl', 'K'], 'Search, selecting what is there'],
  [['Ctrl', 'S'], 'Save now'],
  [['↑', '↓'], 'Move in the list (Home, End, Page Up, Page Down too)'],
  [['Enter'], 'Open the note and start writing'],
  [['P'], 'Pin or unpin the note (in the list)'],
  [['Delete'], 'Delete the note (in the list)'],
  [['Esc'], 'Clear the search, or back to the list'],
  [['?'], 'This list'],
];

/**
 * Ctrl/Cmd+S save · Ctrl/Cmd+K or / search · N (or Alt+N) new note · Escape back ·
 * ? the list of shortcuts. Nothing fires while a dialog is open.
 */
export function bindShortcuts(signal, actions) {
  document.addEventListener(
    'keydown',
    (event) => {
      if (document.querySelector('dialog[open]')) return;
      const typing = event.target.closest?.('input, textarea, select, [contenteditable]');
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (mod && key === 's') {
        event.preventDefault();
        actions.save();
      } else if (mod && key === 'k') {
        event.preventDefault();
        actions.search(true);
      } else if (!typing && !mod && !event.altKey && event.key === '/') {
        event.preventDefault();
        actions.search(false);
      } else if ((!typing && !mod && key === 'n') || (event.altKey && key === 'n')) {
        event.preventDefault();
        actions.create();
      } else if (!typing && !mod && event.key === '?') {
        event.preventDefault();
        showShortcuts();
      } else if (event.key === 'Escape') {
        actions.escape(event.target);
      }
    },
    { signal },
  );
}

/**
 * Asks before logging out, louder when changes have not reached the server yet.
 * @param {{pending: () => Promise<number>, onLogout: () => Promise, onError: (e) => void}} hooks
 */
export function createLogoutButton(user, { pending, onLogout, onError }) {
  const button = h(
    'button',
    { class: 'button ghost logout', type: 'button', title: `Log out ${user.email}`, 'aria-label': 'Log out' },
    icon('logout'),
    h('span', { class: 'logout-text' }, 'Log out'),
  );
  button.addEventListener('click', async () => {
    if (!(await confirmLogout(await pending()))) return;
    button.disabled = true;
    try {
      await onLogout();
    } catch (error) {
      button.disabled = false;
      onError(error);
    }
  });
  return button;
}

function confirmLogout(waiting) {
  return confirmDialog({
    title: 'Log out?',
    body:
      waiting > 0
        ? `${plural(waiting, 'change')} on this device ${waiting === 1 ? 'has' : 'have'} not reached the server yet and will be lost. Notes on this device are removed when you log out.`
        : 'Notes on this device are removed when you log out. They stay safe on the server.',
    confirm: 'Log out',
    danger: waiting > 0,
  });
}

/** The keyboard shortcuts, in a dialog (the `?` key). */
export function showShortcuts() {
  const close = h('button', { class: 'button primary', type: 'button' }, 'Close');
  const dialog = h(
    'dialog',
    { class: 'dialog shortcuts-dialog', 'aria-labelledby': 'shortcuts-title' },
    h('h2', { id: 'shortcuts-title' }, 'Keyboard shortcuts'),
    h(
      'dl',
      { class: 'shortcuts' },
      SHORTCUTS.map(([keys, what]) => [
        h('dt', {}, keys.map((key, i) => [i ? ' ' : null, h('kbd', {}, key)])),
        h('dd', {}, what),
      ]),
    ),
    h('div', { class: 'dialog-actions' }, close),
  );
  close.addEventListener('click', () => dialog.close());
  showDialog(dialog, { focus: close });
}
