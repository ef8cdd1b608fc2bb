// Sharing end to end, two people in two browsers: Ada creates a notebook and a note and
// shares it with Ben as an editor → Ben's open UI shows it without a reload; Ben edits →
// Ada sees the edit and who made it; Ada makes Ben a viewer → Ben's UI turns read-only and
// an edit forced through anyway is refused and shown; Ada removes Ben → the notebook leaves
// Ben's device with an explanation.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';
import { createNotebook, invite, notebookItem, openNotebook, shareDialog, waitForRole } from '../teams.mjs';

let ada;
let ben;
let adaBrowser;
let benBrowser;
let notebookId;
let noteId;

before(async () => {
  ada = await createUser('Ada Lovelace');
  ben = await createUser('Ben Okafor');
  [adaBrowser, benBrowser] = await Promise.all([openBrowser(), openBrowser()]);
  await logIn(adaBrowser.page, ada);
  await logIn(benBrowser.page, ben);
  for (const { page } of [adaBrowser, benBrowser]) await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});
after(async () => {
  await adaBrowser?.close();
  await benBrowser?.close();
  await closeDb();
});

test('Ada creates a notebook and a note in it; both reach Postgres', async () => {
  const { page } = adaBrowser;
  await createNotebook(page, 'Launch team');
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Launch plan');
  await page.getByLabel('Note', { exact: true }).fill('Ship on Thursday.');
  const row = await poll(
    async () => (await sql("SELECT id::text, notebook_id::text, owner_id::text FROM notes WHERE title = 'Launch plan' AND body = 'Ship on Thursday.'"))[0],
    { message: 'the note to reach Postgres', timeout: 30_000 },
  );
  assert.ok(row.notebook_id, 'the note belongs to the notebook');
  assert.equal(row.owner_id, ada.id);
  ({ notebook_id: notebookId, id: noteId } = row);
  const [owner] = await sql('SELECT role FROM notebook_members WHERE notebook_id = $1 AND user_id = $2', [notebookId, ada.id]);
  assert.equal(owner?.role, 'owner', 'the server made the creator its owner');
  assert.equal(await notebookItem(page, 'Launch team').locator('.nb-count').textContent(), '1');
});

test('a personal note moves into the notebook through the editor’s notebook picker', async () => {
  const { page } = adaBrowser;
  await page.getByRole('navigation', { name: 'Notebooks' }).getByRole('button', { name: /^Personal/ }).click();
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Agenda');
  await page.getByText('Saved on this device').waitFor();
  const id = new URL(page.url()).pathname.split('/').pop();
  await page.getByLabel('Notebook of this note').selectOption({ label: 'Launch team' });
  await page.getByText('Moved to “Launch team”').waitFor();
  await page.locator('.scope-title', { hasText: 'Launch team' }).waitFor();
  await page.locator('.note-item', { hasText: 'Agenda' }).waitFor();
  await poll(async () => (await sql('SELECT notebook_id::text FROM notes WHERE id = $1', [id]))[0]?.notebook_id === notebookId, {
    message: 'the move to reach Postgres',
  });
  // Back where the test left off: the launch plan open.
  await page.locator('.note-item', { hasText: 'Launch plan' }).click();
});

test('shared with Ben as editor: Ben sees it without a reload, with its members', async () => {
  await invite(adaBrowser.page, ben.email, 'Can edit');
  await waitForRole(notebookId, ben.id, 'editor');
  await shareDialog(adaBrowser.page).getByText(`${ben.display_name}`, { exact: false }).first().waitFor();
  await adaBrowser.page.keyboard.press('Escape');

  const { page } = benBrowser;
  await notebookItem(page, 'Launch team').waitFor({ timeout: 20_000 });
  assert.match(await notebookItem(page, 'Launch team').textContent(), /shared with 1 other/); // said to screen readers
  await openNotebook(page, 'Launch team');
  assert.deepEqual(await page.locator('.scope-people .avatar').allTextContents(), ['AL', 'BO']);
  await page.locator('.note-item', { hasText: 'Launch plan' }).click();
  await page.getByText(/Edited .* by Ada Lovelace/).waitFor();
});

test('Ben edits; Ada sees the edit live and that Ben made it', async () => {
  const body = benBrowser.page.getByLabel('Note', { exact: true });
  assert.equal(await body.isEditable(), true);
  await body.fill('Ship on Thursday. Ben: docs are ready.');
  await poll(async () => (await sql('SELECT updated_by::text FROM notes WHERE id = $1', [noteId]))[0]?.updated_by === ben.id, {
    message: 'Ben’s edit in Postgres, by Ben',
  });
  const adaBody = adaBrowser.page.getByLabel('Note', { exact: true });
  await poll(async () => (await adaBody.inputValue()) === 'Ship on Thursday. Ben: docs are ready.', { message: 'Ada’s editor to show Ben’s edit' });
  await adaBrowser.page.getByText(/Edited .* by Ben Okafor/).waitFor();
  await benBrowser.page.getByText(/Edited .* by you/).waitFor();
});

test('made a viewer: Ben’s editor turns read-only, and a forced edit is refused and shown', async () => {
  const dialog = shareDialog(adaBrowser.page);
  await adaBrowser.page.locator('.scope-share').click();
  await dialog.getByLabel(`Role of ${ben.display_name}`).selectOption('viewer');
  await waitForRole(notebookId, ben.id, 'viewer');
  await adaBrowser.page.keyboard.press('Escape');

  const { page } = benBrowser;
  await page.locator('.editor-bar .badge', { hasText: 'View only' }).waitFor({ timeout: 20_000 });
  const body = page.getByLabel('Note', { exact: true });
  assert.equal(await body.isEditable(), false, 'a viewer cannot type in the editor');
  assert.equal(await page.getByRole('button', { name: 'New note' }).first().isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Delete note' }).isVisible(), false);

  // A client that writes anyway (the read-only attribute removed): the change goes into the
  // local database and uploads, the server refuses it, the banner says so in plain words and
  // Postgres keeps Ben's earlier text.
  await body.evaluate((el) => {
    el.readOnly = false;
  });
  await body.fill('Viewers should not be able to write this.');
  const banner = page.getByRole('region', { name: 'Changes the server refused' });
  await banner.waitFor({ timeout: 30_000 });
  assert.match(await banner.textContent(), /“Launch plan”.*you can only view this notebook/s);
  const [row] = await sql('SELECT body FROM notes WHERE id = $1', [noteId]);
  assert.equal(row.body, 'Ship on Thursday. Ben: docs are ready.');
  const [rejection] = await sql('SELECT code FROM upload_rejections WHERE owner_id = $1 AND row_id = $2', [ben.id, noteId]);
  assert.ok(['READ_ONLY', 'NOT_A_MEMBER'].includes(rejection?.code), `refused as a viewer (${rejection?.code})`);
  await poll(async () => (await body.inputValue()) === 'Ship on Thursday. Ben: docs are ready.', {
    message: 'the refused edit to be undone on Ben’s device',
  });
  await shot(page, 'sharing-viewer-refused');
});

test('removed: the notebook leaves Ben’s device, and Ben is told why', async () => {
  const dialog = shareDialog(adaBrowser.page);
  await adaBrowser.page.locator('.scope-share').click();
  await dialog.getByRole('button', { name: `Remove ${ben.display_name}` }).click();
  await adaBrowser.page.getByRole('dialog', { name: `Remove ${ben.display_name}?` }).getByRole('button', { name: 'Remove' }).click();
  await waitForRole(notebookId, ben.id, null);
  await dialog.locator('.member').nth(1).waitFor({ state: 'detached' });

  const { page } = benBrowser;
  await page.getByText('You were removed from “Launch team”').waitFor({ timeout: 20_000 });
  await notebookItem(page, 'Launch team').waitFor({ state: 'detached' });
  await page.locator('.scope-title', { hasText: 'Personal' }).waitFor();
  assert.equal(await page.locator('.note-item', { hasText: 'Launch plan' }).count(), 0);
  const local = await page.evaluate(async (id) => {
    const { openDatabase } = await import('/db.js');
    const db = openDatabase(id);
    await db.init();
    const counts = await db.get('SELECT (SELECT count(*) FROM notes WHERE notebook_id IS NOT NULL) AS notes, (SELECT count(*) FROM notebooks) AS notebooks');
    await db.close();
    return counts;
  }, ben.id);
  assert.deepEqual({ ...local }, { notes: 0, notebooks: 0 }, 'nothing of the notebook is left on Ben’s device');
  await shot(page, 'sharing-removed-notice');
  for (const browser of [adaBrowser, benBrowser]) {
    assert.deepEqual(browser.unexpectedProblems(/status of 401/, /status of 40[349]/), []);
  }
});
