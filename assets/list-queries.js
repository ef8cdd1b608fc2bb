// The notes list's SQL. The list asks for the ids of the notes it shows, in order (small even
// at 10,000 notes), and for the text of the few rows on screen only.

import { MATCHES, SEARCH_SOURCE, matchQuery } from './search-index.js';

/** How the list can be ordered (remembered per device); pinned notes always come first. */
export const SORTS = {
  edited: { label: 'Last edited', order: "coalesce(julianday(replace(updated_at, ' ', 'T')), 0) DESC, updated_at DESC" },
  created: { label: 'Date created', order: "coalesce(julianday(replace(created_at, ' ', 'T')), 0) DESC, created_at DESC" },
  title: { label: 'Title', order: "(trim(coalesce(title, '')) = '') ASC, trim(title) COLLATE NOCASE ASC" },
};

// ?1: the notebook id, '' for Personal.
const IN_SCOPE = "(CASE WHEN ?1 = '' THEN notebook_id IS NULL ELSE notebook_id = ?1 END)";

/** [sql, params, tables] of the ids in the list, in order: a search's best matches first. */
export function idsQuery({ scope, query, sort }) {
  const match = matchQuery(query);
  if (!match) {
    const order = (SORTS[sort] ?? SORTS.edited).order;
    return [`SELECT id FROM notes WHERE ${IN_SCOPE} ORDER BY coalesce(pinned, 0) DESC, ${order}, id`, [scope ?? ''], ['notes']];
  }
  return [
    `SELECT notes.id FROM (${MATCHES.replace('?1', '?2')}) m
       JOIN ${SEARCH_SOURCE} d ON d.rowid = m.rowid
       JOIN notes ON notes.id = d.id
      WHERE ${IN_SCOPE}
      ORDER BY m.rank, notes.id`,
    [scope ?? '', match],
    ['notes'],
  ];
}

/**
 * [sql, params] of what the rows on screen show. In a search the snippet is the part of the
 * body with the most matching words (FTS5's snippet(), cut at word boundaries).
 */
export function rowsQuery(ids, query) {
  const match = matchQuery(query);
  const columns = `notes.id, substr(notes.title, 1, 300) AS title, notes.updated_at, notes.created_at,
                   coalesce(notes.pinned, 0) AS pinned,
                   EXISTS (SELECT 1 FROM note_conflicts c WHERE c.note_id = notes.id) AS conflicted`;
  const wanted = 'notes.id IN (SELECT value FROM json_each(?1))';
  if (!match) {
    return [`SELECT ${columns}, substr(notes.body, 1, 400) AS snippet FROM notes WHERE ${wanted}`, [JSON.stringify(ids)]];
  }
  return [
    `SELECT ${columns},
            coalesce(nullif((SELECT snippet(notes_search, 1, '', '', '…', 24) FROM notes_search
                              WHERE notes_search MATCH ?2 AND notes_search.rowid = d.rowid), ''),
                     substr(notes.body, 1, 400)) AS snippet
       FROM notes JOIN ${SEARCH_SOURCE} d ON d.id = notes.id
      WHERE ${wanted}`,
    [JSON.stringify(ids), match],
  ];
}
