// First run: with no users the UI asks for the one-time setup link; opened through it, it
// offers to create the admin account, and then you are in.
// Runs first (file order): it needs the empty database run.sh created.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE, PASSWORD, api, closeDb, openBrowser, poll, sql } from '../lib.mjs';

let browser;
before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser.close();
  await closeDb();
});

test('first run: create the admin account and land in the (empty) notes list', async () => {
  const setup = await api('GET', '/api/auth/setup');
  assert.equal(setup.body.needs_setup, true, 'run.sh starts with an empty database');

  const { page } = browser;
  // Without the one-time link nobody can claim the server: the page says where the link is.
  await page.goto('/');
  await page.getByRole('heading', { name: 'Welcome to notebox' }).waitFor();
  await page.getByText('notebox setup-link', { exact: true }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create admin account' }).count(), 0);
  const refused = await api('POST', '/api/auth/signup', { email: 'mallory@example.com', password: PASSWORD });
  assert.equal(refused.status, 403, 'the first account needs the setup token');

  // run.sh got the link from `notebox setup-link`, as the person who started notebox would.
  const link = new URL(process.env.SETUP_LINK);
  assert.ok(link.searchParams.get('setup_token'), `a setup link: ${link}`);
  await page.goto(link.href);
  await page.getByRole('heading', { name: 'Welcome to notebox' }).waitFor();
  await page.getByLabel('Your name').fill('Ada Admin');
  await page.getByLabel('Email').fill('ada.admin@example.com');
  // Too short first: the form says so before the server is asked.
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await poll(async () => (await page.getByRole('alert').textContent()).includes('at least 10 characters'), {
    message: 'the password length message',
  });

  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
  await page.getByText('No notes yet').waitFor();
  await page.getByText('Ada Admin').waitFor();

  const [user] = await sql('SELECT email, display_name, is_admin FROM users');
  assert.deepEqual(user, { email: 'ada.admin@example.com', display_name: 'Ada Admin', is_admin: true });
  assert.equal((await api('GET', '/api/auth/setup')).body.needs_setup, false);
  assert.ok(!new URL(page.url()).searchParams.has('setup_token'), 'the spent token leaves the address bar');

  // The session survives a reload, and the UI connects to the sync service.
  await page.reload();
  await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });

  assert.deepEqual(browser.unexpectedProblems(/status of 401/), [], `no errors in ${BASE}`);
});
