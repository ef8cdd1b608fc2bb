// A search matching more notes than are worth ranking (over 500: ranking them all would cost
// a tenth of a second or more a keystroke at 10,000 notes) lists its matches in the list's own
// order, pinned first; a narrower one still ranks its matches, title before body.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, openLoggedIn, poll, sql } from '../lib.mjs';

const NOTES = 2100;
let browser;
let user;
before(async () => {
  user = await createUser('Bea Broad');
  // Note 1 is the most recently edited; every note mentions "common", one in ten "rare"
  // (in its body), and note 2000 has "rare" in its title.
  await sql(
    `INSERT INTO notes (id, owner_id, title, body, created_at, updated_at, pinned)
     SELECT gen_random_uuid(), $1, CASE WHEN i = 2000 THEN 'Rare find' ELSE 'Note ' || i END,
            'A common line' || CASE WHEN i % 10 = 0 THEN ', and a rare one.' ELSE '.' END,
            now() - make_interval(mins => i), now() - make_interval(mins => i), i = 7
       FROM generate_series(1, $2::int) AS i`,
    [user.id, NOTES],
  );
  browser = await openLoggedIn(user, '2,100 notes', { timeout: 120_000 });
});
after(async () => {
  await browser.close();
  await closeDb();
});

const titles = async (page) =>
  (await page.locator('.note-item:not(.loading) .note-title').allTextContents()).map((t) => t.replace(/^Pinned: /, ''));

async function search(page, query, count) {
  await page.getByRole('searchbox', { name: 'Search notes' }).fill(query);
  await page.locator('.list-count', { hasText: `${count} for “${query}”` }).waitFor({ timeout: 20_000 });
}

test('a search matching most notes lists them in the list order', async () => {
  const { page } = browser;
  await search(page, 'common', '2,100 matches');
  await poll(async () => (await titles(page)).slice(0, 3).join() === 'Note 7,Note 1,Note 2', {
    message: `the pinned note, then the most recently edited (got ${(await titles(page)).slice(0, 3)})`,
  });
  assert.equal(await page.locator('.note-item mark').first().textContent(), 'common');
});

test('a narrower search ranks its matches: the title match first', async () => {
  const { page } = browser;
  await search(page, 'rare', '210 matches');
  await poll(async () => (await titles(page))[0] === 'Rare find', { message: `“Rare find” first (got ${(await titles(page))[0]})` });
});
