// Managing notebooks: an owner renames and deletes one (its notes go with it, in Postgres
// too); a member leaves one from the Members dialog and it leaves their device quietly.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, logIn, openBrowser, poll, sql } from '../lib.mjs';
import { createNotebook, notebookItem, openNotebook, seedNote, seedNotebook, shareDialog } from '../teams.mjs';

let browser;
before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser.close();
  await closeDb();
});

test('an owner renames a notebook, then deletes it with its notes', async () => {
  const owner = await createUser('Rena Rename');
  const { page } = browser;
  await logIn(page, owner);
  await createNotebook(page, 'Drafts');
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('First draft');
  const id = await poll(async () => (await sql("SELECT id::text FROM notebooks WHERE name = 'Drafts' AND created_by = $1", [owner.id]))[0]?.id, {
    message: 'the notebook in Postgres',
  });
  await poll(async () => (await sql("SELECT 1 FROM notes WHERE notebook_id = $1 AND title = 'First draft'", [id])).length === 1, {
    message: 'the note in Postgres',
  });

  await page.getByRole('button', { name: 'Rename notebook' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename notebook' });
  await rename.getByLabel('Name').fill('Final drafts');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await notebookItem(page, 'Final drafts').waitFor();
  await poll(async () => (await sql('SELECT name FROM notebooks WHERE id = $1', [id]))[0]?.name === 'Final drafts', { message: 'the new name in Postgres' });

  await page.getByRole('button', { name: 'Delete notebook' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete “Final drafts”?' });
  assert.match(await confirm.textContent(), /note will be deleted/);
  await confirm.getByRole('button', { name: 'Delete notebook' }).click();
  await notebookItem(page, 'Final drafts').waitFor({ state: 'detached' });
  await page.locator('.scope-title', { hasText: 'Personal' }).waitFor();
  await poll(async () => (await sql('SELECT 1 FROM notebooks WHERE id = $1', [id])).length === 0, { message: 'the notebook gone from Postgres' });
  assert.equal((await sql('SELECT count(*)::int AS n FROM notes WHERE notebook_id = $1', [id]))[0].n, 0);
  assert.equal(await page.locator('.notice-bar').isVisible(), false, 'deleting your own notebook is no surprise');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
});

test('an editor sees no Delete, and leaves the notebook from the Members dialog', async () => {
  const owner = await createUser('Otto Owner');
  const editor = await createUser('Edda Editor');
  const id = await seedNotebook('Garden club', [[owner, 'owner'], [editor, 'editor']]);
  await seedNote(id, owner, 'Seed swap', 'Bring tomato seeds.');
  const { page } = browser;
  await logIn(page, editor);
  await notebookItem(page, 'Garden club').waitFor({ timeout: 20_000 });
  await openNotebook(page, 'Garden club');
  assert.equal(await page.getByRole('button', { name: 'Delete notebook' }).isVisible(), false);
  assert.equal(await page.getByRole('button', { name: 'Rename notebook' }).isVisible(), true);

  await page.getByRole('button', { name: 'Members of Garden club' }).click();
  const dialog = shareDialog(page);
  assert.equal(await dialog.getByLabel('Invite by email').isVisible(), false, 'only owners invite');
  assert.deepEqual(await dialog.locator('.role-text').allTextContents(), ['Owner', 'Can edit']);
  await dialog.getByRole('button', { name: 'Leave notebook' }).click();
  await page.getByRole('dialog', { name: 'Leave “Garden club”?' }).getByRole('button', { name: 'Leave' }).click();
  await page.getByText('You left “Garden club”').waitFor();
  await poll(async () => (await sql('SELECT 1 FROM notebook_members WHERE notebook_id = $1 AND user_id = $2', [id, editor.id])).length === 0, {
    message: 'the membership gone from Postgres',
  });
  await notebookItem(page, 'Garden club').waitFor({ state: 'detached', timeout: 20_000 });
  assert.equal(await page.locator('.notice-bar').isVisible(), false, 'leaving is no surprise either');
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});
