// The account menu in the top bar of every signed-in screen: who you are, account settings
// (display name, password, sessions), the colour theme, the admin page for admins, log out.

import { h, icon } from './dom.js';
import { openAccountDialog } from './account-dialog.js';
import { initials } from './notebooks.js';
import { currentTheme, setTheme, THEMES } from './theme.js';

const THEME_NAMES = { system: 'System', light: 'Light', dark: 'Dark' };
let menus = 0;

/**
 * @param user {id, email, display_name, is_admin}
 * @param hooks {onLogout: () => void, onRenamed?: (user) => void}
 */
export function createAccountMenu(user, { onLogout, onRenamed = () => {} }) {
  menus += 1;
  const panelId = `account-panel-${menus}`;
  const avatar = h('span', { class: 'avatar account-avatar', 'aria-hidden': 'true' });
  const name = h('span', { class: 'account-name', 'aria-hidden': 'true' });
  const button = h(
    'button',
    { class: 'account-button', type: 'button', 'aria-expanded': 'false', 'aria-controls': panelId },
    avatar,
    // Named "Account" only: a person's name would make it answer to any word in it.
    h('span', { class: 'visually-hidden' }, 'Account'),
    name,
  );
  const who = h('p', { class: 'account-who' });
  const email = h('p', { class: 'account-email' });
  const themes = h(
    'fieldset',
    { class: 'theme-choice' },
    h('legend', {}, 'Theme'),
    h('div', { class: 'theme-options' }, THEMES.map((theme) =>
      h(
        'label',
        { class: 'theme-option' },
        h('input', { type: 'radio', name: `theme-${menus}`, value: theme, checked: currentTheme() === theme, onchange: () => setTheme(theme) }),
        h('span', {}, THEME_NAMES[theme]),
      ),
    )),
  );
  const panel = h(
    'div',
    { class: 'account-panel', id: panelId, hidden: true },
    h('div', { class: 'account-head' }, who, email, user.is_admin ? h('span', { class: 'badge' }, 'Admin') : null),
    h('button', { class: 'menu-item', type: 'button', onclick: () => openSettings() }, icon('person'), 'Account settings'),
    user.is_admin ? h('a', { class: 'menu-item', href: '/admin' }, icon('lock'), 'Admin') : null,
    themes,
    h('button', { class: 'menu-item', type: 'button', onclick: () => (close(), onLogout()) }, icon('logout'), 'Log out…'),
  );
  const element = h('div', { class: 'account-menu' }, button, panel);

  function render() {
    const label = user.display_name || user.email;
    avatar.textContent = initials(user);
    name.textContent = label;
    button.title = `${label} (${user.email})`;
  }

  function open() {
    // Filled only while open: the name shows once on the page, in the button.
    who.textContent = user.display_name || 'No display name';
    email.textContent = user.email;
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside, true);
    panel.querySelector('.menu-item')?.focus();
  }

  function close({ focus = false } = {}) {
    panel.hidden = true;
    who.textContent = email.textContent = '';
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (focus) button.focus();
  }

  function outside(event) {
    if (!element.contains(event.target)) close();
  }

  function openSettings() {
    close({ focus: true });
    openAccountDialog(user, {
      onRenamed: (updated) => {
        Object.assign(user, updated);
        render();
        onRenamed(user);
      },
    });
  }

  button.addEventListener('click', () => (panel.hidden ? open() : close()));
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden) {
      event.stopPropagation();
      close({ focus: true });
    }
  });
  element.addEventListener('focusout', (event) => {
    if (!panel.hidden && event.relatedTarget && !element.contains(event.relatedTarget)) close();
  });

  render();
  return { element };
}
