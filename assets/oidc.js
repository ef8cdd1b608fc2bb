// Single sign-on on the login and first-run screens: the "Sign in with …" button, the
// password form hidden when the server turned passwords off, and the one sentence that
// explains a failed sign-in (the server sends the browser back with ?login_error=CODE).

import { h } from './dom.js';

const SENTENCES = {
  cancelled: (p) => `Sign-in with ${p} was cancelled.`,
  provider: (p) => `${p} refused the sign-in. Try again, or ask an admin to check the notebox logs.`,
  unreachable: (p) => `${p} could not be reached. Try again in a moment.`,
  client: (p) => `${p} did not accept notebox's client credentials. Ask an admin to check the single sign-on settings.`,
  expired: () => 'That sign-in expired or was already used. Please try again.',
  token: (p) => `${p}'s answer could not be verified. Ask an admin to check the notebox logs.`,
  clock: (p) => `${p}'s sign-in had expired when it arrived: the clocks of notebox and ${p} probably disagree. Ask an admin to check them.`,
  unverified: (p) => `${p} has not verified your email address. Verify it there, then try again.`,
  domain: () => 'Your email address is not in a domain this notebox accepts.',
  no_account: () => 'There is no notebox account for your email address yet. Ask an admin to create one.',
  disabled: () => 'This account is disabled. Ask an admin.',
  linked: (p) => `The notebox account with your email address is already linked to another ${p} account.`,
  not_configured: () => 'Single sign-on is not set up on this notebox.',
  too_many: () => 'Too many sign-in attempts from your address. Wait a minute, then try again.',
  server: () => 'Sign-in failed on the server. Try again in a moment.',
};

// Read once and taken off the address bar, so a reload does not repeat it.
let pendingError = new URLSearchParams(location.search).get('login_error');
if (pendingError) history.replaceState(null, '', location.pathname);

/** {button_label, login_url, password_login} from the server; no single sign-on if unreachable. */
export async function loadSingleSignOn() {
  try {
    const response = await fetch('/api/auth/oidc', { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (response.ok) return await response.json();
  } catch {
    // Offline: the login screen works as without single sign-on.
  }
  return { button_label: null, login_url: null, password_login: true };
}

/** Adds single sign-on to a rendered auth card (called by renderAuth as `options.decorate`). */
export function decorateAuth(settings, card, { form }) {
  const label = settings.button_label ?? 'your identity provider';
  if (pendingError) {
    const sentence = (SENTENCES[pendingError] ?? SENTENCES.server)(label);
    card.insertBefore(h('p', { class: 'form-error', role: 'alert' }, sentence), form);
    pendingError = null;
  }
  if (settings.login_url) {
    const button = h('a', { class: 'button primary block', href: settings.login_url }, `Sign in with ${label}`);
    card.insertBefore(button, form);
    if (settings.password_login && form) card.insertBefore(h('p', { class: 'switch' }, 'or with your password'), form);
  }
  if (!settings.password_login && form) {
    form.hidden = true;
    card.querySelector('.switch:last-child')?.remove();
  }
}
