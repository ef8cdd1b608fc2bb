// Screenshots of the real UI at desktop and phone widths, light and dark, into
// test-artifacts/. With UPDATE_DOCS_SCREENSHOT=1 the desktop one also goes to
// docs/screenshot.png (the README's picture).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ARTIFACTS, DESKTOP, PHONE, closeDb, createUser, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';

const NOTES = [
  [0.01, 'Launch checklist', 'Freeze the schema on Thursday. Run the migration on staging first, then announce the maintenance window.\n\n- Backups verified\n- PowerSync replication lag under a second\n- Rollback plan written down'],
  [2, 'Trip to Lisbon', 'Flights on the 14th. Tram 28 early in the morning before the crowds, the Gulbenkian in the afternoon. Ask Maria about the pastry place near Belém.'],
  [26, 'Reading list', 'The Dispossessed, Piranesi, A Psalm for the Wild-Built, The Left Hand of Darkness.'],
  [50, 'Groceries', 'Oat milk, eggs, two lemons, basil, coffee beans from the market stall.'],
  [24 * 9, 'Ideas for the garden', 'Move the rosemary to the sunny corner. Try runner beans along the fence this year.'],
  [24 * 40, 'Meeting notes — roadmap', 'Agreed: ship the offline editor first, then shared notebooks. Sam owns sync, Priya owns the UI.'],
];

let user;
before(async () => {
  user = await createUser('Priya Patel');
  for (const [hoursAgo, title, body] of NOTES) {
    await sql(
      "INSERT INTO notes (id, owner_id, title, body, created_at, updated_at) VALUES ($1, $2, $3, $4, now() - ($5::float8 + 3) * interval '1 hour', now() - $5::float8 * interval '1 hour')",
      [randomUUID(), user.id, title, body, hoursAgo],
    );
  }
});
after(closeDb);

for (const colorScheme of ['light', 'dark']) {
  test(`desktop and phone screenshots (${colorScheme})`, async () => {
    const browser = await openBrowser({ viewport: DESKTOP, colorScheme });
    try {
      const { page } = browser;
      await logIn(page, user);
      await poll(async () => (await page.locator('.note-item').count()) === NOTES.length, { message: 'all notes synced down' });
      await page.locator('.note-item', { hasText: 'Launch checklist' }).click();
      await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
      await page.mouse.move(0, DESKTOP.height - 1);
      await shot(page, `desktop-${colorScheme}`);

      await page.setViewportSize(PHONE);
      await shot(page, `phone-editor-${colorScheme}`);
      await page.getByRole('button', { name: 'Back to notes' }).click();
      await page.locator('.note-item').first().waitFor();
      await page.evaluate(() => document.activeElement.blur());
      await shot(page, `phone-list-${colorScheme}`);
      assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
    } finally {
      await browser.close();
    }
  });
}

test('sign-in screen screenshots', async () => {
  for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    const browser = await openBrowser({ viewport });
    try {
      await browser.page.goto('/');
      await browser.page.getByRole('heading', { name: 'Log in' }).waitFor();
      await shot(browser.page, `login-${name}`);
    } finally {
      await browser.close();
    }
  }
  if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
    const docs = join(dirname(fileURLToPath(import.meta.url)), '../../../docs');
    await mkdir(docs, { recursive: true });
    await copyFile(join(ARTIFACTS, 'desktop-light.png'), join(docs, 'screenshot.png'));
  }
});
