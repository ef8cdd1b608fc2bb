// After the first visit the app opens with no connection at all (service worker + the
// local database), takes new notes offline, and uploads them when the network is back.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';

let browser;
let user;
before(async () => {
  browser = await openBrowser();
  user = await createUser('Nadia No-Network');
  await logIn(browser.page, user);
});
after(async () => {
  await browser.close();
  await closeDb();
});

test('a reload without any network still opens the notes, and offline edits upload later', async () => {
  const { page, context } = browser;
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Before the outage');
  // Wait for the title itself: the note's first upload may carry an empty title.
  await poll(async () => (await sql("SELECT 1 FROM notes WHERE owner_id = $1 AND title = 'Before the outage'", [user.id])).length === 1, {
    message: 'the first note in Postgres',
  });
  await poll(() => page.evaluate(() => navigator.serviceWorker.controller != null), {
    message: 'the service worker to control the page',
  });

  await context.setOffline(true);
  await page.reload();
  await page.locator('.note-item', { hasText: 'Before the outage' }).waitFor();
  await page.locator('.sync[data-state="offline"]').waitFor({ timeout: 30_000 });

  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Written with no network');
  await page.getByText('Saved on this device').waitFor();
  await page.locator('.sync-detail', { hasText: /waiting/ }).waitFor();
  await shot(page, 'offline-reload');

  await context.setOffline(false);
  // Two rows appear before the offline note's title does (its insert and its edit are
  // separate uploads): wait for the final state, then assert it.
  const expected = ['Before the outage', 'Written with no network'];
  let titles = [];
  await poll(async () => {
    const rows = await sql('SELECT title FROM notes WHERE owner_id = $1 ORDER BY title', [user.id]);
    titles = rows.map((r) => r.title);
    return JSON.stringify(titles) === JSON.stringify(expected);
  }, { timeout: 45_000, message: 'the offline note, with its title, in Postgres' }).catch(() => {});
  assert.deepEqual(titles, expected);
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});
