// Screenshots of the notebooks sidebar and the Share dialog at desktop and phone widths
// (light and dark), into test-artifacts/teams-*.png, with a few checks that the phone
// layout keeps everything reachable.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DESKTOP, PHONE, closeDb, createUser, logIn, openBrowser, poll, shot } from '../lib.mjs';
import { notebookItem, openNotebook, seedNote, seedNotebook } from '../teams.mjs';

let priya;
before(async () => {
  priya = await createUser('Priya Patel');
  const sam = await createUser('Sam Rivera');
  const lee = await createUser('Lee Chen');
  const maria = await createUser('Maria Santos');
  const product = await seedNotebook('Product team', [[priya, 'owner'], [sam, 'editor'], [lee, 'editor'], [maria, 'viewer']]);
  await seedNote(product, sam, 'Roadmap Q3', 'Offline editor first, then shared notebooks. Sam owns sync, Priya owns the UI.', 0.2);
  await seedNote(product, priya, 'Launch checklist', 'Freeze the schema on Thursday. Run the migration on staging first.', 3);
  await seedNote(product, lee, 'Design review notes', 'Sidebar: notebooks with member initials. Share dialog with roles.', 30);
  const club = await seedNotebook('Reading group', [[maria, 'owner'], [priya, 'viewer']]);
  await seedNote(club, maria, 'April: The Dispossessed', 'Chapters 1–5 for the first meeting.', 50);
  await seedNotebook('Recipes', [[priya, 'owner']]);
});
after(closeDb);

for (const colorScheme of ['light', 'dark']) {
  test(`notebooks and Share dialog, desktop and phone (${colorScheme})`, async () => {
    const browser = await openBrowser({ viewport: DESKTOP, colorScheme });
    try {
      const { page } = browser;
      await logIn(page, priya);
      await notebookItem(page, 'Reading group').waitFor({ timeout: 20_000 });
      await openNotebook(page, 'Product team');
      await poll(async () => (await page.locator('.note-item').count()) === 3, { message: 'the notebook’s notes synced down' });
      await page.locator('.note-item', { hasText: 'Roadmap Q3' }).click();
      await page.getByText(/Edited .* by Sam Rivera/).waitFor();
      await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
      await page.mouse.move(0, DESKTOP.height - 1);
      await shot(page, `teams-desktop-${colorScheme}`);

      await page.locator('.scope-share').click();
      const dialog = page.locator('dialog.share-dialog');
      await dialog.locator('.member').nth(3).waitFor();
      await shot(page, `teams-share-desktop-${colorScheme}`);

      await page.setViewportSize(PHONE);
      await shot(page, `teams-share-phone-${colorScheme}`);
      assert.ok(await dialog.getByRole('button', { name: 'Invite' }).isVisible(), 'Invite fits on a phone');
      await page.keyboard.press('Escape');

      await page.getByRole('button', { name: 'Back to notes' }).click();
      await page.evaluate(() => document.activeElement.blur());
      await shot(page, `teams-phone-list-${colorScheme}`);
      await page.getByRole('button', { name: 'Notebooks', exact: true }).click();
      await notebookItem(page, 'Reading group').waitFor();
      await shot(page, `teams-phone-notebooks-${colorScheme}`);
      await page.getByRole('button', { name: 'Close notebooks' }).click();
      await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
      assert.equal(await notebookItem(page, 'Reading group').isVisible(), false, 'the notebooks view closes on a phone');
      await openNotebook(page, 'Reading group');
      await page.locator('.note-item').first().click();
      await page.locator('.editor-bar .badge', { hasText: 'View only' }).waitFor();
      await shot(page, `teams-phone-viewer-${colorScheme}`);
      assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
    } finally {
      await browser.close();
    }
  });
}
