// Concurrent edits, one user on two devices that were offline at the same time: edits of
// different lines both survive (the server merges them, both screens show the result);
// edits of the same line keep the first in the note and the other as a conflict copy, which
// the UI shows side by side and settles ("Keep both" leaves both texts in Postgres).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PHONE, DESKTOP, closeDb, poll, shot, sql } from '../lib.mjs';
import { seedNote } from '../teams.mjs';
import { bodyField, goOffline, goOnline, openNote, twoDevices, waitForBody, waitForEditor, writeBody } from '../edits.mjs';

let user;
let a;
let b;
before(async () => {
  ({ user, devices: [a, b] } = await twoDevices('Mira Merge'));
});
after(async () => {
  await a?.close();
  await b?.close();
  await closeDb();
});

test('edits of different lines made offline on two devices both survive', async () => {
  const base = 'tent\nstove\nmap';
  const id = await seedNote(null, user, 'Packing list', base);
  for (const { page } of [a, b]) await openNote(page, 'Packing list', base);
  await goOffline(a);
  await goOffline(b);
  await writeBody(a.page, 'tent and pegs\nstove\nmap');
  await writeBody(b.page, 'tent\nstove\nmap and compass');

  await goOnline(a);
  await waitForBody(id, (body) => body.startsWith('tent and pegs'), 'the first device’s edit in Postgres');
  await goOnline(b);
  const merged = 'tent and pegs\nstove\nmap and compass';
  await waitForBody(id, (body) => body === merged, 'both edits merged in Postgres');
  for (const { page } of [a, b]) await waitForEditor(page, merged, 'the merged text on both screens');
  assert.deepEqual(await sql('SELECT id FROM note_conflicts WHERE note_id = $1', [id]), [], 'a clean merge leaves no conflict');
  for (const device of [a, b]) {
    assert.deepEqual(device.unexpectedProblems(/status of 401/, /ERR_INTERNET_DISCONNECTED/, /api\/data/, /sync\/stream/, /Failed to fetch/), []);
  }
});

test('edits of the same line: a conflict copy shows on both devices, and "Keep both" keeps both texts', async () => {
  const base = 'day 1: drive\nday 2: hike\nday 3: rest';
  const first = 'day 1: drive\nday 2: hike the ridge\nday 3: rest';
  const second = 'day 1: drive\nday 2: swim in the lake\nday 3: rest';
  const id = await seedNote(null, user, 'Trip plan', base);
  for (const { page } of [a, b]) await openNote(page, 'Trip plan', base);
  await goOffline(a);
  await goOffline(b);
  await writeBody(a.page, first);
  await writeBody(b.page, second);
  await goOnline(a);
  await waitForBody(id, (body) => body === first, 'the first device’s edit in Postgres');
  await goOnline(b);
  await poll(async () => (await sql('SELECT 1 FROM note_conflicts WHERE note_id = $1', [id])).length === 1, {
    timeout: 30_000,
    message: 'a conflict copy in Postgres',
  });
  assert.equal(await waitForBody(id, () => true), first, 'the note keeps the edit that arrived first');

  // Both devices: the badge in the list, the notice above the note, the note's text is the first edit.
  for (const { page } of [a, b]) {
    await page.locator('.note-item', { hasText: 'Trip plan' }).locator('.conflict-badge').waitFor({ timeout: 30_000 });
    await page.locator('.conflict-notice', { hasText: 'Edited in two places at once' }).waitFor();
    await waitForEditor(page, first, 'the kept text in the editor');
  }
  const { page } = b;
  await page.getByRole('button', { name: 'Compare versions' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edited in two places at once' });
  await dialog.waitFor();
  const thisSide = dialog.getByRole('region', { name: 'This version' });
  const otherSide = dialog.getByRole('region', { name: 'The other version' });
  assert.match(await thisSide.textContent(), /hike the ridge/);
  assert.match(await otherSide.textContent(), /swim in the lake/);
  assert.equal(await dialog.getByRole('button', { name: 'Keep this' }).evaluate((el) => el === document.activeElement), true, 'focus starts on the first choice');
  await shot(page, 'edits-conflict-desktop');
  await page.setViewportSize(PHONE);
  await shot(page, 'edits-conflict-phone');
  await dialog.getByRole('button', { name: 'Merge by hand' }).click();
  const merge = dialog.getByLabel('Merged text');
  assert.equal(await merge.inputValue(), `${first}\n\n${second}`, 'the hand merge starts from both texts');
  await shot(page, 'edits-conflict-merge-phone');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await page.setViewportSize(DESKTOP);

  await dialog.getByRole('button', { name: 'Keep both' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Open it' }).click();
  await waitForEditor(page, second, 'the copy opens with the other text');
  await poll(async () => (await sql('SELECT 1 FROM note_conflicts WHERE note_id = $1', [id])).length === 0, { message: 'the conflict settled' });
  const rows = await sql('SELECT title, body FROM notes WHERE owner_id = $1 AND title LIKE $2 ORDER BY title', [user.id, 'Trip plan%']);
  assert.equal(rows.length, 2, 'the note and a copy');
  assert.deepEqual(rows.map((r) => r.body).sort(), [first, second].sort(), 'both texts are in Postgres');
  for (const device of [a, b]) {
    await device.page.locator('.conflict-notice').waitFor({ state: 'hidden' });
    await poll(async () => (await device.page.locator('.note-item', { hasText: 'Trip plan' }).count()) === 2, { message: 'the copy in the list' });
    assert.equal(await device.page.locator('.conflict-badge').count(), 0);
  }
  assert.equal(await bodyField(a.page).inputValue(), first);
});
