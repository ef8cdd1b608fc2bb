// The admin page (/admin): people (create, disable/enable, one-time passwords), who may sign
// up, the signing keys, and what `notebox check` says. Admins only: the API refuses anyone
// else, and so does this page.

import { adminApi } from './account-api.js';
import { createAccountMenu } from './account-menu.js';
import { logo } from './auth-view.js';
import { h, icon, replace } from './dom.js';
import { fullTime, parseTime, relativeTime } from './format.js';
import { renderUsers } from './admin-users.js';
import { confirmDialog, createToaster } from './ui.js';

/** @param hooks {onLogout} */
export function showAdmin(root, user, { onLogout }) {
  document.title = 'Admin · notebox';
  const menu = createAccountMenu(user, { onLogout });
  const toastRegion = h('div', { class: 'toast-region' });
  const toaster = createToaster(toastRegion);
  const main = h('main', { class: 'admin', id: 'admin-main' });
  replace(
    root,
    h(
      'div',
      { class: 'app admin-app' },
      h(
        'header',
        { class: 'topbar' },
        h('div', { class: 'brand' }, logo(), h('span', {}, 'notebox')),
        h('a', { class: 'button ghost back-to-notes', href: '/', 'aria-label': 'Back to notes' }, icon('back'), h('span', {}, 'Notes')),
        h('div', { class: 'account' }, menu.element),
      ),
      main,
      toastRegion,
    ),
  );
  if (!user.is_admin) {
    replace(
      main,
      h(
        'section',
        { class: 'admin-card', 'aria-labelledby': 'admin-refused' },
        h('h1', { id: 'admin-refused' }, 'Only admins can open this page'),
        h('p', { class: 'muted' }, 'Ask one of this server’s admins if you need something changed.'),
        h('a', { class: 'button primary', href: '/' }, 'Back to your notes'),
      ),
    );
    return;
  }
  const context = { toaster, me: user };
  replace(
    main,
    h('h1', { class: 'admin-title' }, 'Admin'),
    renderUsers(context),
    signupSection(context),
    keysSection(context),
    checkSection(),
  );
}

/** A titled card; `body` fills in as its data arrives. */
export function card(id, title, description, ...body) {
  return h(
    'section',
    { class: 'admin-card', 'aria-labelledby': id },
    h('h2', { id }, title),
    description ? h('p', { class: 'muted' }, description) : null,
    ...body,
  );
}

export function when(value) {
  const date = parseTime(value);
  return date ? h('time', { datetime: value, title: fullTime(date) }, relativeTime(date)) : h('span', { class: 'muted' }, '—');
}

function signupSection({ toaster }) {
  const note = h('p', { class: 'muted' });
  const options = ['closed', 'open'].map((value) =>
    h('input', { type: 'radio', name: 'signup-policy', value, id: `signup-${value}`, disabled: true }),
  );
  const [closed, open] = options;
  const fieldset = h(
    'fieldset',
    { class: 'choice' },
    h('legend', {}, 'Who can create an account'),
    h('label', { class: 'choice-option', for: 'signup-closed' }, closed, h('span', {}, h('strong', {}, 'Closed'), ' — only admins add people (and invitations still work)')),
    h('label', { class: 'choice-option', for: 'signup-open' }, open, h('span', {}, h('strong', {}, 'Open'), ' — anyone who can reach this server can sign up')),
  );
  async function load() {
    const settings = await adminApi.settings();
    for (const option of options) {
      option.checked = option.value === settings.signup;
      option.disabled = false;
    }
    note.textContent = `The config file says “${settings.signup_default}”; a choice made here replaces it at once, without a restart.`;
  }
  for (const option of options) {
    option.addEventListener('change', async () => {
      try {
        const settings = await adminApi.setSignup(option.value);
        toaster.show(settings.signup === 'open' ? 'Sign-up is open.' : 'Sign-up is closed.');
      } catch (error) {
        toaster.show(`Could not change sign-up: ${error.message}`);
      }
      load().catch(() => {});
    });
  }
  load().catch((error) => note.replaceChildren(error.message));
  return card('admin-signup', 'Sign-up', null, fieldset, note);
}

const KEY_STATES = {
  next: 'Published, signs soon',
  signing: 'Signing',
  retiring: 'Retiring',
  retired: 'Retired',
};

function keysSection({ toaster }) {
  const list = h('ul', { class: 'admin-list', 'aria-label': 'Signing keys' });
  const rotate = h('button', { class: 'button', type: 'button' }, icon('restore'), 'Rotate key');
  async function load() {
    const keys = await adminApi.keys();
    replace(
      list,
      keys.map((key) =>
        h(
          'li',
          { class: 'admin-row' },
          h('code', { class: 'kid', title: key.kid }, key.kid),
          h('span', { class: `key-state state-${key.state}` }, KEY_STATES[key.state] ?? key.state),
          h('span', { class: 'muted' }, 'signs from ', when(key.signing_from)),
          key.retire_after ? h('span', { class: 'muted' }, 'retires ', when(key.retire_after)) : null,
        ),
      ),
    );
  }
  rotate.addEventListener('click', async () => {
    const yes = await confirmDialog({
      title: 'Rotate the signing key?',
      body: 'A new key is published now and starts signing after the grace period; the current key keeps working until the tokens it signed have expired. Nobody is logged out.',
      confirm: 'Rotate',
    });
    if (!yes) return;
    rotate.disabled = true;
    try {
      await adminApi.rotateKey();
      toaster.show('A new signing key was published.');
      await load();
    } catch (error) {
      toaster.show(`Could not rotate: ${error.message}`);
    } finally {
      rotate.disabled = false;
    }
  });
  load().catch((error) => list.replaceChildren(h('li', {}, error.message)));
  return card(
    'admin-keys',
    'Signing keys',
    'The keys that sign PowerSync tokens, as the JWKS publishes them.',
    list,
    h('div', { class: 'form-actions' }, rotate),
  );
}

const SEVERITY = { ok: 'OK', warn: 'Warning', fail: 'Failed' };

function checkSection() {
  const list = h('ul', { class: 'admin-list check-list', 'aria-label': 'Checks' });
  const summary = h('p', { class: 'muted', role: 'status' }, 'Checking…');
  const again = h('button', { class: 'button', type: 'button' }, 'Check again');
  async function load() {
    again.disabled = true;
    summary.textContent = 'Checking…';
    try {
      const checks = await adminApi.check();
      const bad = checks.filter((c) => c.severity !== 'ok').length;
      summary.textContent = bad ? `${bad} of ${checks.length} checks need attention.` : `All ${checks.length} checks passed.`;
      replace(
        list,
        checks.map((c) =>
          h(
            'li',
            { class: `admin-row check check-${c.severity}` },
            h('span', { class: 'check-severity' }, SEVERITY[c.severity] ?? c.severity),
            h('span', { class: 'check-name' }, c.name),
            h('span', { class: 'check-message' }, c.message),
          ),
        ),
      );
    } catch (error) {
      summary.textContent = error.message;
    } finally {
      again.disabled = false;
    }
  }
  again.addEventListener('click', load);
  load();
  return card(
    'admin-check',
    'Server check',
    'What `notebox check` reports about Postgres, PowerSync and single sign-on. Read-only.',
    summary,
    list,
    h('div', { class: 'form-actions' }, again),
  );
}
