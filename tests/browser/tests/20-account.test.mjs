// The account menu on every signed-in screen: who you are, display name, password change
// (other sessions logged out, this one kept), sessions with revoke, theme, log out.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PASSWORD, PHONE, DESKTOP, api, closeDb, createUser, expectAxeClean, logIn, openBrowser, shot, sql } from '../lib.mjs';

let browser;
let user;
before(async () => {
  browser = await openBrowser();
  user = await createUser('Ada Account');
  await logIn(browser.page, user);
});
after(async () => {
  await browser?.close();
  await closeDb();
});

const menuButton = (page) => page.getByRole('button', { name: 'Account', exact: true });

async function openMenu(page) {
  if ((await menuButton(page).getAttribute('aria-expanded')) !== 'true') await menuButton(page).click();
  return page.locator('.account-panel');
}

async function openSettings(page) {
  const menu = await openMenu(page);
  await menu.getByRole('button', { name: 'Account settings' }).click();
  return page.getByRole('dialog', { name: 'Account settings' });
}

const background = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

test('the menu says who you are, and its targets are large enough on a phone', async () => {
  const { page } = browser;
  const menu = await openMenu(page);
  await menu.getByText(user.email).waitFor();
  await menu.getByText('Ada Account').waitFor();
  assert.equal(await menu.getByText('Admin', { exact: true }).count(), 0, 'not an admin');
  await expectAxeClean(page, 'account menu, light');
  await shot(page, 'account-menu-desktop');

  await page.setViewportSize(PHONE);
  await shot(page, 'account-menu-phone');
  const targets = [menuButton(page), ...(await menu.locator('.menu-item, .theme-option span').all())];
  for (const target of targets) {
    const box = await target.boundingBox();
    assert.ok(box.height >= 44 && box.width >= 44, `a 44 px target: ${await target.textContent()} ${JSON.stringify(box)}`);
  }
  await page.keyboard.press('Escape');
  assert.equal(await menuButton(page).getAttribute('aria-expanded'), 'false');
  await page.setViewportSize(DESKTOP);
});

test('the theme can be light, dark or the system’s, and is remembered', async () => {
  const { page } = browser;
  const light = await background(page);
  const menu = await openMenu(page);
  await menu.getByRole('radio', { name: 'Dark' }).check();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  // Colours change with a short transition: judge them once it has finished (or was cancelled:
  // an element redrawn meanwhile starts from the new colours).
  await page.evaluate(() => Promise.allSettled(document.getAnimations().map((a) => a.finished)));
  const dark = await background(page);
  assert.notEqual(dark, light);
  await expectAxeClean(page, 'account menu, dark');
  await shot(page, 'account-menu-dark');
  await page.reload();
  await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
  assert.equal(await background(page), dark, 'remembered after a reload');
  await (await openMenu(page)).getByRole('radio', { name: 'System' }).check();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), undefined);
  assert.equal(await background(page), light);
  await page.keyboard.press('Escape');
});

test('the display name can be changed', async () => {
  const { page } = browser;
  const dialog = await openSettings(page);
  await dialog.getByLabel('Display name').fill('Ada Lovelace');
  await dialog.getByRole('button', { name: 'Save name' }).click();
  await dialog.getByText('Display name saved.').waitFor();
  const [row] = await sql('SELECT display_name FROM users WHERE id = $1', [user.id]);
  assert.equal(row.display_name, 'Ada Lovelace');
  await expectAxeClean(page, 'account settings, light');
  await shot(page, 'account-settings-desktop');
  await page.setViewportSize(PHONE);
  await shot(page, 'account-settings-phone');
  await page.setViewportSize(DESKTOP);
  await dialog.getByRole('button', { name: 'Close' }).click();
  assert.equal(await page.locator('.account-name').textContent(), 'Ada Lovelace');
});

test('sessions are listed and one can be revoked', async () => {
  const { page } = browser;
  const other = await api('POST', '/api/auth/login', { email: user.email, password: PASSWORD });
  assert.equal(other.status, 200);
  assert.equal((await api('GET', '/api/auth/me', undefined, other.cookie)).status, 200);
  const dialog = await openSettings(page);
  const sessions = dialog.getByRole('list', { name: 'Active sessions' }).getByRole('listitem');
  // The sign-up's session, this browser's, and the one just made.
  await dialog.getByText('This device').waitFor();
  assert.equal(await sessions.count(), 3);
  await dialog.getByRole('button', { name: 'Revoke' }).first().click();
  await dialog.getByText('Session revoked').waitFor();
  assert.equal(await sessions.count(), 2);
  const still = await Promise.all([user.cookie, other.cookie].map(async (c) => (await api('GET', '/api/auth/me', undefined, c)).status));
  assert.deepEqual(still.sort(), [200, 401], 'exactly one of the other sessions ended');
  user.cookie = still[0] === 200 ? user.cookie : other.cookie;
  await dialog.getByRole('button', { name: 'Close' }).click();
});

test('a password change logs the other sessions out and keeps this one', async () => {
  const { page } = browser;
  const elsewhere = user.cookie;
  assert.equal((await api('GET', '/api/auth/me', undefined, elsewhere)).status, 200);
  const dialog = await openSettings(page);
  await dialog.getByLabel('Current password').fill('not my password');
  await dialog.getByLabel('New password', { exact: true }).fill('a much better password');
  await dialog.getByLabel('New password again').fill('a much better password');
  await dialog.getByRole('button', { name: 'Change password' }).click();
  await dialog.getByText('the current password is not right').waitFor();

  await dialog.getByLabel('Current password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Change password' }).click();
  await dialog.getByText('Password changed. 1 other session logged out.').waitFor();
  assert.equal((await api('GET', '/api/auth/me', undefined, elsewhere)).status, 401, 'the other session ended');
  assert.equal(await page.evaluate(async () => (await fetch('/api/auth/me')).status), 200, 'this one stays');
  assert.equal((await api('POST', '/api/auth/login', { email: user.email, password: PASSWORD })).status, 401);
  assert.equal((await api('POST', '/api/auth/login', { email: user.email, password: 'a much better password' })).status, 200);
  await dialog.getByRole('button', { name: 'Close' }).click();
  user.password = 'a much better password';
});

test('log out from the menu', async () => {
  const { page } = browser;
  const menu = await openMenu(page);
  await menu.getByRole('button', { name: 'Log out…' }).click();
  await page.getByRole('dialog', { name: 'Log out?' }).getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.deepEqual(browser.unexpectedProblems(/status of 401/, /status of 403/), []);
});
