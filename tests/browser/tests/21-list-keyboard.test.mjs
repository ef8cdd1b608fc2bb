// The notes list at 10,000 notes: only the rows on screen are in the page, the list is one
// Tab stop with arrow keys, Enter opens a note into the editor, `?` lists the shortcuts.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, logIn, openBrowser, poll, sql } from '../lib.mjs';

const NOTES = 10_000;
let browser;
let user;
before(async () => {
  user = await createUser('Tabby Keys');
  await sql(
    `INSERT INTO notes (id, owner_id, title, body, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'Note ' || lpad(i::text, 5, '0'), 'Body of note ' || i,
            now() - make_interval(mins => i), now() - make_interval(mins => i)
       FROM generate_series(1, $2::int) AS i`,
    [user.id, NOTES],
  );
  browser = await openBrowser();
  await logIn(browser.page, user);
});
after(async () => {
  await browser.close();
  await closeDb();
});

const activeTitle = (page) =>
  page.evaluate(() => {
    const list = document.querySelector('.note-list');
    return document.getElementById(list.getAttribute('aria-activedescendant'))?.querySelector('.note-title')?.textContent;
  });

test('10,000 notes are listed, with only the rows on screen in the page', async () => {
  const { page } = browser;
  await page.locator('.list-count', { hasText: '10,000 notes' }).waitFor({ timeout: 180_000 });
  await page.locator('.note-item', { hasText: 'Note 00001' }).waitFor();
  const rows = await page.locator('.note-item').count();
  assert.ok(rows > 5 && rows < 60, `${rows} rows in the page`);
  assert.equal(await page.locator('.note-item').first().getAttribute('aria-setsize'), '10000');

  // Scrolled to the very end, the oldest note is there.
  await page.locator('.note-list').evaluate((list) => { list.scrollTop = list.scrollHeight; });
  await page.locator('.note-item', { hasText: 'Note 10000' }).waitFor();
  await page.locator('.note-list').evaluate((list) => { list.scrollTop = 0; });
  await page.locator('.note-item', { hasText: 'Note 00001' }).waitFor();
});

test('the list is one Tab stop; arrow keys move in it; Enter opens the note into the editor', async () => {
  const { page } = browser;
  const search = page.getByRole('searchbox', { name: 'Search notes' });
  await search.focus();
  // Tab from the search: New note, then (after the sort menu) the list, then out of it.
  const stops = [];
  for (let i = 0; i < 6; i += 1) {
    await page.keyboard.press('Tab');
    stops.push(await page.evaluate(() => document.activeElement.getAttribute('aria-label') ?? document.activeElement.className));
  }
  assert.equal(stops.filter((s) => s === 'Notes').length, 1, `one stop in the list: ${stops.join(' → ')}`);

  await page.getByRole('listbox', { name: 'Notes' }).focus();
  assert.equal(await activeTitle(page), 'Note 00001');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await activeTitle(page), 'Note 00003');
  await page.keyboard.press('ArrowUp');
  assert.equal(await activeTitle(page), 'Note 00002');
  await page.keyboard.press('End');
  await poll(async () => (await activeTitle(page)) === 'Note 10000', { message: 'End reaches the last note' });
  await page.keyboard.press('Home');
  await poll(async () => (await activeTitle(page)) === 'Note 00001', { message: 'Home goes back to the first' });
  await page.keyboard.press('ArrowDown');

  await page.keyboard.press('Enter');
  await poll(async () => (await page.getByLabel('Title').inputValue()) === 'Note 00002', { message: 'the note open' });
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Note', 'focus in the editor');
  assert.equal(await page.getByRole('option', { name: /Note 00002/ }).getAttribute('aria-selected'), 'true');

  // ArrowUp on the first row goes back to the search.
  await page.keyboard.press('Escape');
  await page.getByRole('listbox', { name: 'Notes' }).focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowUp');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Search notes');
});

test('? shows the keyboard shortcuts; Escape closes them', async () => {
  const { page } = browser;
  await page.getByRole('listbox', { name: 'Notes' }).focus();
  await page.keyboard.press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /Pin or unpin/);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Notes', 'focus back in the list');
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});
