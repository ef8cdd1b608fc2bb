// The notebox HTTP API for what outlives a note's live row: the trash, the history of its
// versions, and settling an edit that could not merge. Nothing here is synced: it needs the
// server, and the result (a restored note, a new text) comes back to every device through sync.

import { ApiError, NetworkError, request } from './api.js';

const note = (id) => `/api/notes/${encodeURIComponent(id)}`;

export const editsApi = {
  /** → {notes: [{id, owner_id, notebook_id, title, body, created_at, updated_at, deleted_at, deleted_by, deleted_by_name}]} */
  trash: () => request('GET', '/api/trash'),
  restore: (id) => request('POST', `/api/trash/${encodeURIComponent(id)}/restore`, {}),
  // An empty JSON body: state-changing requests must be JSON (notebox's CSRF check).
  deleteForever: (id) => request('DELETE', `/api/trash/${encodeURIComponent(id)}`, {}),
  /** → {versions: [{id, title, body, created_at, created_by, created_by_name, reason, saved_at}]}, newest first */
  versions: (noteId) => request('GET', `${note(noteId)}/versions`),
  restoreVersion: (noteId, versionId) =>
    request('POST', `${note(noteId)}/versions/${encodeURIComponent(versionId)}/restore`, {}),
  /** keep: 'kept' | 'theirs' | 'both' (new_note_id: the copy's id) | 'merged' (text) */
  resolve: (noteId, conflictId, body) =>
    request('POST', `${note(noteId)}/conflicts/${encodeURIComponent(conflictId)}/resolve`, body),
};

/** The server's own sentence where it has one; plain words for the rest. */
export function explain(err) {
  if (err instanceof NetworkError) return 'You are offline: this needs the server. Try again when you are online.';
  if (err instanceof ApiError) return err.message;
  return String(err?.message ?? err);
}
