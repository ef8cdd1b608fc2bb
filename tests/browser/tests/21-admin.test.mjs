// The admin page: admins only; people (list, add with a one-time password, disable/enable,
// reset a password), the sign-up policy taking effect at once, signing keys, the check.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PASSWORD, PHONE, DESKTOP, api, closeDb, createUser, expectAxeClean, logIn, openBrowser, shot, sql } from '../lib.mjs';

let browser;
let admin;
let person;
before(async () => {
  admin = await createUser('Ines Admin');
  await sql('UPDATE users SET is_admin = true WHERE id = $1', [admin.id]);
  person = await createUser('Pablo Person');
  browser = await openBrowser();
  await logIn(browser.page, admin);
});
after(async () => {
  // The test server's sign-up is open by config: leave it so for the files after this one.
  await sql('UPDATE notebox_settings SET signup = NULL');
  await browser?.close();
  await closeDb();
});

const row = (page, email) => page.locator('.user-table tbody tr', { hasText: email });

async function openAdmin(page) {
  const menu = page.locator('.account-panel');
  await page.getByRole('button', { name: 'Account', exact: true }).click();
  await menu.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('heading', { name: 'Admin', exact: true }).waitFor();
  await page.getByText('checks passed').or(page.getByText('need attention')).waitFor({ timeout: 30_000 });
}

test('non-admins are refused, on the page and by the API', async () => {
  const other = await openBrowser();
  try {
    await logIn(other.page, person);
    assert.equal(await other.page.locator('.account-panel').getByRole('link', { name: 'Admin' }).count(), 0);
    await other.page.goto('/admin');
    await other.page.getByRole('heading', { name: 'Only admins can open this page' }).waitFor();
    assert.equal(await other.page.getByRole('table').count(), 0);
    for (const [method, path, body] of [
      ['GET', '/api/admin/users'],
      ['POST', '/api/admin/users', { email: 'sneaky@example.com' }],
      ['PUT', '/api/admin/settings', { signup: 'closed' }],
      ['POST', '/api/admin/keys/rotate', {}],
      ['GET', '/api/admin/check'],
    ]) {
      assert.equal((await api(method, path, body, person.cookie)).status, 403, `${method} ${path}`);
    }
    await expectAxeClean(other.page, 'admin refused, light');
  } finally {
    await other.close();
  }
});

test('the admin page lists people, keys and the check', async () => {
  const { page } = browser;
  await openAdmin(page);
  const pablo = row(page, person.email);
  await pablo.waitFor();
  assert.match(await pablo.textContent(), /Pablo Person/);
  assert.match(await pablo.textContent(), /Active/);
  assert.ok((await page.locator('.user-table tbody tr').count()) >= 2);
  await page.getByRole('list', { name: 'Signing keys' }).getByText('Signing', { exact: true }).waitFor();
  assert.ok((await page.getByRole('list', { name: 'Checks' }).getByRole('listitem').count()) > 3);
  await expectAxeClean(page, 'admin page, light');
  await shot(page, 'admin-desktop');
  await page.setViewportSize(PHONE);
  await shot(page, 'admin-phone');
  await page.setViewportSize(DESKTOP);
});

test('an admin adds a person, who logs in with the one-time password', async () => {
  const { page } = browser;
  const email = `new.${Date.now()}@example.com`;
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Display name').fill('Nina New');
  await page.getByRole('button', { name: 'Add person' }).click();
  const dialog = page.getByRole('dialog', { name: 'Account created' });
  const password = await dialog.getByLabel('One-time password').inputValue();
  assert.ok(password.length >= 20);
  await expectAxeClean(page, 'one-time password, light');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await row(page, email).waitFor();
  assert.equal((await api('POST', '/api/auth/login', { email, password })).status, 200);
});

test('disable, enable and reset a password', async () => {
  const { page } = browser;
  assert.equal((await api('GET', '/api/auth/me', undefined, person.cookie)).status, 200);
  await row(page, person.email).getByRole('button', { name: 'Disable Pablo Person' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
  await row(page, person.email).getByText('Disabled').waitFor();
  assert.equal((await api('GET', '/api/auth/me', undefined, person.cookie)).status, 401, 'logged out at once');
  assert.equal((await api('POST', '/api/auth/login', { email: person.email, password: PASSWORD })).status, 403);
  const [disabled] = await sql('SELECT disabled_at FROM users WHERE id = $1', [person.id]);
  assert.ok(disabled.disabled_at);

  await row(page, person.email).getByRole('button', { name: 'Enable Pablo Person' }).click();
  await row(page, person.email).getByText('Active').waitFor();
  assert.equal((await api('POST', '/api/auth/login', { email: person.email, password: PASSWORD })).status, 200);

  await row(page, person.email).getByRole('button', { name: 'Reset password of Pablo Person' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Reset password' }).click();
  const dialog = page.getByRole('dialog', { name: 'New password' });
  const password = await dialog.getByLabel('One-time password').inputValue();
  await dialog.getByRole('button', { name: 'Done' }).click();
  assert.equal((await api('POST', '/api/auth/login', { email: person.email, password: PASSWORD })).status, 401);
  assert.equal((await api('POST', '/api/auth/login', { email: person.email, password })).status, 200);
});

test('the sign-up policy takes effect at once', async () => {
  const { page } = browser;
  const signup = () =>
    api('POST', '/api/auth/signup', { email: `s.${Date.now()}.${Math.random()}@example.com`, password: PASSWORD });
  assert.equal((await signup()).status, 201, 'open by the test config');
  await page.getByText('Closed', { exact: true }).click();
  await page.getByText('Sign-up is closed.').waitFor();
  const [stored] = await sql('SELECT signup FROM notebox_settings');
  assert.equal(stored.signup, 'closed');
  assert.equal((await signup()).status, 403, 'closed without a restart');
  assert.equal((await api('GET', '/api/auth/setup')).body.signup, 'closed');
  await page.getByText('Open', { exact: true }).click();
  await page.getByText('Sign-up is open.').waitFor();
  assert.equal((await signup()).status, 201);
});

test('rotating the signing key publishes the next one', async () => {
  const { page } = browser;
  const keys = page.getByRole('list', { name: 'Signing keys' });
  const before_ = await keys.getByRole('listitem').count();
  await page.getByRole('button', { name: 'Rotate key' }).click();
  await page.getByRole('dialog', { name: 'Rotate the signing key?' }).getByRole('button', { name: 'Rotate' }).click();
  await keys.getByText('Published, signs soon').waitFor();
  assert.equal(await keys.getByRole('listitem').count(), before_ + 1);
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});

test('the admin page in dark mode', async () => {
  const dark = await openBrowser({ colorScheme: 'dark' });
  try {
    await logIn(dark.page, admin);
    await openAdmin(dark.page);
    await expectAxeClean(dark.page, 'admin page, dark');
    await shot(dark.page, 'admin-dark');
    await dark.page.setViewportSize(PHONE);
    await shot(dark.page, 'admin-dark-phone');
    await expectAxeClean(dark.page, 'admin page, dark, phone');
  } finally {
    await dark.close();
  }
});
