// The notes list's SQL. The list asks for the ids of the notes it shows, in order (small even
// at 10,000 notes), and for the text of the few rows on screen only.

import { LIST_EXPR, LIST_ORDERS, MATCHES, SEARCH_SOURCE, matchQuery } from './search-index.js';

/** How the list can be ordered (remembered per device); pinned notes always come first. */
export const SORTS = {
  edited: { label: 'Last edited' },
  created: { label: 'Date created' },
  title: { label: 'Title' },
};

/**
 * [sql, params, tables] of the ids in the list, in order: a search's best matches first.
 * Both read the synced table through the list's covering indexes (search-index.js), so
 * neither parses a note; a search probes the index of its notebook for the matching rows.
 */
export function idsQuery({ scope, query, sort }) {
  const order = LIST_ORDERS[sort] ?? LIST_ORDERS.edited;
  const inScope = scope ? `${LIST_EXPR.notebook} = ?1` : `${LIST_EXPR.notebook} IS NULL`;
  const match = matchQuery(query);
  if (!match) {
    return [`SELECT id FROM ${SEARCH_SOURCE} WHERE ${inScope} ORDER BY ${order}`, scope ? [scope] : [], ['notes']];
  }
  // The matches once (FTS5 and bm25), then the notebook's index entries probe them.
  return [
    `WITH m AS MATERIALIZED (${MATCHES.replace('?1', '?2')})
     SELECT d.id FROM ${SEARCH_SOURCE} d INDEXED BY notes_list_edited JOIN m ON m.note_rowid = d.rowid
      WHERE ${inScope}
      ORDER BY m.rank, d.id`,
    [scope ?? '', match],
    ['notes'],
  ];
}

/**
 * [sql, params] of what the rows on screen show: the start of the body, where the list finds
 * the first match of a search for the snippet (list-text.js) — cheaper than FTS5's snippet().
 */
export function rowsQuery(ids, query) {
  const length = query ? 4000 : 400;
  return [
    `SELECT id, substr(title, 1, 300) AS title, substr(body, 1, ${length}) AS snippet, updated_at, created_at,
            coalesce(pinned, 0) AS pinned,
            EXISTS (SELECT 1 FROM note_conflicts c WHERE c.note_id = notes.id) AS conflicted
       FROM notes WHERE id IN (SELECT value FROM json_each(?1))`,
    [JSON.stringify(ids)],
  ];
}
