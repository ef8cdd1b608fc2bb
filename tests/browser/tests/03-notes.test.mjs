// Create, edit, search and delete in the UI; every change reaches Postgres.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, logIn, openBrowser, poll, sql } from '../lib.mjs';

let browser;
let user;
before(async () => {
  browser = await openBrowser();
  user = await createUser('Nora Notes');
  await logIn(browser.page, user);
});
after(async () => {
  await browser.close();
  await closeDb();
});

const noteId = (page) => new URL(page.url()).pathname.split('/').pop();
const row = async (id) => (await sql('SELECT owner_id::text, title, body, created_at, updated_at FROM notes WHERE id = $1', [id]))[0];

test('a new note autosaves and its row in Postgres matches', async () => {
  const { page } = browser;
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Shopping list');
  await page.getByLabel('Note', { exact: true }).fill('eggs\nflour');
  const id = noteId(page);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a lowercase v4 uuid');
  await page.getByText('Saved on this device').waitFor();

  const saved = await poll(async () => {
    const r = await row(id);
    return r?.body === 'eggs\nflour' && r;
  }, { message: 'the new note in Postgres' });
  assert.equal(saved.owner_id, user.id);
  assert.equal(saved.title, 'Shopping list');
  assert.ok(saved.updated_at >= saved.created_at);
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});

test('edits are saved (debounced) and uploaded', async () => {
  const { page } = browser;
  const id = noteId(page);
  const before_ = await row(id);
  const body = page.getByLabel('Note', { exact: true });
  await body.press('End');
  await body.pressSequentially('\nbutter', { delay: 15 });
  await page.getByLabel('Title').fill('Shopping list (Saturday)');
  await poll(async () => {
    const r = await row(id);
    return r.title === 'Shopping list (Saturday)' && r.body === 'eggs\nflour\nbutter';
  }, { message: 'the edit in Postgres' });
  assert.ok((await row(id)).updated_at > before_.updated_at, 'updated_at moves forward');
  // The list shows the new title, newest first.
  assert.equal(await page.locator('.note-item .note-title').first().textContent(), 'Shopping list (Saturday)');
});

test('search filters by title and body as you type', async () => {
  const { page } = browser;
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Holiday plans');
  await page.getByLabel('Note', { exact: true }).fill('Pack the snorkel and the butterfly net');
  await page.getByText('Saved on this device').waitFor();
  const items = page.locator('.note-item');
  await poll(async () => (await items.count()) === 2, { message: 'two notes listed' });

  const search = page.getByRole('searchbox', { name: 'Search notes' });
  await search.fill('holiday');
  await poll(async () => (await items.count()) === 1, { message: 'one title match' });
  assert.equal(await items.locator('.note-title').textContent(), 'Holiday plans');
  await search.fill('BUTTER'); // body of both notes, any case
  await poll(async () => (await items.count()) === 2, { message: 'two body matches' });
  assert.equal(await page.locator('.note-item mark').first().textContent(), 'butter');
  await search.fill('zebra');
  await page.getByText('No matches').waitFor();
  await search.fill('');
  await poll(async () => (await items.count()) === 2, { message: 'all notes again' });
});

test('delete removes the row; undo brings it back', async () => {
  const { page } = browser;
  await page.locator('.note-item', { hasText: 'Holiday plans' }).click();
  const id = noteId(page);
  await poll(async () => row(id), { message: 'the note in Postgres' });
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('“Holiday plans” deleted').waitFor();
  await page.locator('.note-item', { hasText: 'Holiday plans' }).waitFor({ state: 'detached' });
  await poll(async () => !(await row(id)), { message: 'the row deleted in Postgres' });

  await page.getByRole('button', { name: 'Undo' }).click();
  await page.locator('.note-item', { hasText: 'Holiday plans' }).waitFor();
  const restored = await poll(async () => row(id), { message: 'the row back in Postgres' });
  assert.equal(restored.body, 'Pack the snorkel and the butterfly net');

  await page.getByRole('button', { name: 'Delete' }).click();
  await poll(async () => !(await row(id)), { message: 'the row deleted again' });
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});

test('a new note left empty is not kept', async () => {
  const { page } = browser;
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  const count = (await sql('SELECT count(*)::int AS n FROM notes WHERE owner_id = $1', [user.id]))[0].n;
  assert.equal(await page.locator('.note-item').count(), count);
  await page.keyboard.press('Escape');
  await page.locator('body').press('n'); // keyboard shortcut for a new note
  await page.getByLabel('Title').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Title');
  await page.locator('.note-item', { hasText: 'Shopping list' }).click(); // leave it unwritten
  await poll(async () => (await page.locator('.note-item').count()) === count, { message: 'the empty note gone from the list' });
  await poll(
    async () => (await sql('SELECT count(*)::int AS n FROM notes WHERE owner_id = $1', [user.id]))[0].n === count,
    { message: 'no empty note left in Postgres' },
  );
});
