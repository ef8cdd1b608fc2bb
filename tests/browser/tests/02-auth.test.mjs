// Login refusal, sign-up, and logout clearing the device.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PASSWORD, closeDb, createUser, logIn, openBrowser, poll, sql } from '../lib.mjs';

let browser;
before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser.close();
  await closeDb();
});

test('a wrong password is refused with a message, and no session starts', async () => {
  const user = await createUser('Refused Rita');
  const { page } = browser;
  await page.goto('/');
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill('not the password at all');
  await page.getByRole('button', { name: 'Log in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /\S/, 'the refusal says something');
  assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByRole('searchbox', { name: 'Search notes' }).count(), 0);
  const me = await page.evaluate(() => fetch('/api/auth/me').then((r) => r.status));
  assert.equal(me, 401);
});

test('sign-up (open policy) creates a regular account and logs it in', async () => {
  const { page } = browser;
  await page.goto('/');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByRole('heading', { name: 'Create your account' }).waitFor();
  const email = `sam.${Date.now()}@example.com`;
  await page.getByLabel('Your name').fill('Sam Signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
  const [row] = await sql('SELECT display_name, is_admin FROM users WHERE email = $1', [email]);
  assert.deepEqual(row, { display_name: 'Sam Signup', is_admin: false });
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
});

test('logout ends the session and removes the notes from this device', async () => {
  const user = await createUser('Leaving Lee');
  const { page } = browser;
  await logIn(page, user);
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Private thoughts');
  await poll(async () => (await sql('SELECT 1 FROM notes WHERE owner_id = $1 AND title = $2', [user.id, 'Private thoughts'])).length, {
    message: 'the note to reach Postgres',
  });
  assert.equal(await localCounts(page, user.id).then((c) => c.notes), 1);

  await page.getByRole('button', { name: 'Log out' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('removed when you log out').waitFor();
  await dialog.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.getByText('Notes on this device were removed').waitFor();

  assert.equal(await page.evaluate(() => fetch('/api/auth/me').then((r) => r.status)), 401);
  assert.equal(await page.evaluate(() => localStorage.getItem('notebox.user')), null);
  const counts = await localCounts(page, user.id);
  assert.deepEqual(counts, { notes: 0, oplog: 0, crud: 0 }, 'the local database is empty');
});

/** Opens the user's local database directly (as the app does) and counts what it holds. */
function localCounts(page, userId) {
  return page.evaluate(async (id) => {
    const { openDatabase } = await import('/db.js');
    const db = openDatabase(id);
    await db.init();
    const row = await db.get(
      'SELECT (SELECT count(*) FROM notes) AS notes, (SELECT count(*) FROM ps_oplog) AS oplog, (SELECT count(*) FROM ps_crud) AS crud',
    );
    await db.close();
    return { notes: row.notes, oplog: row.oplog, crud: row.crud };
  }, userId);
}
