// A reload shows the notes list's first screen, saved on this device, at once, while the local
// database opens (first-screen.js). Honest: the rows and count the live list last showed,
// marked busy until the database answers and replaces them in place. Usable: a click, the
// arrow keys and Enter, New note and a search made meanwhile wait for the database, and no
// keystroke is lost. Private: forgotten on every way out (logout on the notes screen and on
// the admin page, "Use another account" after the session ended, another person signing in on
// this browser) and never shown to anyone else.
//
// The tests hold the database shut by taking, from a second tab, the Web Lock the SDK's
// IndexedDB file system takes to open the user's database file.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, expectAxeClean, logIn, openLoggedIn, poll, sql, titles } from '../lib.mjs';

const NOTES = 30;
let browser;
let user;
let other;

async function seed(owner, prefix) {
  await sql(
    `INSERT INTO notes (id, owner_id, title, body, created_at, updated_at)
     SELECT gen_random_uuid(), $1, $2 || ' ' || i, 'Body of ' || lower($2) || ' ' || i,
            now() - make_interval(mins => i), now() - make_interval(mins => i)
       FROM generate_series(1, $3::int) AS i`,
    [owner.id, prefix, NOTES],
  );
}

const savedKey = (person) => `notebox.firstScreen.${person.id}`;
const saved = (page, person) => page.evaluate((key) => localStorage.getItem(key), savedKey(person));
const waitSaved = (page, person) => poll(() => saved(page, person), { message: 'the first screen saved' });

/** Keeps the person's local database shut until the returned function is called. */
async function holdDatabase(person) {
  const holder = await browser.context.newPage();
  await holder.goto('/icon.svg');
  await holder.evaluate(
    (name) =>
      new Promise((taken) => {
        navigator.locks.request(name, () => {
          taken();
          return new Promise((release) => { window.releaseDatabase = release; });
        });
      }),
    `lock##IDB(notebox-${person.id}.sqlite):/notebox-${person.id}.sqlite##access`,
  );
  return async () => {
    await holder.evaluate(() => window.releaseDatabase());
    await holder.close();
  };
}

async function logOut(page) {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
}

before(async () => {
  user = await createUser('Fiona First');
  await seed(user, 'Note');
  browser = await openLoggedIn(user, `${NOTES} notes`);
  await browser.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  await waitSaved(browser.page, user);
});
after(async () => {
  await browser.close();
  await closeDb();
});

test('a reload shows the saved first screen at once, marked busy, then the live list in its place', async () => {
  const { page } = browser;
  const release = await holdDatabase(user);
  try {
    await page.reload();
    await page.locator('.list-count', { hasText: `${NOTES} notes` }).waitFor();
    assert.deepEqual((await titles(page)).slice(0, 3), ['Note 1', 'Note 2', 'Note 3']);
    await page.locator('.list-opening', { hasText: 'Opening' }).waitFor();
    assert.equal(await page.locator('.note-list').getAttribute('aria-busy'), 'true');
    await expectAxeClean(page, 'notes, saved first screen');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('.note-list').getAttribute('aria-busy'), 'true', 'still busy while the database is shut');
  } finally {
    await release();
  }
  await page.locator('.list-opening').waitFor({ state: 'hidden', timeout: 20_000 });
  assert.equal(await page.locator('.note-list').getAttribute('aria-busy'), 'false');
  assert.deepEqual((await titles(page)).slice(0, 3), ['Note 1', 'Note 2', 'Note 3']);
});

test('a click, the arrow keys and Enter before the database opens open the note once it does', async () => {
  const { page } = browser;
  let release = await holdDatabase(user);
  await page.reload();
  await page.locator('.list-count', { hasText: `${NOTES} notes` }).waitFor();
  await page.locator('.note-item', { hasText: 'Note 2' }).click();
  await release();
  await poll(async () => (await page.getByLabel('Title').inputValue()) === 'Note 2', { message: 'Note 2 open' });

  release = await holdDatabase(user);
  await page.goto('/');
  await page.locator('.list-count', { hasText: `${NOTES} notes` }).waitFor();
  await page.locator('.note-list').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await release();
  await poll(async () => (await page.getByLabel('Title').inputValue()) === 'Note 3', { message: 'Note 3 open' });
});

test('a search and a new note typed before the database opens lose no keystroke', async () => {
  const { page } = browser;
  let release = await holdDatabase(user);
  await page.goto('/');
  await page.locator('.list-count', { hasText: `${NOTES} notes` }).waitFor();
  const search = page.getByRole('searchbox', { name: 'Search notes' });
  await search.click();
  await page.keyboard.type('note 7', { delay: 20 });
  await release();
  await page.locator('.list-count', { hasText: '1 match for “note 7”' }).waitFor({ timeout: 20_000 });
  assert.equal(await search.inputValue(), 'note 7');
  assert.deepEqual(await titles(page), ['Note 7']);

  release = await holdDatabase(user);
  await page.goto('/');
  await page.locator('.list-count', { hasText: `${NOTES} notes` }).waitFor();
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.keyboard.type('Written while opening', { delay: 20 });
  await release();
  assert.equal(await page.getByLabel('Title').inputValue(), 'Written while opening');
  await poll(async () => (await sql('SELECT 1 FROM notes WHERE owner_id = $1 AND title = $2', [user.id, 'Written while opening'])).length === 1, {
    timeout: 30_000, message: 'the new note on the server',
  });
  await page.locator('.list-count', { hasText: `${NOTES + 1} notes` }).waitFor();
});

test('logging out on the notes screen forgets it; the next person never sees it', async () => {
  const { page } = browser;
  await page.goto('/');
  await page.locator('.list-count', { hasText: `${NOTES + 1} notes` }).waitFor();
  await waitSaved(page, user);
  await logOut(page);
  assert.equal(await saved(page, user), null);

  other = await createUser('Oscar Other');
  await seed(other, 'Other');
  await logIn(page, other);
  await page.locator('.list-count', { hasText: `${NOTES} notes` }).waitFor({ timeout: 30_000 });
  assert.equal((await titles(page)).some((title) => title.startsWith('Note ')), false);
  await waitSaved(page, other);
  assert.equal(await saved(page, user), null);
});

test('another person signing in on this browser forgets the previous one', async () => {
  const { page, context } = browser;
  // `other` from the previous test is signed in, with a saved first screen; now the server
  // says someone else is (a login in another tab, say).
  const third = await createUser('Tess Third');
  await context.clearCookies();
  const [name, value] = third.cookie.split('=');
  await context.addCookies([{ name, value, url: process.env.NOTEBOX_URL }]);
  await page.reload();
  await page.locator('.list-empty:not([hidden])').waitFor({ timeout: 30_000 });
  assert.equal(await saved(page, other), null);
  assert.equal((await titles(page)).length, 0);
});

test('"Use another account" after the session ended forgets it', async () => {
  const { page } = browser;
  await logOut(page);
  await logIn(page, user);
  await page.locator('.list-count', { hasText: `${NOTES + 1} notes` }).waitFor({ timeout: 30_000 });
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  await waitSaved(page, user);

  await sql('DELETE FROM sessions WHERE user_id = $1', [user.id]);
  // The app notices at its next upload: keep writing until it does.
  await page.getByRole('button', { name: 'New note' }).first().click();
  const notice = page.locator('.relogin-notice');
  for (let i = 0; !(await notice.isVisible()); i += 1) {
    assert.ok(i < 60, 'the app noticed the ended session');
    await page.keyboard.type('more ');
    await page.waitForTimeout(500);
  }
  await page.getByRole('button', { name: 'Log in again' }).click();
  await page.getByRole('button', { name: 'Use another account' }).click();
  await page.getByLabel('Password', { exact: true }).waitFor();
  assert.equal(await saved(page, user), null);
});

test('logging out on the admin page forgets it', async () => {
  const { page } = browser;
  await sql('UPDATE users SET is_admin = true WHERE id = $1', [user.id]);
  await logIn(page, user);
  // (with the note written after the session ended in the previous test)
  await page.locator('.list-count', { hasText: `${NOTES + 2} notes` }).waitFor({ timeout: 30_000 });
  await waitSaved(page, user);
  await page.goto('/admin');
  await page.getByRole('button', { name: 'Account' }).click();
  await page.getByRole('button', { name: 'Log out…' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await saved(page, user), null);
});
