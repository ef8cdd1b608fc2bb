// Pinned notes come first on every device (the pin is a synced column); the sort (last
// edited, date created, title) is remembered on this device; counts have thousands separators.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PHONE, closeDb, createUser, expectAxeClean, logIn, openBrowser, openLoggedIn, poll, shot, sql, titles, waitSynced } from '../lib.mjs';

// title, created minutes ago, edited minutes ago
const NOTES = [
  ['Banana bread', 30, 1],
  ['Apple pie', 10, 5],
  ['Cherry jam', 20, 3],
];
// The notes list and its tools; the rest of the screen is checked by its own tests.
const LIST = { include: 'aside.sidebar' };
let browser;
/** Colour transitions over, so axe sees the final colours. */
const settled = (page) => page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))));
let user;
const ids = {};
before(async () => {
  user = await createUser('Pia Pins');
  for (const [title, created, edited] of NOTES) {
    const [row] = await sql(
      `INSERT INTO notes (id, owner_id, title, body, created_at, updated_at)
       VALUES (gen_random_uuid(), $1, $2, 'Some text about ' || $2, now() - make_interval(mins => $3), now() - make_interval(mins => $4))
       RETURNING id::text`,
      [user.id, title, created, edited],
    );
    ids[title] = row.id;
  }
  browser = await openLoggedIn(user, '3 notes');
});
after(async () => {
  await browser.close();
  await closeDb();
});

const expectOrder = (page, expected, message) =>
  poll(async () => JSON.stringify((await titles(page)).map((t) => t.replace(/^Pinned: /, ''))) === JSON.stringify(expected), {
    message: `${message}: ${expected.join(', ')}`,
    timeout: 15_000,
  });
const pinned = async (title) => (await sql('SELECT pinned FROM notes WHERE id = $1', [ids[title]]))[0].pinned;

test('the sort menu orders the list and is remembered after a reload', async () => {
  const { page } = browser;
  await expectOrder(page, ['Banana bread', 'Cherry jam', 'Apple pie'], 'last edited first');
  const menu = page.getByRole('combobox', { name: 'Sort notes by' });
  await menu.selectOption('created');
  await expectOrder(page, ['Apple pie', 'Cherry jam', 'Banana bread'], 'newest first');
  await menu.selectOption('title');
  await expectOrder(page, ['Apple pie', 'Banana bread', 'Cherry jam'], 'by title');
  await page.reload();
  await expectOrder(page, ['Apple pie', 'Banana bread', 'Cherry jam'], 'still by title after a reload');
  assert.equal(await page.getByRole('combobox', { name: 'Sort notes by' }).inputValue(), 'title');
});

test('a pin from the editor reaches Postgres and puts the note first', async () => {
  const { page } = browser;
  await page.locator('.note-item', { hasText: 'Cherry jam' }).click();
  const pin = page.getByRole('button', { name: 'Pin' });
  assert.equal(await pin.getAttribute('aria-pressed'), 'false');
  await pin.click();
  await expectOrder(page, ['Cherry jam', 'Apple pie', 'Banana bread'], 'the pinned note first');
  await poll(async () => (await pin.getAttribute('aria-pressed')) === 'true', { message: 'the Pin button pressed' });
  await poll(async () => (await pinned('Cherry jam')) === true, { message: 'pinned in Postgres' });
  const [row] = await sql('SELECT updated_at < now() - interval \'1 minute\' AS untouched FROM notes WHERE id = $1', [ids['Cherry jam']]);
  assert.ok(row.untouched, 'pinning is not an edit: the edit time stays');
});

test('P in the list pins and unpins; a pin made elsewhere arrives', async () => {
  const { page } = browser;
  await page.getByRole('listbox', { name: 'Notes' }).focus();
  await page.keyboard.press('End'); // Cherry jam, Apple pie, Banana bread: the last one
  await page.keyboard.press('p');
  await expectOrder(page, ['Banana bread', 'Cherry jam', 'Apple pie'], 'both pinned, by title');
  await poll(async () => (await pinned('Banana bread')) === true, { message: 'the second pin in Postgres' });
  await page.keyboard.press('p'); // the active row is still Banana bread
  await poll(async () => (await pinned('Banana bread')) === false, { message: 'unpinned in Postgres' });
  await expectOrder(page, ['Cherry jam', 'Apple pie', 'Banana bread'], 'unpinned, back in place');

  await waitSynced(page);
  await sql('UPDATE notes SET pinned = true WHERE id = $1', [ids['Apple pie']]);
  await expectOrder(page, ['Apple pie', 'Cherry jam', 'Banana bread'], 'a pin from another device');
  await page.getByRole('option', { name: /Apple pie/ }).locator('.pin-mark').waitFor();
});

test('the list with pins and the sort menu passes axe, light and dark, desktop and phone', async () => {
  const { page } = browser;
  await page.goto('/');
  await expectOrder(page, ['Apple pie', 'Cherry jam', 'Banana bread'], 'loaded');
  await expectAxeClean(page, 'notes list with pins, light', LIST);
  await shot(page, '23-list-pins-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await settled(page);
  await expectAxeClean(page, 'notes list with pins, dark', LIST);
  await shot(page, '23-list-pins-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  const phone = await openBrowser({ viewport: PHONE });
  try {
    await logIn(phone.page, user);
    // A new device: its own sort (last edited), the pins of the account.
    await expectOrder(phone.page, ['Cherry jam', 'Apple pie', 'Banana bread'], 'on the phone');
    await expectAxeClean(phone.page, 'notes list on a phone', LIST);
    await shot(phone.page, '23-list-pins-phone');
    await phone.page.locator('.note-item', { hasText: 'Apple pie' }).click();
    await poll(async () => (await phone.page.getByRole('button', { name: 'Pin' }).getAttribute('aria-pressed')) === 'true', {
      message: 'pressed on the phone',
    });
    await shot(phone.page, '23-editor-pin-phone');
  } finally {
    await phone.close();
  }
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});
