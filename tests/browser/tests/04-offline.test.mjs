// Offline: with /api/data unreachable, notes are still created and edited locally, survive
// a reload, show as waiting, and reach Postgres once the endpoint is back.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';

let browser;
let user;
before(async () => {
  browser = await openBrowser();
  user = await createUser('Olga Offline');
  await logIn(browser.page, user);
  await browser.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});
after(async () => {
  await browser.close();
  await closeDb();
});

test('changes made while uploads fail stay visible and upload when the server is back', async () => {
  const { page, context } = browser;
  let blocked = 0;
  await context.route('**/api/data', (route) => {
    blocked += 1;
    return route.abort('internetdisconnected');
  });

  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Written on the train');
  await page.getByLabel('Note', { exact: true }).fill('No signal between stations.');
  await page.getByText('Saved on this device').waitFor();
  const first = new URL(page.url()).pathname.split('/').pop();

  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Second offline note');
  await page.getByText('Saved on this device').waitFor();
  const second = new URL(page.url()).pathname.split('/').pop();

  // Edit the first one again, right after opening it (the fields take no typing until it
  // is read). "Saved on this device" already shows from opening it: the list's snippet
  // tells when the edit is written.
  await page.locator('.note-item', { hasText: 'Written on the train' }).click();
  await page.getByLabel('Note', { exact: true }).fill('No signal between stations. Tunnel after tunnel.');
  await page.locator('.note-item', { hasText: 'Tunnel after tunnel.' }).waitFor();
  assert.equal(await page.getByLabel('Note', { exact: true }).inputValue(), 'No signal between stations. Tunnel after tunnel.');

  await poll(() => blocked > 0, { message: 'an upload attempt (blocked)' });
  await page.locator('.sync-detail', { hasText: /changes? waiting/ }).waitFor();
  await shot(page, 'offline-waiting');
  assert.equal((await sql('SELECT count(*)::int AS n FROM notes WHERE owner_id = $1', [user.id]))[0].n, 0);

  // A reload keeps the local data (and the queue).
  await page.reload();
  await page.locator('.note-item', { hasText: 'Written on the train' }).waitFor();
  await page.locator('.note-item', { hasText: 'Second offline note' }).waitFor();
  // (The list's first screen shows before the database opens; the note, once it has.)
  const note = page.getByLabel('Note', { exact: true });
  await poll(async () => (await note.inputValue()) === 'No signal between stations. Tunnel after tunnel.', {
    message: 'the edited note open after the reload',
  });

  await context.unroute('**/api/data');
  const rows = await poll(async () => {
    const found = await sql('SELECT id::text, title, body FROM notes WHERE owner_id = $1 ORDER BY title DESC', [user.id]);
    return found.length === 2 && found[0].body.endsWith('Tunnel after tunnel.') && found;
  }, { timeout: 30_000, message: 'both notes in Postgres after reconnecting' });
  assert.deepEqual(rows, [
    { id: first, title: 'Written on the train', body: 'No signal between stations. Tunnel after tunnel.' },
    { id: second, title: 'Second offline note', body: '' },
  ]);
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  // Still there after the server's state comes back down.
  await page.locator('.note-item', { hasText: 'Second offline note' }).waitFor();
  assert.deepEqual(browser.unexpectedProblems(/status of 401/, /ERR_INTERNET_DISCONNECTED/, /api\/data/), []);
});
