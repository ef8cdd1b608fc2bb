// The notebox HTTP API for teams: memberships and invitations change only here (never
// through uploads); the result arrives on every member's device through sync.

import { request } from './api.js';

const path = (id) => `/api/notebooks/${encodeURIComponent(id)}/members`;

export const teamsApi = {
  addMember: (notebookId, email, role) => request('POST', path(notebookId), { email, role }),
  setRole: (notebookId, userId, role) => request('PATCH', `${path(notebookId)}/${encodeURIComponent(userId)}`, { role }),
  /** Removing yourself is leaving. */
  // An empty JSON body: state-changing requests must be JSON (notebox's CSRF check).
  removeMember: (notebookId, userId) => request('DELETE', `${path(notebookId)}/${encodeURIComponent(userId)}`, {}),
  /** → {id, url, expires_at} */
  invite: (email, notebookId, role) => request('POST', '/api/invitations', { email, notebook_id: notebookId, role }),
  /** What an invitation is for (public: the invited person has no session yet). */
  invitation: (token) => request('GET', `/api/invitations/${encodeURIComponent(token)}`),
  accept: (token) => request('POST', '/api/invitations/accept', { token }),
  signup: (invitation, email, password, display_name) =>
    request('POST', '/api/auth/signup', { email, password, display_name, invitation }),
};
