// Delete, then Undo: the note comes back exactly as it was (its times, so its place in the
// list), on this device and on the server, and focus lands where the person was working.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, logIn, openBrowser, poll, sql } from '../lib.mjs';
import { seedNote } from '../teams.mjs';

let browser;
let user;
const ids = {};
before(async () => {
  user = await createUser('Uma Undo');
  ids.newest = await seedNote(null, user, 'Newest note', 'n', 1);
  ids.middle = await seedNote(null, user, 'Middle note', 'the one to delete', 5);
  ids.oldest = await seedNote(null, user, 'Oldest note', 'o', 30);
  browser = await openBrowser();
  await logIn(browser.page, user);
  await browser.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  await browser.page.locator('.note-item', { hasText: 'Oldest note' }).waitFor();
});
after(async () => {
  await browser.close();
  await closeDb();
});

const titles = (page) => page.locator('.note-item .note-title').allTextContents();
const serverRow = async (id) =>
  (await sql("SELECT title, body, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US') AS created, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.US') AS updated FROM notes WHERE id = $1", [id]))[0] ?? null;

test('undo after deleting from the editor restores time and position, and focuses the editor', async () => {
  const { page } = browser;
  const before = await titles(page);
  assert.deepEqual(before.slice(0, 3), ['Newest note', 'Middle note', 'Oldest note']);
  const original = await serverRow(ids.middle);

  await page.locator('.note-item', { hasText: 'Middle note' }).click();
  await page.getByRole('button', { name: 'Delete note' }).click();
  await page.getByText('“Middle note” deleted').waitFor();
  await page.locator('.note-item', { hasText: 'Middle note' }).waitFor({ state: 'detached' });
  await poll(async () => !(await serverRow(ids.middle)), { timeout: 30_000, message: 'deleted on the server' });

  await page.getByRole('button', { name: 'Undo' }).click();
  await page.locator('.note-item', { hasText: 'Middle note' }).waitFor();
  assert.deepEqual((await titles(page)).slice(0, 3), before.slice(0, 3), 'back in its place');
  await poll(async () => (await page.getByLabel('Note', { exact: true }).evaluate((el) => el === document.activeElement)), {
    timeout: 5000, message: 'focus in the restored note’s editor',
  });
  const restored = await poll(() => serverRow(ids.middle), { timeout: 30_000, message: 'back on the server' });
  assert.deepEqual(restored, original, 'same text and times on the server');
  // And after the server's copy syncs back, still in the same place.
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  await page.reload();
  await page.locator('.note-item', { hasText: 'Oldest note' }).waitFor();
  assert.deepEqual((await titles(page)).slice(0, 3), before.slice(0, 3));
});

test('undo after deleting from the list (Delete key) focuses the restored list item', async () => {
  const { page } = browser;
  await page.getByRole('button', { name: 'Back to notes' }).click().catch(() => {});
  const before = await titles(page);
  // The list is one Tab stop: walk its active row (aria-activedescendant) to the note.
  await page.getByRole('listbox', { name: 'Notes' }).focus();
  await page.keyboard.press('Home');
  for (let step = 0; step < before.length && !(await activeRowText(page)).includes('Oldest note'); step += 1) {
    await page.keyboard.press('ArrowDown');
  }
  await page.keyboard.press('Delete');
  await page.getByText('“Oldest note” deleted').waitFor();
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.locator('.note-item', { hasText: 'Oldest note' }).waitFor();
  assert.deepEqual(await titles(page), before);
  await poll(async () => (await activeRowText(page)).includes('Oldest note'), {
    timeout: 5000, message: 'focus on the restored item',
  });
});

/** The text of the list's active row while the list has focus ('' otherwise). */
function activeRowText(page) {
  return page.evaluate(() => {
    const id = document.activeElement?.getAttribute('aria-activedescendant');
    return (id && document.getElementById(id)?.textContent) || '';
  });
}
