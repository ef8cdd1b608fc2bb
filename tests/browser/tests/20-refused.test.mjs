// Refused changes: the reason in plain words (never the SQL error), "Copy my text" gives
// back what was refused, the editor never says "Saved" for it, an oversized paste is warned
// about and refused without blocking the queue, and a dismissal holds on every device.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { BASE, api, closeDb, createUser, expectAxeClean, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';

let user;
before(async () => {
  user = await createUser('Rosa Refused');
});
after(closeDb);

const banner = (page) => page.getByRole('region', { name: 'Changes the server refused' });

test('a title too long for Postgres is explained in plain words, and its text can be copied', async () => {
  // Another device (an older app, say) uploads a title over the 1,000-character limit.
  const title = `Minutes ${'of the long meeting '.repeat(60)}`.trim();
  const answer = await api('POST', '/api/data', { transactions: [{ crud: [{ op: 'PUT', type: 'notes', id: randomUUID(), data: { title, body: 'Agenda' } }] }] }, user.cookie);
  assert.equal(answer.status, 200);
  const [rejection] = await sql('SELECT code, message FROM upload_rejections WHERE owner_id = $1', [user.id]);
  assert.equal(rejection.code, '23514');

  const browser = await openBrowser();
  const { page, context } = browser;
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    await logIn(page, user);
    await banner(page).waitFor({ timeout: 30_000 });
    const text = await banner(page).textContent();
    assert.match(text, /the title is longer than 1,000 characters/);
    assert.ok(!text.includes('violates') && !text.includes('23514') && !text.includes(rejection.message), `no SQL in: ${text}`);
    await banner(page).getByRole('button', { name: 'Copy my text' }).click();
    await page.getByText('Your text is on the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${title}\n\nAgenda`);
    await expectAxeClean(page, 'refused-changes banner, light');
    await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
    await expectAxeClean(page, 'refused-changes banner, dark');
    await shot(page, 'refused-plain-dark');
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });

    // Dismissed here: gone on the server, so a new device never shows it.
    await banner(page).getByRole('button', { name: 'Dismiss' }).click();
    await banner(page).waitFor({ state: 'hidden' });
    await poll(async () => (await sql('SELECT count(*)::int AS n FROM upload_rejections WHERE owner_id = $1', [user.id]))[0].n === 0, {
      timeout: 15_000, message: 'the refusal deleted on the server',
    });
  } finally {
    await browser.close();
  }
  const other = await openBrowser();
  try {
    await logIn(other.page, user);
    await other.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    await other.page.waitForTimeout(1000);
    assert.equal(await banner(other.page).isVisible(), false, 'a dismissed refusal does not return on a new device');
  } finally {
    await other.close();
  }
});

test('an oversized paste: warned before, refused without blocking the queue, text recoverable, never "Saved"', async () => {
  const limits = (await api('GET', '/api/data/limits')).body;
  const browser = await openBrowser();
  const { page, context } = browser;
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    await logIn(page, user);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    // Held back until the paste is complete, so the refusal is for the big text.
    await context.route('**/api/data', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'New note' }).first().click();
    await page.getByLabel('Title').fill('Pasted log');
    const huge = 'log line with some words in it\n'.repeat(Math.ceil((limits.max_value + 4096) / 31));
    // Pasted: one input event with all of it (typing it would take minutes).
    await page.getByLabel('Note', { exact: true }).evaluate((el, text) => {
      el.focus();
      el.value = text;
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste' }));
    }, huge);
    const warning = page.locator('.size-warning');
    await warning.waitFor();
    assert.match(await warning.textContent(), /too long to sync/);
    await page.getByText('Saved on this device').waitFor();
    const id = new URL(page.url()).pathname.split('/').pop();
    await context.unroute('**/api/data');

    await banner(page).waitFor({ timeout: 30_000 });
    assert.match(await banner(page).textContent(), /larger than the server accepts/);
    await page.locator('.save-state[data-state="refused"]').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('.save-state').textContent(), /Not saved/);
    assert.equal(await page.getByText('Saved on this device').count(), 0, 'the editor does not say Saved');

    // The queue moves on: a note written after the refusal reaches the server.
    await page.getByRole('button', { name: 'New note' }).first().click();
    await page.getByLabel('Title').fill('Written after the refusal');
    await poll(async () => (await sql('SELECT 1 FROM notes WHERE owner_id = $1 AND title = $2', [user.id, 'Written after the refusal'])).length === 1, {
      timeout: 30_000, message: 'the next note on the server',
    });
    assert.equal((await sql('SELECT body FROM notes WHERE id = $1', [id]))[0]?.body ?? '', '', 'the oversized body never reached Postgres');

    await banner(page).getByRole('button', { name: 'Copy my text' }).click();
    await page.getByText('Your text is on the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `Pasted log\n\n${huge}`);
    await shot(page, 'refused-oversized');
  } finally {
    await browser.close();
  }
});
