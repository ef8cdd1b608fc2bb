// Search with the full-text index in the browser's database: accents folded ("pasteis" finds
// "Pastéis"), every word a prefix, all words required, best matches first; Escape and a new
// note clear the filter.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, expectAxeClean, expectResults, openLoggedIn, poll, sql, titles } from '../lib.mjs';

const NOTES = [
  ['Pastéis de nata', 'Six egg yolks, cream, sugar, lemon peel. Bake very hot.'],
  ['Lisbon trip', 'Tram 28, the castle, and pastéis at Belém on the last morning.'],
  ['Groceries', 'Oat milk, eggs, bread, coffee beans.'],
  ['Reading list', 'Piranesi; The Dispossessed; a book about bread baking.'],
  ['Crème brûlée', 'Cream, vanilla, sugar for the crust.'],
];
// The notes list and its tools; the rest of the screen is checked by its own tests.
const LIST = { include: 'aside.sidebar' };
let browser;
/** Colour transitions over, so axe sees the final colours. */
const settled = (page) => page.evaluate(() => Promise.allSettled(document.getAnimations().map((a) => a.finished)));
let user;
before(async () => {
  user = await createUser('Sam Search');
  for (const [i, [title, body]] of NOTES.entries()) {
    await sql(
      `INSERT INTO notes (id, owner_id, title, body, created_at, updated_at)
       VALUES (gen_random_uuid(), $1, $2, $3, now() - make_interval(mins => $4), now() - make_interval(mins => $4))`,
      [user.id, title, body, i],
    );
  }
  browser = await openLoggedIn(user, `${NOTES.length} notes`);
});
after(async () => {
  await browser.close();
  await closeDb();
});

const search = (page) => page.getByRole('searchbox', { name: 'Search notes' });

test('accents are folded, words are prefixes, every word must match, best first', async () => {
  const { page } = browser;
  // The title weighs more than the body: the recipe before the trip.
  await expectResults(page, 'pasteis', ['Pastéis de nata', 'Lisbon trip']);
  await expectResults(page, 'PASTÉIS', ['Pastéis de nata', 'Lisbon trip']);
  await expectResults(page, 'creme brul', ['Crème brûlée']);
  await expectResults(page, 'pasteis belem', ['Lisbon trip']);
  await expectResults(page, 'brea', ['Groceries', 'Reading list']);
  assert.match(await page.locator('.list-count').textContent(), /^2 matches for “brea”$/);
  // The matching word starts are marked, accents and all.
  await expectResults(page, 'belem', ['Lisbon trip']);
  assert.equal(await page.locator('.note-item mark').first().textContent(), 'Belém');
  // FTS syntax typed by a person is just text.
  await expectResults(page, 'egg" OR "zzz', []);
  await page.getByText('No matches').waitFor();
});

test('the search results pass axe, light and dark', async () => {
  const { page } = browser;
  await expectResults(page, 'pasteis', ['Pastéis de nata', 'Lisbon trip']);
  await expectAxeClean(page, 'search results, light', LIST);
  await page.emulateMedia({ colorScheme: 'dark' });
  await settled(page);
  await expectAxeClean(page, 'search results, dark', LIST);
  await page.emulateMedia({ colorScheme: 'light' });
});

test('Escape clears the search, in the box and in the list', async () => {
  const { page } = browser;
  await expectResults(page, 'groc', ['Groceries']);
  await search(page).press('Escape');
  await poll(async () => (await titles(page)).length === NOTES.length, { message: 'every note again' });
  assert.equal(await search(page).inputValue(), '');

  await expectResults(page, 'lisbon', ['Lisbon trip']);
  await page.getByRole('listbox', { name: 'Notes' }).focus();
  await page.keyboard.press('Escape');
  await poll(async () => (await titles(page)).length === NOTES.length, { message: 'every note again' });
  assert.equal(await search(page).inputValue(), '');
});

test('a new note clears the search, and shows in the list', async () => {
  const { page } = browser;
  await expectResults(page, 'zebra', []);
  await page.getByRole('button', { name: 'New note' }).first().click();
  assert.equal(await search(page).inputValue(), '');
  await page.getByLabel('Title').fill('Zebra crossing');
  await page.getByText('Saved on this device').waitFor();
  await poll(async () => (await titles(page))[0] === 'Zebra crossing', { message: 'the new note first in the full list' });
  assert.equal((await titles(page)).length, NOTES.length + 1);
  // …and it is searchable at once.
  await expectResults(page, 'zebr', ['Zebra crossing']);
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});
