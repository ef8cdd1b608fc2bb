// The trash: a note deleted on one device leaves both; the Trash view (from the notebooks
// sidebar, on desktop and on a phone) lists it; Restore brings it back on the second device
// too; Delete forever asks first and removes it from the server.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PHONE, closeDb, poll, shot, sql } from '../lib.mjs';
import { seedNote } from '../teams.mjs';
import { twoDevices } from '../edits.mjs';

let user;
let a;
let b;
before(async () => {
  ({ user, devices: [a, b] } = await twoDevices('Tomas Trash'));
});
after(async () => {
  await a?.close();
  await b?.close();
  await closeDb();
});

const item = (page, title) => page.locator('.note-item', { hasText: title });

test('a deleted note is restored from the Trash and reappears on the other device', async () => {
  const id = await seedNote(null, user, 'Grandma’s recipe', 'Two cups of flour, a pinch of salt.', 1);
  for (const { page } of [a, b]) await item(page, 'Grandma’s recipe').waitFor({ timeout: 20_000 });

  const { page } = a;
  await item(page, 'Grandma’s recipe').click();
  await page.getByRole('button', { name: 'Delete note' }).click();
  await poll(async () => (await sql('SELECT 1 FROM notes WHERE id = $1', [id])).length === 0, { timeout: 30_000, message: 'the delete in Postgres' });
  assert.equal((await sql('SELECT title FROM note_trash WHERE id = $1', [id]))[0]?.title, 'Grandma’s recipe', 'the note went to the trash');
  await item(b.page, 'Grandma’s recipe').waitFor({ state: 'detached', timeout: 20_000 });

  await page.getByRole('button', { name: 'Trash' }).click();
  const trash = page.getByRole('dialog', { name: 'Trash' });
  const entry = trash.getByRole('listitem', { name: 'Grandma’s recipe' });
  await entry.waitFor();
  assert.match(await entry.textContent(), /Two cups of flour/);
  assert.match(await entry.textContent(), /Deleted just now by you/);
  await shot(page, 'edits-trash-desktop');
  await entry.getByRole('button', { name: 'Restore “Grandma’s recipe”' }).click();
  await trash.getByText('“Grandma’s recipe” restored.').waitFor();
  assert.equal(await entry.count(), 0, 'restored notes leave the trash list');
  await poll(async () => (await sql('SELECT body FROM notes WHERE id = $1', [id]))[0]?.body === 'Two cups of flour, a pinch of salt.', {
    message: 'the note back in Postgres',
  });
  await item(b.page, 'Grandma’s recipe').waitFor({ timeout: 20_000 });
  await trash.getByRole('button', { name: 'Open it' }).click();
  await trash.waitFor({ state: 'detached' });
  await poll(async () => (await page.getByLabel('Title').inputValue()) === 'Grandma’s recipe', { message: 'the restored note opens' });
});

test('Delete forever asks first, then removes the note from the server (phone)', async () => {
  const id = await seedNote(null, user, 'Scratch pad', 'nothing worth keeping');
  const { page } = a;
  await item(page, 'Scratch pad').click();
  await page.getByRole('button', { name: 'Delete note' }).click();
  await poll(async () => (await sql('SELECT 1 FROM note_trash WHERE id = $1', [id])).length === 1, { timeout: 30_000, message: 'the note in the trash' });

  await page.setViewportSize(PHONE);
  await page.getByRole('button', { name: 'Notebooks', exact: true }).click();
  await page.getByRole('button', { name: 'Trash' }).click();
  const trash = page.getByRole('dialog', { name: 'Trash' });
  const entry = trash.getByRole('listitem', { name: 'Scratch pad' });
  await entry.waitFor();
  await shot(page, 'edits-trash-phone');
  await entry.getByRole('button', { name: 'Delete forever “Scratch pad”' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete “Scratch pad” forever?' });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await sql('SELECT 1 FROM note_trash WHERE id = $1', [id])).length, 1, 'Cancel keeps it');
  await entry.getByRole('button', { name: 'Delete forever “Scratch pad”' }).click();
  await confirm.getByRole('button', { name: 'Delete forever' }).click();
  await trash.getByText('“Scratch pad” deleted forever.').waitFor();
  assert.equal((await sql('SELECT 1 FROM note_trash WHERE id = $1', [id])).length, 0);
  await trash.getByRole('button', { name: 'Close' }).click();
  await trash.waitFor({ state: 'detached' });
  assert.deepEqual(a.unexpectedProblems(/status of 401/), []);
});

test('offline, the Trash says it needs the server', async () => {
  const { page, context } = a;
  await page.setViewportSize({ width: 1280, height: 800 });
  await context.setOffline(true);
  try {
    await page.getByRole('button', { name: 'Trash' }).click();
    const trash = page.getByRole('dialog', { name: 'Trash' });
    await trash.getByRole('alert').filter({ hasText: 'You are offline' }).waitFor();
    await page.keyboard.press('Escape');
    await trash.waitFor({ state: 'detached' });
  } finally {
    await context.setOffline(false);
  }
});
