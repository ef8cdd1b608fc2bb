// Full-text search over the notes on this device: an SQLite FTS5 index in the browser's own
// PowerSync database, kept current by triggers on the table PowerSync stores synced notes in
// (ps_data__notes: id + the row as JSON; the `notes` view reads from it), as PowerSync
// documents for client-side search. Accent folding (`remove_diacritics 2`: "pasteis" finds
// "pastéis"), every word must match, each as a prefix, best matches first (bm25).

const INDEX = 'notes_search';
const SOURCE = 'ps_data__notes';
// No prefix indexes (FTS5's `prefix = '2 3'`, which a version had): they made short prefixes
// cheaper to count but the database larger (30 MB at 10,000 notes, near the 32 MB under
// which the notes are pre-read below), and searches were no faster for them: a search is
// one statement either way (list-queries.js). Changing this text rebuilds the index on
// every device (below), once.
const DEFINITION = "USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')";
const TEXT = (row) => `coalesce(json_extract(${row}.data, '$.title'), ''), coalesce(json_extract(${row}.data, '$.body'), '')`;

/**
 * Creates the search index and its triggers, and the list's indexes, once per database, and
 * rebuilds the search index when it does not hold one entry per note (a database from before
 * the index, or one cleared at logout) or was made with another DEFINITION; then reads it into
 * memory.
 * PowerSync writes synced rows with INSERT OR REPLACE, whose implicit delete fires no delete
 * trigger: the BEFORE INSERT trigger drops the entry of the row being replaced instead.
 */
export async function ensureSearchIndex(db) {
  await db.writeTransaction(async (tx) => {
    const made = await tx.getOptional(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, [INDEX]);
    // One made with another definition goes: made again, empty, it is filled below like a new one.
    if (made && !made.sql.endsWith(DEFINITION)) await tx.execute(`DROP TABLE ${INDEX}`);
    await tx.execute(`CREATE VIRTUAL TABLE IF NOT EXISTS ${INDEX} ${DEFINITION}`);
    await tx.execute(
      `CREATE TRIGGER IF NOT EXISTS ${INDEX}_replace BEFORE INSERT ON ${SOURCE} BEGIN
         DELETE FROM ${INDEX} WHERE rowid = (SELECT rowid FROM ${SOURCE} WHERE id = NEW.id);
       END`,
    );
    await tx.execute(
      `CREATE TRIGGER IF NOT EXISTS ${INDEX}_insert AFTER INSERT ON ${SOURCE} BEGIN
         INSERT INTO ${INDEX} (rowid, title, body) VALUES (NEW.rowid, ${TEXT('NEW')});
       END`,
    );
    await tx.execute(
      `CREATE TRIGGER IF NOT EXISTS ${INDEX}_update AFTER UPDATE ON ${SOURCE} BEGIN
         DELETE FROM ${INDEX} WHERE rowid = OLD.rowid;
         INSERT INTO ${INDEX} (rowid, title, body) VALUES (NEW.rowid, ${TEXT('NEW')});
       END`,
    );
    await tx.execute(
      `CREATE TRIGGER IF NOT EXISTS ${INDEX}_delete AFTER DELETE ON ${SOURCE} BEGIN
         DELETE FROM ${INDEX} WHERE rowid = OLD.rowid;
       END`,
    );
    for (const [name, columns] of Object.entries(LIST_INDEXES)) {
      await tx.execute(`CREATE INDEX IF NOT EXISTS ${name} ON ${SOURCE} (${columns})`);
    }
    const { indexed, notes } = await tx.get(
      // The docsize table has one small row per indexed note: cheaper to count than the index.
      `SELECT (SELECT count(*) FROM ${INDEX}_docsize) AS indexed, (SELECT count(*) FROM ${SOURCE}) AS notes`,
    );
    if (indexed !== notes) {
      await tx.execute(`DELETE FROM ${INDEX}`);
      await tx.execute(`INSERT INTO ${INDEX} (rowid, title, body) SELECT rowid, ${TEXT(SOURCE)} FROM ${SOURCE}`);
      performance.mark('notebox:search-index-rebuilt');
    }
  });
  // The index's pages are read from IndexedDB the first time a search needs them (a third of
  // a second at 10,000 notes, in the database's worker): read them all once now, while nobody
  // waits, so the first search finds them in SQLite's page cache.
  await db.get(`SELECT sum(length(block)) AS bytes FROM ${INDEX}_data`);
  // And the notes' sizes, which ranking (bm25) reads for every match.
  await db.get(`SELECT sum(length(sz)) AS bytes FROM ${INDEX}_docsize`);
  // And the index of the notes' ids, through which the list reads the rows it shows: a ranked
  // search's first rows lie anywhere in it, each otherwise a first read from IndexedDB.
  await db.get(`SELECT sum(length(id)) AS bytes FROM ${SOURCE} WHERE id > ''`);
  // And the notes themselves, while the whole database fits in SQLite's page cache (the SDK's
  // default is 50 MB): a search's matches lie anywhere in the table, and the rows it shows
  // would otherwise each be a first read from IndexedDB.
  const { bytes } = await db.get('SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()');
  if (bytes <= 32 * 1024 * 1024) await db.get(`SELECT sum(length(data)) AS bytes FROM ${SOURCE}`);
  performance.mark('notebox:search-index-ready');
}

// The notes list's orders as covering indexes on the synced table: listing 10,000 ids in
// order reads these small indexes only, never the notes' JSON (title and body included).
// The expressions here and in the list's queries must be identical for SQLite to use them.
const field = (name) => `json_extract(data, '$.${name}')`;
export const LIST_EXPR = {
  notebook: field('notebook_id'),
  pinned: `coalesce(${field('pinned')}, 0)`,
  edited: `coalesce(julianday(replace(${field('updated_at')}, ' ', 'T')), 0)`,
  created: `coalesce(julianday(replace(${field('created_at')}, ' ', 'T')), 0)`,
  untitled: `(trim(coalesce(${field('title')}, '')) = '')`,
  title: `trim(coalesce(${field('title')}, '')) COLLATE NOCASE`,
};
/** Per sort: the ORDER BY after the notebook (pinned first), also the index's columns. */
export const LIST_ORDERS = {
  edited: `${LIST_EXPR.pinned} DESC, ${LIST_EXPR.edited} DESC, id DESC`,
  created: `${LIST_EXPR.pinned} DESC, ${LIST_EXPR.created} DESC, id DESC`,
  title: `${LIST_EXPR.pinned} DESC, ${LIST_EXPR.untitled} ASC, ${LIST_EXPR.title} ASC, id ASC`,
};
const LIST_INDEXES = Object.fromEntries(
  Object.entries(LIST_ORDERS).map(([sort, order]) => [`notes_list_${sort}`, `${LIST_EXPR.notebook}, ${order}`]),
);

/**
 * What the user typed as an FTS5 query: every word must be there, each as the start of a
 * word ("pan ov" finds "Pancakes in the oven"). Words are quoted, so nothing typed is read
 * as FTS syntax. '' when there is nothing to look for.
 */
export function matchQuery(text) {
  return terms(text)
    .map((term) => `"${term.replaceAll('"', '""')}"*`)
    .join(' AND ');
}

/** The words of a search, folded as the index folds them (lowercase, no accents). */
export function terms(text) {
  return fold(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Lowercase without diacritics: "Pastéis" → "pasteis". */
export function fold(text) {
  return (text ?? '').normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** FROM this: the index entries of a search's matches (rowid: ps_data__notes'). ?1: matchQuery. */
export const MATCHING = `${INDEX} WHERE ${INDEX} MATCH ?1`;
/** The SQL of a search's matches (rowids of ps_data__notes) with their rank, best first. */
export const MATCHES = `SELECT rowid AS note_rowid, bm25(${INDEX}, 4.0, 1.0) AS rank FROM ${MATCHING}`;
export const SEARCH_SOURCE = SOURCE;
