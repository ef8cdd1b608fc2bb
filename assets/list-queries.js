// The notes list's SQL. The list asks for the ids of the notes it shows, in order (small even
// at 10,000 notes), and for the text of the few rows on screen only.

import { LIST_EXPR, LIST_ORDERS, MATCHES, MATCHING, SEARCH_SOURCE, matchQuery } from './search-index.js';

/** How the list can be ordered (remembered per device); pinned notes always come first. */
export const SORTS = {
  edited: { label: 'Last edited' },
  created: { label: 'Date created' },
  title: { label: 'Title' },
};

// Ranking costs about 25 µs a match in the browser's SQLite: a word in most notes ("the")
// would take a quarter of a second a keystroke, and ranks by noise anyway. Past this many
// matches a search lists them in the list's own order instead.
const RANKED_MATCHES = 2000;

/**
 * The ids in the list, in order (a search's best matches first), and `pinned`: how many
 * lead it pinned (0 in a search). All read the synced table through the list's covering
 * indexes (search-index.js, created with the search index: a search waits for them, the list
 * does not), so none parses a note.
 */
export async function readListIds(db, { scope, query, sort }) {
  const match = matchQuery(query);
  let found;
  if (!match) found = await db.get(...listIds(scope, sort));
  else {
    const { matches } = await db.get(`SELECT count(*) AS matches FROM ${MATCHING}`, [match]);
    found = await db.get(...(matches > RANKED_MATCHES ? unrankedSearch(scope, sort, match) : rankedSearch(scope, match)));
  }
  return { ids: JSON.parse(found.ids), pinned: query ? 0 : found.pinned };
}

const inScope = (scope) => (scope ? `${LIST_EXPR.notebook} = ?1` : `${LIST_EXPR.notebook} IS NULL`);

// The ids come back as one JSON array: one value crosses from the database's worker to the
// page, not 10,000 rows (several times faster). The subquery's order is the array's.
const asOneArray = (ordered) => `SELECT json_group_array(id) AS ids, total(pinned) AS pinned FROM (${ordered})`;

function listIds(scope, sort) {
  const sql = `SELECT id, ${LIST_EXPR.pinned} AS pinned FROM ${SEARCH_SOURCE}
                WHERE ${inScope(scope)} ORDER BY ${LIST_ORDERS[sort]}`;
  return [asOneArray(sql), scope ? [scope] : []];
}

// The matches once (FTS5 and bm25), then the notebook's index entries probe them.
function rankedSearch(scope, match) {
  const sql = `WITH m AS MATERIALIZED (${MATCHES.replace('?1', '?2')})
               SELECT d.id, 0 AS pinned FROM ${SEARCH_SOURCE} d INDEXED BY notes_list_edited JOIN m ON m.note_rowid = d.rowid
                WHERE ${inScope(scope)}
                ORDER BY m.rank, d.id`;
  return [asOneArray(sql), [scope ?? '', match]];
}

// The list's order: its index, read in order, keeps the notes that match.
function unrankedSearch(scope, sort, match) {
  const sql = `SELECT id, 0 AS pinned FROM ${SEARCH_SOURCE} INDEXED BY notes_list_${sort}
                WHERE ${inScope(scope)} AND rowid IN (SELECT rowid FROM ${MATCHING.replace('?1', '?2')})
                ORDER BY ${LIST_ORDERS[sort]}`;
  return [asOneArray(sql), [scope ?? '', match]];
}

/**
 * [sql, params] of what the rows on screen show: the start of the body, where the list finds
 * the first match of a search for the snippet (list-text.js) — cheaper than FTS5's snippet().
 */
export function rowsQuery(ids, query) {
  return [
    `SELECT id, substr(title, 1, 300) AS title, substr(body, 1, ${snippetLength(query)}) AS snippet, updated_at, created_at,
            coalesce(pinned, 0) AS pinned,
            EXISTS (SELECT 1 FROM note_conflicts c WHERE c.note_id = notes.id) AS conflicted
       FROM notes WHERE id IN (SELECT value FROM json_each(?1))`,
    [JSON.stringify(ids)],
  ];
}

/** How much of the body a row reads: a search's snippet may start further in. */
export const snippetLength = (query) => (query ? 4000 : 400);
