// The sync pill tells the truth, state by state: built from the upload queue, the last
// upload's outcome, the PowerSync stream, navigator.onLine and whether notebox itself
// answers. Each state is forced for real: /api/data blocked, all of notebox blocked, the
// PowerSync URL blocked, the browser offline; and each recovers to "Synced".

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, createUser, expectAxeClean, logIn, openBrowser, poll, shot } from '../lib.mjs';

const SYNC_URL = process.env.SYNC_DOUBLE_URL;
let user;
before(async () => {
  user = await createUser('Sia Status');
});
after(closeDb);

/** Records every state the pill shows from the first paint on. */
async function recordStates(context) {
  await context.addInitScript(() => {
    window.__syncStates = [];
    new MutationObserver(() => {
      const state = document.querySelector('.sync')?.dataset.state;
      if (state && window.__syncStates.at(-1) !== state) window.__syncStates.push(state);
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  });
}

const pill = (page) => page.locator('.sync');
const states = (page) => page.evaluate(() => window.__syncStates);

async function fact(page, name) {
  const open = (await page.locator('.sync-pill').getAttribute('aria-expanded')) === 'true';
  if (!open) await page.locator('.sync-pill').click();
  const value = await page.locator('.sync-facts dt', { hasText: name }).locator('xpath=following-sibling::dd[1]').textContent();
  await page.locator('.sync-pill').click();
  return value;
}

async function newNote(page, title) {
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill(title);
  await page.getByText('Saved on this device').waitFor();
}

test('start-up shows Connecting, then Synced, and never Offline', async () => {
  const browser = await openBrowser();
  try {
    await recordStates(browser.context);
    await logIn(browser.page, user);
    await pill(browser.page).and(browser.page.locator('[data-state="online"]')).waitFor({ timeout: 30_000 });
    await browser.page.reload();
    await browser.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    const seen = await states(browser.page);
    assert.deepEqual(seen.filter((s) => !['connecting', 'online', 'uploading'].includes(s)), [], `states at start: ${seen}`);
  } finally {
    await browser.close();
  }
});

test('uploads failing: never "Synced" while changes wait; after recovery "Synced" with nothing waiting', async () => {
  const browser = await openBrowser();
  const { page, context } = browser;
  try {
    await logIn(page, user);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    await context.route('**/api/data', (route) => route.abort('connectionrefused'));
    await recordStatesNow(page);
    await newNote(page, 'Held back by a broken upload');
    await page.locator('.sync[data-state="retrying"]').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('.sync-label').textContent(), /Upload failed, retrying/);
    assert.match(await page.locator('.sync-detail').textContent(), /^\d changes? waiting$/);
    assert.match(await fact(page, 'Last upload'), /^Failed .*could not connect to the server$/);
    assert.equal(await fact(page, 'notebox server'), 'Reachable', 'notebox itself answers (only /api/data is blocked)');
    assert.equal(await fact(page, 'This device'), 'Online');
    await shot(page, 'sync-retrying');
    const during = await page.evaluate(() => window.__syncStates);
    assert.equal(during[0], 'online', 'Synced before the change');
    assert.ok(!during.slice(1).includes('online'), `never Synced while the change waits: ${during}`);

    await context.unroute('**/api/data');
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    assert.equal(await fact(page, 'Waiting to upload'), 'Nothing');
    assert.match(await fact(page, 'Last upload'), /^Succeeded/);
    // Stays Synced: no "retrying" for minutes after the recovery.
    await page.waitForTimeout(4000);
    assert.equal(await pill(page).getAttribute('data-state'), 'online');
  } finally {
    await browser.close();
  }
});

/** Records the pill's state now and every change after (the pill may set its state again
 * without changing it: that is no new state). */
async function recordStatesNow(page) {
  await page.evaluate(() => {
    window.__syncStates = [document.querySelector('.sync')?.dataset.state];
    new MutationObserver(() => {
      const state = document.querySelector('.sync')?.dataset.state;
      if (state && window.__syncStates.at(-1) !== state) window.__syncStates.push(state);
    }).observe(document.querySelector('.sync'), { attributes: true, attributeFilter: ['data-state'] });
  });
}

test('notebox unreachable: "Server unreachable", and back to Synced', async () => {
  const browser = await openBrowser();
  const { page, context } = browser;
  try {
    await logIn(page, user);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    await context.route('**/api/**', (route) => route.abort('connectionrefused'));
    await newNote(page, 'Written while notebox is down');
    await page.locator('.sync[data-state="unreachable"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('.sync-label').textContent(), 'Server unreachable');
    assert.equal(await fact(page, 'notebox server'), 'Unreachable');
    assert.equal(await fact(page, 'This device'), 'Online', 'the device is online; notebox is what is missing');
    await context.unroute('**/api/**');
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  } finally {
    await browser.close();
  }
});

test('browser offline: "Offline" with the changes waiting, and back to Synced', async () => {
  const browser = await openBrowser();
  const { page, context } = browser;
  try {
    await logIn(page, user);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    await context.setOffline(true);
    await page.locator('.sync[data-state="offline"]').waitFor({ timeout: 10_000 });
    await newNote(page, 'Written in the tunnel');
    await page.locator('.sync-detail', { hasText: /changes? waiting/ }).waitFor({ timeout: 10_000 });
    assert.equal(await fact(page, 'This device'), 'Offline (no network)');
    await shot(page, 'sync-offline');
    await context.setOffline(false);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 40_000 });
    assert.equal(await fact(page, 'Waiting to upload'), 'Nothing');
  } finally {
    await browser.close();
  }
});

test('PowerSync unreachable while notebox answers: not "Offline", and it says what is missing', async () => {
  const browser = await openBrowser();
  const { page, context } = browser;
  try {
    // The SDK's sync stream runs in a worker that page routing cannot reach: hand it a
    // PowerSync endpoint that fails instead (same origin, so the CSP allows the attempt).
    await context.route('**/api/auth/token', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      body.endpoint = body.powersync_url = `${SYNC_URL}/down`;
      await route.fulfill({ response, json: body });
    });
    await logIn(page, user);
    await page.locator('.sync[data-state="sync-down"]').waitFor({ timeout: 40_000 });
    assert.equal(await page.locator('.sync-label').textContent(), 'Not receiving changes');
    assert.equal(await fact(page, 'This device'), 'Online');
    assert.equal(await fact(page, 'notebox server'), 'Reachable');
    assert.match(await fact(page, 'Sync service'), /^(Unreachable|Not connected)/);
    await page.locator('.sync-pill').click();
    await expectAxeClean(page, 'sync panel open, light');
    await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
    await expectAxeClean(page, 'sync panel open, dark');
    await shot(page, 'sync-down-panel-dark');
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
    await page.locator('.sync-pill').click();
    await context.unroute('**/api/auth/token');
    await page.reload();
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 60_000 });
  } finally {
    await browser.close();
  }
});

test('live regions announce state changes, not every keystroke', async () => {
  // Its own account: the five tests above logged `user` in five times within a minute, which
  // is the per-account login budget (auth's account limiter), so a sixth would get 429.
  const typist = await createUser('Tess Typist');
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await logIn(page, typist);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'New note' }).first().click();
    await page.getByLabel('Title').fill('Typing for eight seconds');
    await page.getByLabel('Note', { exact: true }).click();
    await page.evaluate(() => {
      window.__announcements = [];
      const live = '[role="status"], [role="alert"], [aria-live]:not([aria-live="off"])';
      new MutationObserver((records) => {
        for (const record of records) {
          const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
          const region = node?.closest(live);
          if (region && region.textContent.trim()) window.__announcements.push(region.textContent.trim());
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) await page.keyboard.type('All work and no play. ', { delay: 40 });
    await page.waitForTimeout(1500);
    const heard = await page.evaluate(() => window.__announcements);
    assert.ok(heard.length <= 2, `at most a couple of announcements while typing, heard ${heard.length}: ${heard.join(' | ')}`);
  } finally {
    await browser.close();
  }
});
