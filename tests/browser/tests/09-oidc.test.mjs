// Single sign-on in Chromium: "Sign in with …" on the first-run screen, through the real
// provider's login page (tests/oidc/provider.mjs, oidc-provider), and back into notebox.
// It starts its own provider and its own notebox (with [auth.oidc], on a fresh database),
// so the shared server of the other tests stays password-only.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { openBrowser, poll, shot } from '../lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const database = `notebox_oidc_${Date.now()}_${process.pid}`;
const children = [];
let base;
let appDb;

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

function start(command, args, env = {}) {
  const child = spawn(command, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stderr.resume();
  return child;
}

before(async () => {
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`create database "${database}"`);
  await admin.end();
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${database}`;
  appDb = new pg.Pool({ connectionString: url.href, max: 2 });

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const provider = start('node', [join(root, 'tests/oidc/provider.mjs'), '--port', '0', '--redirect-uri', `${base}/api/auth/oidc/callback`]);
  const [line] = await once(createInterface({ input: provider.stdout }), 'line');
  provider.stdout.resume();
  const { issuer } = JSON.parse(line);

  const notebox = start(join(root, 'target/debug/notebox'), ['serve'], {
    NOTEBOX_DATABASE__URL: url.href,
    NOTEBOX_SERVER__BIND: `127.0.0.1:${port}`,
    NOTEBOX_SERVER__PUBLIC_URL: base,
    NOTEBOX_POWERSYNC__STORAGE_DATABASE: '',
    NOTEBOX_AUTH__OIDC__ISSUER: issuer,
    NOTEBOX_AUTH__OIDC__CLIENT_ID: 'notebox',
    NOTEBOX_AUTH__OIDC__CLIENT_SECRET: 'notebox-test-secret',
    NOTEBOX_AUTH__OIDC__BUTTON_LABEL: 'Test provider',
    NOTEBOX_AUTH__OIDC__ADMIN_GROUP: 'notebox-admins',
    NOTEBOX_LOG__LEVEL: 'warn',
  });
  notebox.stdout.resume();
  await poll(async () => (await fetch(`${base}/healthz`)).ok, { timeout: 60_000, message: 'the SSO notebox' });
});

after(async () => {
  for (const child of children) child.kill();
  await appDb?.end();
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists "${database}" with (force)`);
  await admin.end();
});

test('first run: "Sign in with Test provider", through its login page, lands signed in as admin', async () => {
  const browser = await openBrowser();
  try {
    const { page } = browser;
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Welcome to notebox' }).waitFor();
    await shot(page, 'oidc-first-run');
    await page.getByRole('link', { name: 'Sign in with Test provider' }).click();
    await page.getByRole('heading', { name: 'Sign in to the test provider' }).waitFor();
    await page.getByLabel('Account').fill('ada');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
    await page.getByText('Ada Lovelace').waitFor();
    assert.equal(new URL(page.url()).origin, base);

    const { rows } = await appDb.query('select email, display_name, is_admin from users');
    assert.deepEqual(rows, [{ email: 'ada@example.com', display_name: 'Ada Lovelace', is_admin: true }]);
    assert.deepEqual(browser.problems.filter((p) => p.startsWith('pageerror')), []);
  } finally {
    await browser.close();
  }
});

test('cancelling at the provider says so in one sentence on the login screen', async () => {
  const browser = await openBrowser();
  try {
    const { page } = browser;
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Sign in with Test provider' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await poll(async () => (await page.getByRole('alert').first().textContent()) === 'Sign-in with Test provider was cancelled.', {
      message: 'the cancelled sentence',
    });
    assert.equal(new URL(page.url()).search, '', 'the error code is taken off the address');
    await shot(page, 'oidc-cancelled');
    assert.deepEqual(browser.problems.filter((p) => p.startsWith('pageerror')), []);
  } finally {
    await browser.close();
  }
});
