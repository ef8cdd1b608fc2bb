// The account and admin APIs (/api/account/*, /api/admin/*), over api.js's request().

import { request } from './api.js';

export const accountApi = {
  /** → the user, with the new display name. */
  setDisplayName: (display_name) => request('PATCH', '/api/account', { display_name }),
  /** → {sessions_ended}: every other session is logged out, this one stays. */
  changePassword: (current_password, new_password) =>
    request('POST', '/api/account/password', { current_password, new_password }),
  /** → [{id, created_at, last_seen_at, expires_at, current}] */
  sessions: () => request('GET', '/api/account/sessions'),
  revokeSession: (id) => request('DELETE', `/api/account/sessions/${encodeURIComponent(id)}`, {}),
};

export const adminApi = {
  /** → [{id, email, display_name, is_admin, created_at, last_seen_at, disabled_at}] */
  users: () => request('GET', '/api/admin/users'),
  /** → {user, password}: the one-time password, shown once. */
  createUser: (email, display_name, is_admin) => request('POST', '/api/admin/users', { email, display_name, is_admin }),
  disable: (id) => request('POST', `/api/admin/users/${id}/disable`, {}),
  enable: (id) => request('POST', `/api/admin/users/${id}/enable`, {}),
  /** → {user, password} */
  resetPassword: (id) => request('POST', `/api/admin/users/${id}/password`, {}),
  /** → {signup, signup_default} */
  settings: () => request('GET', '/api/admin/settings'),
  setSignup: (signup) => request('PUT', '/api/admin/settings', { signup }),
  /** → [{kid, created_at, signing_from, retire_after, state}] */
  keys: () => request('GET', '/api/admin/keys'),
  rotateKey: () => request('POST', '/api/admin/keys/rotate', {}),
  /** → [{name, severity: ok|warn|fail, message}] */
  check: () => request('GET', '/api/admin/check'),
};
