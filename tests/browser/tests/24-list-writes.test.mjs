// A note written on this device moves in the list at once (in the same task as the save, before
// the local database has answered), to where the database then puts it too: it never jumps
// back and forth on the way. The test samples the list's order every frame; once a change
// shows, every later frame must agree.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, openLoggedIn, poll, sql } from '../lib.mjs';

// title, edited minutes ago, pinned
const NOTES = [
  ['Pinned plan', 1, 1],
  ['Banana bread', 2, 0],
  ['Cherry jam', 3, 0],
  ['Apple pie', 10, 0],
];
let browser;
let user;
before(async () => {
  user = await createUser('Wes Writes');
  for (const [title, edited, pinned] of NOTES) {
    await sql(
      `INSERT INTO notes (id, owner_id, title, body, created_at, updated_at, pinned)
       VALUES (gen_random_uuid(), $1, $2, 'About ' || $2, now() - make_interval(mins => $3), now() - make_interval(mins => $3), $4)`,
      [user.id, title, edited, pinned],
    );
  }
  browser = await openLoggedIn(user, '4 notes');
});
after(async () => {
  await browser.close();
  await closeDb();
});

/** The list's titles right after `method` of the element `selector`, in the same task. */
const rightAfter = (page, selector, method) =>
  page.evaluate(([sel, how]) => {
    document.querySelector(sel)[how]();
    const titles = [...document.querySelectorAll('.note-list .note-item:not(.loading) .note-title')];
    return titles.map((el) => el.textContent.replace(/^Pinned: /, ''));
  }, [selector, method]);

/** Starts recording the list's titles, in order, in every frame. */
const startSampling = (page) =>
  page.evaluate(() => {
    window.__orders = [];
    const sample = () => {
      const titles = [...document.querySelectorAll('.note-list .note-item:not(.loading) .note-title')];
      window.__orders.push(titles.map((el) => el.textContent.replace(/^Pinned: /, '')).join(' | '));
      if (window.__orders.length < 2000) requestAnimationFrame(sample);
    };
    requestAnimationFrame(sample);
  });

/** Waits for `expected`, then a second more: every frame from its first one on shows it. */
async function expectSteady(page, expected, message) {
  const wanted = expected.join(' | ');
  await poll(() => page.evaluate((w) => window.__orders.includes(w), wanted), { message: `${message}: ${wanted}` });
  await page.waitForTimeout(1000);
  const orders = await page.evaluate(() => window.__orders);
  const after = orders.slice(orders.indexOf(wanted));
  assert.deepEqual([...new Set(after)], [wanted], `${message}: the list changed again after showing ${wanted}`);
}

test('an edited note leads the list at once, and stays there', async () => {
  const { page } = browser;
  await page.getByRole('option', { name: /Apple pie/ }).click();
  await page.getByLabel('Note', { exact: true }).fill('More apples, less sugar.');
  await startSampling(page);
  const edited = ['Pinned plan', 'Apple pie', 'Banana bread', 'Cherry jam'];
  // Leaving the body saves at once.
  assert.deepEqual(await rightAfter(page, '.title-input', 'focus'), edited, 'edited: first after the pinned one at once');
  await expectSteady(page, edited, 'edited, first after the pinned one');
});

test('a deleted note leaves the list at once, and does not come back', async () => {
  const { page } = browser;
  await startSampling(page);
  await page.getByRole('button', { name: 'Delete note' }).click();
  await expectSteady(page, ['Pinned plan', 'Banana bread', 'Cherry jam'], 'deleted');
  const left = () => sql("SELECT count(*)::int AS n FROM notes WHERE owner_id = $1 AND title = 'Apple pie'", [user.id]);
  await poll(async () => (await left())[0].n === 0, {
    message: 'the delete in Postgres',
  });
});

test('a new note shows after the pinned ones at once, titled as typed', async () => {
  const { page } = browser;
  await startSampling(page);
  const created = ['Pinned plan', 'Untitled', 'Banana bread', 'Cherry jam'];
  assert.deepEqual(await rightAfter(page, '.new-note', 'click'), created, 'new: after the pinned one at once');
  await expectSteady(page, created, 'new');
  await page.getByLabel('Title').fill('Fresh idea');
  await startSampling(page);
  const titled = ['Pinned plan', 'Fresh idea', 'Banana bread', 'Cherry jam'];
  assert.deepEqual(await rightAfter(page, '.body-input', 'focus'), titled, 'titled at once');
  await expectSteady(page, titled, 'titled');
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});
