// The search index on the device: one made with another definition (the prefix indexes a
// version of search-index.js had) is rebuilt once, in the background, and finds what it
// found before; a search in a notebook lists that notebook's matches only (a ranked search
// reads its first rows with them).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, expectResults, openLoggedIn, sql } from '../lib.mjs';
import { openNotebook, seedNote, seedNotebook } from '../teams.mjs';

// The index as a version of search-index.js made it, with prefix indexes of 2 and 3 letters.
const OLD_INDEX = "CREATE VIRTUAL TABLE notes_search USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')";
let browser;
let user;
before(async () => {
  user = await createUser('Ivo Index');
  for (const [title, body] of [['Pastéis de nata', 'Egg yolks, cream.'], ['Lisbon trip', 'Pastéis at Belém.'], ['Groceries', 'Bread.']]) {
    await sql('INSERT INTO notes (id, owner_id, title, body) VALUES (gen_random_uuid(), $1, $2, $3)', [user.id, title, body]);
  }
  browser = await openLoggedIn(user, '3 notes');
});
after(async () => {
  await browser.close();
  await closeDb();
});

/** Runs `statements` in the user's local database, opened as the app opens it; the last one's rows. */
function local(page, statements) {
  return page.evaluate(async ([id, list]) => {
    const { openDatabase } = await import('/db.js');
    const db = openDatabase(id);
    await db.init();
    let rows = [];
    for (const statement of list) rows = (await db.execute(statement)).rows?._array ?? [];
    await db.close();
    return rows;
  }, [user.id, statements]);
}

/** Reloads the page; whether the search index was rebuilt on the way. */
async function reloadRebuilt(page) {
  await page.reload();
  await page.waitForFunction(() => performance.getEntriesByName('notebox:search-index-ready').length, null, { timeout: 30_000 });
  return page.evaluate(() => performance.getEntriesByName('notebox:search-index-rebuilt').length > 0);
}

test('an index made with the old definition is rebuilt once, and still finds what it did', async () => {
  const { page } = browser;
  await page.waitForFunction(() => performance.getEntriesByName('notebox:search-index-ready').length, null, { timeout: 30_000 });
  // The old index, full: one entry per note, so only its definition tells it apart.
  await local(page, [
    'DROP TABLE notes_search',
    OLD_INDEX,
    "INSERT INTO notes_search (rowid, title, body) SELECT rowid, json_extract(data, '$.title'), json_extract(data, '$.body') FROM ps_data__notes",
  ]);
  assert.equal(await reloadRebuilt(page), true, 'rebuilt after the reload');
  const [made] = await local(page, ["SELECT sql FROM sqlite_master WHERE name = 'notes_search'"]);
  assert.doesNotMatch(made.sql, /prefix/);
  assert.match(made.sql, /remove_diacritics 2'\)$/);
  assert.equal(await reloadRebuilt(page), false, 'rebuilt once only');
  await expectResults(page, 'pa', ['Pastéis de nata', 'Lisbon trip']);
  await expectResults(page, 'pasteis bel', ['Lisbon trip']);
  // The triggers keep the new index current.
  await sql("UPDATE notes SET body = 'Bread, pastéis.', updated_at = now() WHERE owner_id = $1 AND title = 'Groceries'", [user.id]);
  await expectResults(page, 'bread pasteis', ['Groceries']);
});

test('a search in a notebook lists its matches only', async () => {
  const { page } = browser;
  const notebook = await seedNotebook('Recipes', [[user, 'owner']]);
  await seedNote(notebook, user, 'Nata tarts', 'Pastéis, the shop’s own.');
  await page.getByRole('searchbox', { name: 'Search notes' }).fill('');
  await openNotebook(page, 'Recipes');
  await page.locator('.list-count', { hasText: '1 note' }).waitFor({ timeout: 20_000 });
  await expectResults(page, 'pasteis', ['Nata tarts']);
  assert.equal(await page.locator('.note-item mark').first().textContent(), 'Pastéis');
});
