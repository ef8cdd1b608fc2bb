// The conflict view on its own, from conflict rows arranged in Postgres (as the server
// writes them when two edits change the same lines): the badge and the notice show on the
// note, the dialog shows both versions, "Merge by hand" saves the edited text, "Keep the
// other" puts the other text in the note; each settled conflict syncs away. Light and dark.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { PHONE, closeDb, createUser, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';
import { seedNote } from '../teams.mjs';
import { openNote, waitForBody, waitForEditor } from '../edits.mjs';

let user;
before(async () => {
  user = await createUser('Cora Conflict');
});
after(closeDb);

/** A conflict copy as the server records it: the note keeps `kept`, `theirs` waits. */
async function seedConflict(noteId, column, base, kept, theirs) {
  const id = randomUUID();
  await sql(
    `INSERT INTO note_conflicts (id, note_id, owner_id, notebook_id, column_name, base_text, kept_text, their_text, created_by, created_at)
     SELECT $1, n.id, n.owner_id, n.notebook_id, $3, $4, $5, $6, n.owner_id, now() - interval '5 minutes' FROM notes n WHERE n.id = $2`,
    [id, noteId, column, base, kept, theirs],
  );
  return id;
}

const conflictsOf = async (noteId) => (await sql('SELECT id FROM note_conflicts WHERE note_id = $1', [noteId])).length;

for (const colorScheme of ['light', 'dark']) {
  test(`settling conflicts by hand and by keeping the other version (${colorScheme})`, async () => {
    const browser = await openBrowser({ colorScheme });
    try {
      const { page } = browser;
      const base = 'Milk\nEggs\nBread';
      const kept = 'Milk\nEggs (a dozen)\nBread';
      const theirs = 'Milk\nEggs, free range\nBread';
      const id = await seedNote(null, user, `Shopping ${colorScheme}`, kept, 0.1);
      await seedConflict(id, 'body', base, kept, theirs);
      await logIn(page, user);
      await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
      const item = page.locator('.note-item', { hasText: `Shopping ${colorScheme}` });
      await item.locator('.conflict-badge', { hasText: 'Two versions' }).waitFor({ timeout: 20_000 });
      await openNote(page, `Shopping ${colorScheme}`, kept);
      const notice = page.locator('.conflict-notice');
      await notice.waitFor();
      assert.match(await notice.textContent(), /Edited in two places at once: another version of this note is waiting/);
      await shot(page, `edits-conflict-notice-desktop-${colorScheme}`);

      await page.getByRole('button', { name: 'Compare versions' }).click();
      const dialog = page.getByRole('dialog', { name: 'Edited in two places at once' });
      await dialog.waitFor();
      assert.match(await dialog.getByRole('region', { name: 'The other version' }).textContent(), /By you · 5 minutes ago/);
      assert.equal(await dialog.locator('.conflict-side').first().locator('.line.changed').textContent(), 'Eggs (a dozen)', 'changed lines are marked');
      await shot(page, `edits-conflict-dialog-desktop-${colorScheme}`);
      await dialog.getByRole('button', { name: 'Merge by hand' }).click();
      const merge = dialog.getByLabel('Merged text');
      assert.equal(await merge.evaluate((el) => el === document.activeElement), true, 'focus moves to the merge field');
      await merge.fill('Milk\nEggs (a dozen, free range)\nBread');
      await dialog.getByRole('button', { name: 'Save merged text' }).click();
      await dialog.waitFor({ state: 'detached' });
      await waitForBody(id, (body) => body === 'Milk\nEggs (a dozen, free range)\nBread', 'the hand merge in Postgres');
      assert.equal(await conflictsOf(id), 0);
      await waitForEditor(page, 'Milk\nEggs (a dozen, free range)\nBread', 'the hand merge in the editor');
      await notice.waitFor({ state: 'hidden' });
      assert.equal(await item.locator('.conflict-badge').count(), 0);

      // A second conflict, on the title, settled on a phone with "Keep the other".
      await seedConflict(id, 'title', `Shopping ${colorScheme}`, `Shopping ${colorScheme}`, `Groceries ${colorScheme}`);
      await page.setViewportSize(PHONE);
      await notice.waitFor({ timeout: 20_000 });
      await shot(page, `edits-conflict-notice-phone-${colorScheme}`);
      await page.getByRole('button', { name: 'Compare versions' }).click();
      await dialog.waitFor();
      await shot(page, `edits-conflict-dialog-phone-${colorScheme}`);
      await dialog.getByRole('button', { name: 'Keep the other' }).click();
      await dialog.waitFor({ state: 'detached' });
      await poll(async () => (await sql('SELECT title FROM notes WHERE id = $1', [id]))[0]?.title === `Groceries ${colorScheme}`, {
        message: 'the other title in Postgres',
      });
      assert.equal(await conflictsOf(id), 0);
      await poll(async () => (await page.getByLabel('Title').inputValue()) === `Groceries ${colorScheme}`, { message: 'the title in the editor' });
      assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
    } finally {
      await browser.close();
    }
  });
}
