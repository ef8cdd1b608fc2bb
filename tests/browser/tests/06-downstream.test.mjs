// Downstream: notes written to Postgres by someone else (another device, a script) arrive
// through the sync stream (the PowerSync test double) and render, then update live.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { closeDb, createUser, logIn, openBrowser, poll, sql } from '../lib.mjs';

let browser;
let user;
before(async () => {
  browser = await openBrowser();
  user = await createUser('Dana Downstream');
  await logIn(browser.page, user);
  await browser.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});
after(async () => {
  await browser.close();
  await closeDb();
});

test('a note inserted in Postgres appears, and its updates show live in list and editor', async () => {
  const { page } = browser;
  const id = randomUUID();
  await sql("INSERT INTO notes (id, owner_id, title, body) VALUES ($1, $2, 'From the server', 'first version')", [id, user.id]);
  const item = page.locator('.note-item', { hasText: 'From the server' });
  await item.waitFor({ timeout: 20_000 });
  assert.match(await item.textContent(), /first version/);
  await page.locator('.sync-label', { hasText: 'Synced' }).waitFor();

  await sql("UPDATE notes SET title = 'From the server (edited)', updated_at = now() WHERE id = $1", [id]);
  await page.locator('.note-item', { hasText: 'From the server (edited)' }).waitFor({ timeout: 20_000 });

  // Open it: a remote edit updates the open editor while you are not typing.
  await page.locator('.note-item', { hasText: 'From the server (edited)' }).click();
  const body = page.getByLabel('Note', { exact: true });
  await poll(async () => (await body.inputValue()) === 'first version', { message: 'the editor to open the note' });
  await sql("UPDATE notes SET body = 'second version, typed elsewhere', updated_at = now() WHERE id = $1", [id]);
  await poll(async () => (await body.inputValue()) === 'second version, typed elsewhere', {
    message: 'the editor to show the remote edit',
  });

  // Another user's notes never show up.
  const stranger = await createUser('Stranger');
  await sql("INSERT INTO notes (id, owner_id, title, body) VALUES ($1, $2, 'Not yours', '')", [randomUUID(), stranger.id]);

  // Deleted elsewhere: it disappears, and the editor says so.
  await sql('DELETE FROM notes WHERE id = $1', [id]);
  await page.getByText('This note was deleted on another device.').waitFor({ timeout: 20_000 });
  await page.locator('.note-item').first().waitFor({ state: 'detached' });
  assert.equal(await page.getByText('Not yours').count(), 0);
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});
