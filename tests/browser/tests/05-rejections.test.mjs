// A change the server refuses (here: the note id belongs to someone else) shows up in the
// refused-changes banner, saying which note and why; the banner can be dismissed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';

let browser;
let user;
let other;
before(async () => {
  browser = await openBrowser();
  user = await createUser('Rafael Refused');
  other = await createUser('Olivia Owner');
  await logIn(browser.page, user);
  await browser.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});
after(async () => {
  await browser.close();
  await closeDb();
});

test('a refused upload shows the banner with the note and the reason', async () => {
  const { page, context } = browser;
  // Hold uploads while another user's note takes the same id in Postgres.
  await context.route('**/api/data', (route) => route.abort('internetdisconnected'));
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill('Colliding note');
  await page.getByLabel('Note', { exact: true }).fill('This id is taken.');
  await page.getByText('Saved on this device').waitFor();
  const id = new URL(page.url()).pathname.split('/').pop();
  await sql("INSERT INTO notes (id, owner_id, title, body) VALUES ($1, $2, 'Olivia''s note', 'hands off')", [id, other.id]);
  await context.unroute('**/api/data');

  const banner = page.getByRole('region', { name: 'Changes the server refused' });
  await banner.waitFor({ timeout: 30_000 });
  const text = await banner.textContent();
  assert.match(text, /(A change was|Some changes were) not saved/);
  assert.match(text, /“Colliding note”/);
  await shot(page, 'refused-change-banner');

  const [rejection] = await sql('SELECT row_id, code, message FROM upload_rejections WHERE owner_id = $1', [user.id]);
  assert.equal(rejection.row_id, id);
  // The reason in plain words: never Postgres' wording (issue 11).
  assert.match(text, /(was|were) not saved: that note belongs to someone else/);
  assert.ok(!/violates|constraint|duplicate key|\(\d{5}\)/.test(text), `no SQL in the banner: ${text} (server said: ${rejection.code} ${rejection.message})`);
  // Olivia's row was not touched, and the refused note is gone from this device.
  const [theirs] = await sql('SELECT owner_id::text, title FROM notes WHERE id = $1', [id]);
  assert.deepEqual(theirs, { owner_id: other.id, title: "Olivia's note" });
  await page.locator('.note-item', { hasText: 'Colliding note' }).waitFor({ state: 'detached', timeout: 30_000 });

  await banner.getByRole('button', { name: 'Dismiss' }).click();
  await banner.waitFor({ state: 'hidden' });
  await page.reload();
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  assert.equal(await banner.isVisible(), false, 'a dismissed refusal stays dismissed');
});
