// Scenario 4 of issue 6: the notebox web UI in headless Chromium, synced by the real
// PowerSync service, shows a note inserted with SQL — without a reload, within seconds —
// and then the seed guide's `upper(title)` update.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS, SKIP, closeDb, logIn, openBrowser, signUp, sql } from './lib.mjs';

const SHOWS_WITHIN = 10_000;

describe('the web UI, synced by the real PowerSync service', { skip: SKIP }, () => {
  let browser;
  let page;
  let problems;
  let failures;
  let user;

  before(async () => {
    browser = await openBrowser();
    ({ page, problems, failures } = browser);
    user = await signUp('Wendy Web');
  });

  after(async () => {
    await browser?.close();
    await closeDb();
  });

  test('4. a note inserted with SQL shows in the open UI, without reload, within seconds', { timeout: 120_000 }, async (t) => {
    await logIn(page, user);

    let navigations = 0;
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations++);

    const id = randomUUID();
    const started = Date.now();
    await sql("INSERT INTO notes (id, owner_id, title, body) VALUES ($1, $2, 'Typed in psql', 'straight into Postgres')", [id, user.id]);
    const item = page.locator('.note-item', { hasText: /Typed in psql/ });
    await item.waitFor({ timeout: SHOWS_WITHIN });
    t.diagnostic(`SQL insert → on screen: ${Date.now() - started} ms`);
    assert.match(await item.textContent(), /straight into Postgres/);

    const updated = Date.now();
    await sql('UPDATE notes SET title = upper(title), updated_at = now() WHERE owner_id = $1', [user.id]);
    // A regex: Playwright's hasText strings ignore case.
    await page.locator('.note-item', { hasText: /TYPED IN PSQL/ }).waitFor({ timeout: SHOWS_WITHIN });
    t.diagnostic(`SQL update → on screen: ${Date.now() - updated} ms`);

    assert.equal(navigations, 0, 'the page reloaded or navigated');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-sql-insert-live.png') });
    // Before logging in, the UI asks /api/auth/me and gets 401: the only failure expected.
    const unexpected = failures.filter((f) => !/^401 .*\/api\/auth\/me$/.test(f));
    assert.deepEqual(unexpected, [], 'requests failed');
    const expectedConsole = failures.length - unexpected.length;
    assert.equal(problems.filter((p) => !/status of 401/.test(p)).length, 0, `the page logged errors: ${problems.join('; ')}`);
    assert.ok(problems.length <= expectedConsole, `the page logged errors: ${problems.join('; ')}`);
  });
});
