// The notes list's SQL. The list asks for the ids of the notes it shows, in order (small even
// at 10,000 notes), and for the text of the few rows on screen only.

import { MAX_ROWS } from './first-screen.js';
import { LIST_EXPR, LIST_ORDERS, MATCHES, MATCHING, SEARCH_SOURCE, matchQuery } from './search-index.js';

/** How the list can be ordered (remembered per device); pinned notes always come first. */
export const SORTS = {
  edited: { label: 'Last edited' },
  created: { label: 'Date created' },
  title: { label: 'Title' },
};

// Ranking costs about 40 µs a match in the browser's SQLite: a prefix in many notes ("pas",
// "the") would take a tenth of a second or more a keystroke, and ranks by noise anyway. Past
// this many matches a search lists them in the list's own order instead.
const RANKED_MATCHES = 500;

/**
 * Reads the ids in the list, in order (a search's best matches first), and `pinned`: how many
 * lead it pinned (0 in a search). The list without a search is read through the list's
 * covering indexes (search-index.js: none parses a note), with each note's rowid; a search
 * asks FTS5 for the rowids of its matches only and keeps, in that list, the notes that match
 * (one small query instead of probing the list's index with every match). A ranked search
 * brings its first rows along (`rows`). Its last read of the list is reused until `changed()`
 * says the notes changed: by a search, and by the list itself when a search is cleared (no
 * trip to the database, and none of the garbage of 10,000 ids read again, whose collection
 * in the database's worker could then stall the next search).
 */
export function createListReader(db) {
  let version = 0; // bumped by every change to the notes
  let list = null; // {scope, sort, version, ids, rowids, pinned, position: rowid → index}

  async function readList(scope, sort) {
    if (list?.scope === scope && list.sort === sort && list.version === version) return list;
    const at = version;
    const found = await db.get(...listIds(scope, sort));
    list = { scope, sort, version: at, ids: JSON.parse(found.ids), rowids: JSON.parse(found.rowids), pinned: found.pinned, position: null };
    return list;
  }

  async function search(scope, sort, match) {
    const [all, found] = await Promise.all([readList(scope, sort), db.get(...matchedQuery(scope, match))]);
    const matched = JSON.parse(found.rowids);
    if (found.ranked) {
      // Best first; the notes of other notebooks drop out here.
      all.position ??= new Map(all.rowids.map((rowid, index) => [rowid, index]));
      const ids = [];
      for (const rowid of matched) {
        const index = all.position.get(rowid);
        if (index !== undefined) ids.push(all.ids[index]);
      }
      return { ids, pinned: 0, rows: JSON.parse(found.rows) };
    }
    const wanted = new Set(matched);
    return { ids: all.ids.filter((id, index) => wanted.has(all.rowids[index])), pinned: 0, rows: [] };
  }

  return {
    /**
     * Runs a search once, so the first one the user types finds its statement, and the code
     * that ranks matches and reads their rows, ready: a search for one note's title, which
     * finds that note at least (one that found nothing left ranking and reading rows cold).
     */
    async warm() {
      const note = await db.getOptional(`SELECT title FROM notes WHERE title <> '' LIMIT 1`);
      await search(null, 'edited', matchQuery(note?.title) || '"notebox"*');
    },
    /** The notes changed (in the database, or written here): the list is read again. */
    changed() {
      version += 1;
    },
    /**
     * @returns {Promise<{ids: string[], pinned: number, rows: object[]}>} ids: a new array, the
     *   caller's to change; rows: some of the first ones (rowsQuery's columns), as read with the ids
     */
    async read({ scope, query, sort }) {
      const match = matchQuery(query);
      if (match) return search(scope, sort, match);
      const all = await readList(scope, sort);
      return { ids: all.ids.slice(), pinned: all.pinned, rows: [] };
    },
  };
}

/** SQL: the note is in the notebook `param` (bound to `scope`), or personal (scope null). */
const inScope = (scope, param = '?1') => (scope ? `${LIST_EXPR.notebook} = ${param}` : `${LIST_EXPR.notebook} IS NULL`);

// The ids (and rowids) come back as JSON arrays: one value crosses from the database's worker
// to the page, not 10,000 rows (several times faster). The subquery's order is the arrays'.
function listIds(scope, sort) {
  const sql = `SELECT id, rowid, ${LIST_EXPR.pinned} AS pinned FROM ${SEARCH_SOURCE}
                WHERE ${inScope(scope)} ORDER BY ${LIST_ORDERS[sort]}`;
  return [`SELECT json_group_array(id) AS ids, json_group_array(rowid) AS rowids, total(pinned) AS pinned FROM (${sql})`, scope ? [scope] : []];
}

/**
 * [sql, params] of a search's matches, one statement (one trip to the database's worker, which
 * reads the database once): `rowids` (in ps_data__notes) best first when `ranked` (FTS5's bm25,
 * a title match counting four times a body match) when there are few enough to rank, else in
 * no order. One pass over the matches gives their rowids and their count: a search with many
 * matches ("the") asks FTS5 once (a count that stopped past RANKED_MATCHES, then the rowids,
 * took a third longer); a ranked one asks again, for bm25. When ranked, `rows`: the first
 * MAX_ROWS (a tall screen's worth) in the notebook, as the list shows them. A ranked
 * search's first notes are seldom the rows the list has read already; the others keep the
 * list's order, so its first rows are often on screen before the search. (CROSS JOIN: the
 * matches first, each note found by its rowid; left to itself SQLite scans a list index of the
 * whole notebook for them, 40 ms and more, 180 ms when that index was not read yet.)
 */
function matchedQuery(scope, match) {
  const sql = `WITH m AS (SELECT count(*) <= ${RANKED_MATCHES} AS ranked, json_group_array(rowid) AS rowids FROM ${MATCHING}),
         r AS MATERIALIZED (${MATCHES})
    SELECT ranked,
           CASE WHEN ranked THEN (SELECT json_group_array(note_rowid) FROM (SELECT note_rowid FROM r ORDER BY rank, note_rowid))
                ELSE rowids END AS rowids,
           CASE WHEN ranked THEN (
             SELECT json_group_array(json_object(${rowColumns(snippetLength(match)).map(([name, value]) => `'${name}', ${value}`).join(', ')}))
               FROM notes WHERE id IN (
                 SELECT s.id FROM r CROSS JOIN ${SEARCH_SOURCE} s ON s.rowid = r.note_rowid
                  WHERE ${inScope(scope, '?2')} ORDER BY rank, note_rowid LIMIT ${MAX_ROWS}))
           END AS rows
      FROM m`;
  return [sql, scope ? [match, scope] : [match]];
}

/**
 * A row of the list as [name, SQL over `notes`]: `snippet` characters of the body, where the
 * list finds the first match of a search for the snippet (list-text.js) — cheaper than FTS5's
 * snippet().
 */
const rowColumns = (snippet) => [
  ['id', 'id'],
  ['title', 'substr(title, 1, 300)'],
  ['snippet', `substr(body, 1, ${snippet})`],
  ['updated_at', 'updated_at'],
  ['created_at', 'created_at'],
  ['pinned', 'coalesce(pinned, 0)'],
  ['conflicted', 'EXISTS (SELECT 1 FROM note_conflicts c WHERE c.note_id = notes.id)'],
];

/** [sql, params] of what the rows on screen show (rowColumns). */
export function rowsQuery(ids, query) {
  const columns = rowColumns(snippetLength(query)).map(([name, value]) => `${value} AS ${name}`);
  return [`SELECT ${columns.join(', ')} FROM notes WHERE id IN (SELECT value FROM json_each(?1))`, [JSON.stringify(ids)]];
}

/** How much of the body a row reads: a search's snippet may start further in. */
export const snippetLength = (query) => (query ? 4000 : 400);
