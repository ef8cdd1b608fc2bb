// Scenario 4 of issue 6: the notebox web UI in headless Chromium, synced by the real
// PowerSync service, shows a note inserted with SQL — without a reload, within seconds —
// and then the seed guide's `upper(title)` update.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS, NOTEBOX_URL, SKIP, closeDb, signUp, sql } from './lib.mjs';

const SHOWS_WITHIN = 10_000;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is missing: apt-get install chromium, or set CHROMIUM to its path');
  }
}

describe('the web UI, synced by the real PowerSync service', { skip: SKIP }, () => {
  let context;
  let profile;
  let page;
  const problems = [];
  const failures = [];
  let user;

  before(async () => {
    const { chromium } = await import('playwright-core');
    profile = await mkdtemp(join(tmpdir(), 'notebox-e2e-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      baseURL: NOTEBOX_URL,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('response', (response) => response.status() >= 400 && failures.push(`${response.status()} ${response.url()}`));
    user = await signUp('Wendy Web');
  });

  after(async () => {
    await context?.close().catch(() => {});
    if (profile) await rm(profile, { recursive: true, force: true });
    await closeDb();
  });

  test('4. a note inserted with SQL shows in the open UI, without reload, within seconds', { timeout: 120_000 }, async (t) => {
    await page.goto('/');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
    // Connected to the real service (the UI's sync status), nothing left to upload.
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });

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
