// The session ends while someone types (here: revoked on the server, as a password change
// elsewhere or an admin would). The screen stays: the editor keeps its text and the keyboard,
// nothing is typed into a password field, a notice offers to log in again, the dialog opens
// over the editor, and after logging in every edit made meanwhile reaches Postgres.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, expectAxeClean, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';

let browser;
let user;
before(async () => {
  browser = await openBrowser();
  user = await createUser('Rita Relogin');
  await logIn(browser.page, user);
  await browser.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});
after(async () => {
  await browser.close();
  await closeDb();
});

test('a session that ends mid-sentence loses no typing, and uploads resume after logging in again', async () => {
  const { page } = browser;
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Letter to Ana');
  const body = page.getByLabel('Note', { exact: true });
  await body.click();
  await page.keyboard.type('Dear Ana, ');
  const id = new URL(page.url()).pathname.split('/').pop();
  await poll(async () => (await sql('SELECT body FROM notes WHERE id = $1', [id]))[0]?.body === 'Dear Ana, ', {
    timeout: 30_000, message: 'the first words on the server',
  });

  await sql('DELETE FROM sessions WHERE user_id = $1', [user.id]);
  // Keep typing until the app notices (its next upload is refused; the server may trust a
  // session it checked a few seconds ago a little longer).
  const notice = page.locator('.relogin-notice');
  let typed = 'Dear Ana, ';
  const words = 'the weather here is fine and the sea is warm again this week '.split(' ');
  for (let i = 0; !(await notice.isVisible()); i += 1) {
    assert.ok(i < 60, 'the app noticed the ended session');
    const word = `${words[i % words.length]} `;
    await page.keyboard.type(word);
    typed += word;
    await page.waitForTimeout(500);
  }
  assert.match(await notice.textContent(), /Your session has ended/);
  assert.equal(await page.locator('dialog[open]').count(), 0, 'no dialog grabs the keyboard of someone typing');
  assert.equal(await body.evaluate((el) => el === document.activeElement), true, 'the editor keeps the focus');
  await page.keyboard.type('Love, Bo');
  typed += 'Love, Bo';
  assert.equal(await body.inputValue(), typed, 'every keystroke is in the note');
  assert.equal(await page.getByRole('heading', { name: 'Log in', exact: true }).count(), 0, 'no login screen');
  await page.locator('.sync[data-state="signed-out"]').waitFor();
  await shot(page, 'relogin-notice');

  await page.getByRole('button', { name: 'Log in again' }).click();
  const dialog = page.getByRole('dialog', { name: 'Log in again' });
  await dialog.waitFor();
  assert.equal(await body.isVisible(), true, 'the editor stays behind the dialog');
  assert.equal(await dialog.getByLabel('Email').inputValue(), user.email);
  await expectAxeClean(page, 're-login dialog, light');
  await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  await expectAxeClean(page, 're-login dialog, dark');
  await shot(page, 'relogin-dialog-dark');
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });

  await dialog.getByLabel('Password').fill('not the password');
  await dialog.getByRole('button', { name: 'Log in' }).click();
  await dialog.getByText('That password is not right').waitFor();
  await dialog.getByLabel('Password').fill(user.password);
  await dialog.getByRole('button', { name: 'Log in' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await notice.isVisible(), false);

  await poll(async () => (await sql('SELECT body FROM notes WHERE id = $1', [id]))[0]?.body === typed, {
    timeout: 30_000, message: 'everything typed meanwhile on the server',
  });
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  assert.equal(await body.inputValue(), typed);
  assert.deepEqual(browser.unexpectedProblems(/status of 401/, /Unauthorized/i, /session/i), []);
});

test('with nobody typing, the dialog opens at once and focuses the password', async () => {
  const { page } = browser;
  await sql('DELETE FROM sessions WHERE user_id = $1', [user.id]);
  await page.waitForTimeout(11_000); // past the server's short trust in a recently checked session
  // An edit, then the keyboard goes elsewhere before its upload is refused.
  await page.getByLabel('Note', { exact: true }).press('End');
  await page.keyboard.type(' PS: see you soon.');
  await page.getByRole('searchbox', { name: 'Search notes' }).focus();
  const dialog = page.getByRole('dialog', { name: 'Log in again' });
  await dialog.waitFor({ timeout: 40_000 });
  assert.equal(await dialog.getByLabel('Password').evaluate((el) => el === document.activeElement), true);
  await dialog.getByRole('button', { name: 'Not now' }).click();
  await page.locator('.relogin-notice').waitFor();
  await page.getByRole('button', { name: 'Log in again' }).click();
  await dialog.getByLabel('Password').fill(user.password);
  await dialog.getByRole('button', { name: 'Log in' }).click();
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});
