// Single sign-on in Chromium: "Sign in with …" on the first-run screen, through the real
// provider's login page (tests/oidc/provider.mjs, oidc-provider), and back into notebox.
// It starts its own provider and two noteboxes of its own (with [auth.oidc], each on a fresh
// database; one with password_login = false), so the shared server of the other tests stays
// password-only.

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
const databases = [];
const children = [];
let base; // notebox with single sign-on next to passwords
let ssoOnly; // notebox with password_login = false
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

async function admin(sql) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await client.query(sql);
  await client.end();
}

/** A fresh database and a notebox on `port` signing in through `issuer`; its database URL. */
async function startNotebox(port, issuer, env = {}) {
  const database = `notebox_oidc_${Date.now()}_${process.pid}_${databases.length}`;
  await admin(`create database "${database}"`);
  databases.push(database);
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${database}`;
  const notebox = start(join(root, 'target/debug/notebox'), ['serve'], {
    NOTEBOX_DATABASE__URL: url.href,
    NOTEBOX_SERVER__BIND: `127.0.0.1:${port}`,
    NOTEBOX_SERVER__PUBLIC_URL: `http://127.0.0.1:${port}`,
    NOTEBOX_POWERSYNC__STORAGE_DATABASE: '',
    NOTEBOX_AUTH__OIDC__ISSUER: issuer,
    NOTEBOX_AUTH__OIDC__CLIENT_ID: 'notebox',
    NOTEBOX_AUTH__OIDC__CLIENT_SECRET: 'notebox-test-secret',
    NOTEBOX_AUTH__OIDC__BUTTON_LABEL: 'Test provider',
    NOTEBOX_AUTH__OIDC__ADMIN_GROUP: 'notebox-admins',
    NOTEBOX_LOG__LEVEL: 'warn',
    ...env,
  });
  notebox.stdout.resume();
  await poll(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, { timeout: 60_000, message: 'an SSO notebox' });
  return url.href;
}

before(async () => {
  const [port, otherPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  ssoOnly = `http://127.0.0.1:${otherPort}`;
  const callbacks = [base, ssoOnly].flatMap((b) => ['--redirect-uri', `${b}/api/auth/oidc/callback`]);
  const provider = start('node', [join(root, 'tests/oidc/provider.mjs'), '--port', '0', ...callbacks]);
  const [line] = await once(createInterface({ input: provider.stdout }), 'line');
  provider.stdout.resume();
  const { issuer } = JSON.parse(line);
  const [appUrl] = await Promise.all([
    startNotebox(port, issuer),
    startNotebox(otherPort, issuer, { NOTEBOX_AUTH__OIDC__PASSWORD_LOGIN: 'false' }),
  ]);
  appDb = new pg.Pool({ connectionString: appUrl, max: 2 });
});

after(async () => {
  for (const child of children) child.kill();
  await appDb?.end();
  for (const database of databases) await admin(`drop database if exists "${database}" with (force)`);
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

test('with password_login = false the login screen offers only the provider', async () => {
  const browser = await openBrowser();
  try {
    const { page } = browser;
    await page.goto(`${ssoOnly}/`);
    await page.getByRole('link', { name: 'Sign in with Test provider' }).waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).isVisible(), false);
    assert.equal(await page.getByLabel('Email').isVisible(), false);
    await shot(page, 'oidc-only');
    await page.getByRole('link', { name: 'Sign in with Test provider' }).click();
    await page.getByLabel('Account').fill('bob');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
    assert.equal(new URL(page.url()).origin, ssoOnly);
    assert.deepEqual(browser.problems.filter((p) => p.startsWith('pageerror')), []);
  } finally {
    await browser.close();
  }
});
