// A note's history: the panel lists the versions the server kept (time, author, why),
// previews one, and restores it after asking; the restored text reaches Postgres and the
// editor, and the text it replaced stays in the history.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PHONE, closeDb, createUser, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';
import { seedNote } from '../teams.mjs';
import { bodyField, openNote, waitForBody, waitForEditor, writeBody } from '../edits.mjs';

let user;
let browser;
before(async () => {
  user = await createUser('Hana History');
  browser = await openBrowser();
  await logIn(browser.page, user);
  await browser.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});
after(async () => {
  await browser?.close();
  await closeDb();
});

test('the history panel lists versions, previews them and restores one', async () => {
  const id = await seedNote(null, user, 'Essay', 'First draft: a rough start.', 1);
  // An older version kept by the server earlier (arranged directly), before a merge.
  await sql(
    `INSERT INTO note_versions (note_id, title, body, created_at, created_by, reason, saved_at)
     VALUES ($1, 'Essay', 'Outline: intro, argument, end.', now() - interval '3 hours', $2, 'merge', now() - interval '2 hours')`,
    [id, user.id],
  );
  const { page } = browser;
  await openNote(page, 'Essay', 'First draft: a rough start.');
  // An edit through the UI: the server keeps the text it replaces as a version.
  await writeBody(page, 'Second draft: much better.');
  await waitForBody(id, (body) => body === 'Second draft: much better.', 'the edit in Postgres');
  await poll(async () => (await sql('SELECT 1 FROM note_versions WHERE note_id = $1', [id])).length === 2, { message: 'the edit’s version' });

  await page.getByRole('button', { name: 'History' }).click();
  const panel = page.getByRole('dialog', { name: 'History of “Essay”' });
  await panel.getByText('2 earlier versions').waitFor();
  const versions = panel.getByRole('list', { name: 'Versions' }).getByRole('button');
  assert.equal(await versions.count(), 2);
  assert.match(await versions.nth(0).textContent(), /by you|you/);
  assert.match(await versions.nth(1).textContent(), /before a merge/);
  const preview = panel.getByRole('region', { name: 'Preview' });
  assert.match(await preview.textContent(), /First draft: a rough start\./, 'the newest version is previewed first');
  await versions.nth(1).click();
  assert.match(await preview.textContent(), /Outline: intro, argument, end\./);
  assert.equal(await versions.nth(1).getAttribute('aria-current'), 'true');
  await shot(page, 'edits-history-desktop');
  await page.setViewportSize(PHONE);
  await shot(page, 'edits-history-phone');

  await preview.getByRole('button', { name: 'Restore this version' }).click();
  const confirm = page.getByRole('dialog', { name: 'Restore this version?' });
  await confirm.getByRole('button', { name: 'Restore' }).click();
  await panel.waitFor({ state: 'detached' });
  await waitForBody(id, (body) => body === 'Outline: intro, argument, end.', 'the restored text in Postgres');
  await waitForEditor(page, 'Outline: intro, argument, end.', 'the restored text in the editor');
  const kept = await sql("SELECT body FROM note_versions WHERE note_id = $1 AND reason = 'restore'", [id]);
  assert.deepEqual(kept.map((v) => v.body), ['Second draft: much better.'], 'the replaced text stays in the history');
  assert.equal(await bodyField(page).isEditable(), true);
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});
