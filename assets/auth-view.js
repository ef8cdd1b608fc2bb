// First-run setup, login and sign-up.

import { api, ApiError } from './api.js';
import { h, icon, replace } from './dom.js';

const COPY = {
  setup: {
    title: 'Welcome to notebox',
    lead: 'Create the administrator account to get started. Once you are in, you can share notebooks with other people.',
    submit: 'Create admin account',
    busy: 'Creating account…',
  },
  login: {
    title: 'Log in',
    lead: 'Your notes, on every device, even offline.',
    submit: 'Log in',
    busy: 'Logging in…',
  },
  signup: {
    title: 'Create your account',
    lead: 'Your notes, on every device, even offline.',
    submit: 'Create account',
    busy: 'Creating account…',
  },
};

const MIN_PASSWORD = 10;

/**
 * @param {HTMLElement} root
 * @param {{mode: 'setup'|'login'|'signup', signupOpen: boolean, notice?: string,
 *          email?: string, onSignedIn: (user) => void, copy?: object,
 *          signup?: (email, password, name) => Promise,
 *          decorate?: (card: HTMLElement, parts: {mode, form}) => void}} options
 */
export function renderAuth(root, options) {
  const { mode } = options;
  // An invitation words the card its own way and signs up with its token.
  const copy = { ...COPY[mode], ...options.copy?.[mode] };
  const setupToken = new URLSearchParams(location.search).get('setup_token');
  if (mode === 'setup' && !setupToken) return renderSetupLinkNeeded(root, options);
  const asksName = mode !== 'login';
  document.title = mode === 'login' ? 'Log in · notebox' : `${copy.title} · notebox`;

  const error = h('p', { class: 'form-error', role: 'alert', id: 'auth-error', hidden: true });
  const name = asksName
    ? field('display_name', 'Your name', { autocomplete: 'name', required: true, maxlength: 200 })
    : null;
  const email = field('email', 'Email', {
    type: 'email',
    autocomplete: 'email',
    required: true,
    value: options.email ?? '',
  });
  const password = passwordField(mode === 'login' ? 'current-password' : 'new-password', asksName);
  const submit = h('button', { class: 'button primary block', type: 'submit' }, copy.submit);

  const form = h(
    'form',
    { class: 'stack', novalidate: true, 'aria-describedby': 'auth-error' },
    name?.wrapper,
    email.wrapper,
    password.wrapper,
    error,
    submit,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const problem = validate();
    if (problem) return showError(problem.message, problem.input);
    setBusy(true);
    try {
      const answer =
        mode === 'login'
          ? await api.login(email.input.value.trim(), password.input.value)
          : await (options.signup ?? api.signup)(
              email.input.value.trim(),
              password.input.value,
              name.input.value.trim(),
              mode === 'setup' ? { setup_token: setupToken } : {},
            );
      if (mode === 'setup') forgetSetupToken();
      options.onSignedIn(answer.user);
    } catch (err) {
      setBusy(false);
      const input = err instanceof ApiError && err.status === 409 ? email.input : password.input;
      showError(err.message, input);
    }
  });

  function validate() {
    if (name && !name.input.value.trim()) return { message: 'Tell us your name.', input: name.input };
    const address = email.input.value.trim();
    if (!address || !address.includes('@')) return { message: 'Enter your email address.', input: email.input };
    if (!password.input.value) return { message: 'Enter your password.', input: password.input };
    if (mode !== 'login' && password.input.value.length < MIN_PASSWORD) {
      return { message: `Use at least ${MIN_PASSWORD} characters for your password.`, input: password.input };
    }
    return null;
  }

  function showError(message, input) {
    error.textContent = message;
    error.hidden = false;
    for (const el of form.querySelectorAll('input')) el.removeAttribute('aria-invalid');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  function setBusy(busy) {
    submit.disabled = busy;
    submit.textContent = busy ? copy.busy : copy.submit;
    form.setAttribute('aria-busy', String(busy));
  }

  const switcher = switchLink(mode, options, root);
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': 'auth-title' },
    h('div', { class: 'brand brand-large' }, logo(), h('span', {}, 'notebox')),
    h('h1', { id: 'auth-title' }, copy.title),
    h('p', { class: 'muted' }, copy.lead),
    options.notice ? h('p', { class: 'notice', role: 'status' }, options.notice) : null,
    form,
    switcher,
  );
  replace(root, h('main', { class: 'auth' }, card));
  options.decorate?.(card, { mode, form });
  (name?.input ?? (email.input.value ? password.input : email.input)).focus();
}

/**
 * First run without the setup link's token: the admin account can only be created by whoever
 * started the server, so say where the link is instead of offering a form that would be refused.
 */
/** First run without the setup link: no form; single sign-on (when configured) still works. */
function renderSetupLinkNeeded(root, options = {}) {
  document.title = `${COPY.setup.title} · notebox`;
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': 'auth-title' },
    h('div', { class: 'brand brand-large' }, logo(), h('span', {}, 'notebox')),
    h('h1', { id: 'auth-title' }, COPY.setup.title),
    h(
      'p',
      { class: 'notice', role: 'status' },
      'This server has no admin account yet. To create it, open the one-time setup link that ',
      h('code', {}, 'notebox serve'),
      ' printed when it started, or run ',
      h('code', {}, 'notebox setup-link'),
      ' on the server for a new one.',
    ),
  );
  // The team's identity provider decides who may sign in (and, with admin_group, who
  // becomes admin), so its button needs no setup link.
  options.decorate?.(card, { mode: 'setup', form: null });
  replace(root, h('main', { class: 'auth' }, card));
}

/** The token is spent: take it out of the address bar (and so out of history and bookmarks). */
function forgetSetupToken() {
  const url = new URL(location.href);
  url.searchParams.delete('setup_token');
  history.replaceState(history.state, '', url);
}

function switchLink(mode, options, root) {
  const go = (next) => (event) => {
    event.preventDefault();
    renderAuth(root, { ...options, mode: next, notice: undefined });
  };
  if (mode === 'login' && options.signupOpen) {
    return h('p', { class: 'switch' }, 'New here? ', h('a', { href: '#signup', onclick: go('signup') }, 'Create an account'));
  }
  if (mode === 'signup') {
    return h('p', { class: 'switch' }, 'Already have an account? ', h('a', { href: '#login', onclick: go('login') }, 'Log in'));
  }
  return null;
}

function field(name, label, attrs = {}) {
  const id = `field-${name}`;
  const input = h('input', { id, name, type: 'text', ...attrs });
  const wrapper = h('div', { class: 'field' }, h('label', { for: id }, label), input);
  return { input, wrapper };
}

function passwordField(autocomplete, withHint) {
  const id = 'field-password';
  const hintId = 'password-hint';
  const input = h('input', {
    id,
    name: 'password',
    type: 'password',
    autocomplete,
    required: true,
    minlength: withHint ? MIN_PASSWORD : null,
    'aria-describedby': withHint ? hintId : null,
  });
  const toggle = h(
    'button',
    { class: 'reveal', type: 'button', 'aria-label': 'Show password', 'aria-pressed': 'false' },
    icon('eye'),
  );
  toggle.addEventListener('click', () => {
    const shown = input.type === 'text';
    input.type = shown ? 'password' : 'text';
    toggle.setAttribute('aria-pressed', String(!shown));
    toggle.setAttribute('aria-label', shown ? 'Show password' : 'Hide password');
  });
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, 'Password'),
    h('div', { class: 'with-action' }, input, toggle),
    withHint ? h('p', { class: 'hint', id: hintId }, `At least ${MIN_PASSWORD} characters.`) : null,
  );
  return { input, wrapper };
}

export function logo() {
  const svg = h('svg:svg', { class: 'logo', viewBox: '0 0 32 32', 'aria-hidden': 'true', focusable: 'false' });
  svg.append(
    h('svg:rect', { x: 4, y: 3, width: 24, height: 26, rx: 6, class: 'logo-page' }),
    h('svg:path', { d: 'M10 11h12M10 16h12M10 21h7', class: 'logo-lines' }),
  );
  return svg;
}
