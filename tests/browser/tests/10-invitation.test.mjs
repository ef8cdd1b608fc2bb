// Invitations with sign-up closed (a second notebox on the same database and sync double):
// an owner invites an email with no account from the Share dialog and gets a link; opening
// it shows a sign-up card that names the notebook; signing up with it creates the account
// and joins. Someone already signed in who opens a link joins at once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PASSWORD, closeDb, createUser, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';
import { invite, openNotebook, seedNote, seedNotebook, shareDialog, startNotebox, waitForRole } from '../teams.mjs';

let closed;
let owner;
let notebookId;
const browsers = [];

async function browserOn(server, options = {}) {
  const browser = await openBrowser({ baseURL: server.url, ...options });
  browsers.push(browser);
  return browser;
}

before(async () => {
  closed = await startNotebox({ NOTEBOX_AUTH__SIGNUP: 'closed' });
  owner = await createUser('Olga Owner');
  notebookId = await seedNotebook('Book club', [[owner, 'owner']]);
  await seedNote(notebookId, owner, 'March: Piranesi', 'Meet at the library.');
});
after(async () => {
  for (const browser of browsers) await browser.close();
  await closed?.close();
  await closeDb();
});

test('an owner invites an email without an account and gets a link to pass on', async () => {
  const { page } = await browserOn(closed);
  await logIn(page, owner);
  await openNotebook(page, 'Book club');
  const email = `nina.${Date.now()}@example.com`;
  await invite(page, email, 'Can edit');
  const link = shareDialog(page).getByLabel('Invitation link');
  await link.waitFor();
  const url = await link.inputValue();
  assert.match(url, /[?&]invitation=/);
  assert.match(await shareDialog(page).locator('.invite-link').textContent(), new RegExp(`${email.replace(/\./g, '\\.')} has no account yet`));
  await shot(page, 'share-dialog-invitation-link');
  const [row] = await sql('SELECT role, notebook_id::text FROM invitations WHERE email = $1', [email]);
  assert.deepEqual(row, { role: 'editor', notebook_id: notebookId });

  // Sign-up is closed: no way to make an account without the link.
  const stranger = await browserOn(closed);
  await stranger.page.goto('/');
  await stranger.page.getByRole('heading', { name: 'Log in' }).waitFor();
  assert.equal(await stranger.page.getByRole('link', { name: 'Create an account' }).count(), 0);

  // With it: a sign-up card naming the notebook, the email filled in.
  const token = new URL(url).searchParams.get('invitation');
  await stranger.page.goto(`/?invitation=${encodeURIComponent(token)}`);
  await stranger.page.getByRole('heading', { name: 'Join notebox' }).waitFor();
  await stranger.page.getByText('You were invited to “Book club”').waitFor();
  assert.equal(await stranger.page.getByLabel('Email').inputValue(), email);
  await shot(stranger.page, 'invitation-signup');
  await stranger.page.getByLabel('Your name').fill('Nina New');
  await stranger.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await stranger.page.getByRole('button', { name: 'Create account and join' }).click();

  // In, and in the notebook, which syncs down with its note.
  await stranger.page.locator('.scope-title', { hasText: 'Book club' }).waitFor({ timeout: 20_000 });
  await stranger.page.locator('.note-item', { hasText: 'March: Piranesi' }).waitFor({ timeout: 20_000 });
  assert.equal(new URL(stranger.page.url()).search, '', 'the token left the address bar');
  const [user] = await sql('SELECT id::text, display_name FROM users WHERE email = $1', [email]);
  assert.equal(user.display_name, 'Nina New');
  await waitForRole(notebookId, user.id, 'editor');
  const [used] = await sql('SELECT accepted_at IS NOT NULL AS used FROM invitations WHERE email = $1', [email]);
  assert.equal(used.used, true);
});

test('someone signed in who opens an invitation joins the notebook', async () => {
  const member = await createUser('Sol Signedin');
  const answer = await fetch(`${closed.url}/api/invitations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', origin: closed.url, cookie: owner.cookie },
    body: JSON.stringify({ email: member.email, notebook_id: notebookId, role: 'viewer' }),
  });
  assert.equal(answer.status, 201);
  const { url } = await answer.json();
  const { page } = await browserOn(closed);
  await logIn(page, member);
  await page.goto(`/?invitation=${encodeURIComponent(new URL(url).searchParams.get('invitation'))}`);
  await page.getByText('You joined “Book club”').waitFor({ timeout: 20_000 });
  await page.locator('.scope-title', { hasText: 'Book club' }).waitFor({ timeout: 20_000 });
  await page.locator('.scope-bar .badge', { hasText: 'View only' }).waitFor();
  await waitForRole(notebookId, member.id, 'viewer');
});

test('a used link says so instead of offering a sign-up', async () => {
  const [row] = await sql("SELECT 1 FROM invitations WHERE accepted_at IS NOT NULL LIMIT 1");
  assert.ok(row);
  const { page } = await browserOn(closed);
  await page.goto('/?invitation=not-a-real-token');
  await page.getByText('This invitation link no longer works').waitFor();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await poll(async () => new URL(page.url()).search === '', { message: 'the token to leave the address bar' });
});
