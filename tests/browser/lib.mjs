// Shared plumbing for the browser tests: Chromium, Postgres, the notebox API, polling.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chromium } from 'playwright-core';

export const BASE = process.env.NOTEBOX_URL ?? 'http://127.0.0.1:8080';
export const ARTIFACTS = process.env.ARTIFACTS ?? join(process.cwd(), 'test-artifacts');
export const PASSWORD = 'correct horse battery staple';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

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

/**
 * A fresh Chromium profile (its own IndexedDB), with every console error and failed
 * request recorded so tests can assert that nothing (a CSP violation, say) went wrong.
 */
export async function openBrowser({ viewport = DESKTOP, colorScheme = 'light', deviceScaleFactor = 1, baseURL = BASE } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'notebox-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    deviceScaleFactor,
    colorScheme,
    baseURL,
    isMobile: false,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  const watch = (p) => {
    p.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    p.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  };
  watch(page);
  context.on('page', watch);
  return {
    context,
    page,
    problems,
    /** Console errors other than the expected ones (e.g. a blocked request while offline). */
    unexpectedProblems: (...allowed) => problems.filter((p) => !allowed.some((a) => a.test(p))),
    async close() {
      await context.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let pool;
export function db() {
  pool ??= new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 3 });
  return pool;
}

export async function sql(text, params = []) {
  return (await db().query(text, params)).rows;
}

export async function closeDb() {
  await pool?.end();
  pool = undefined;
}

/** Calls `check` until it returns something truthy, or fails after `timeout` ms. */
export async function poll(check, { timeout = 20_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${last?.message ?? JSON.stringify(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** The notebox API from node (not from the browser): for arranging users and state. */
export async function api(method, path, body, cookie) {
  const headers = { accept: 'application/json', origin: BASE };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (cookie) headers.cookie = cookie;
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    cookie: response.headers.get('set-cookie')?.split(';')[0] ?? null,
  };
}

let counter = 0;
/** A new account through the sign-up API (sign-up is open in the test server). */
export async function createUser(name = 'Test user') {
  counter += 1;
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${Date.now()}.${counter}@example.com`;
  const answer = await api('POST', '/api/auth/signup', { email, password: PASSWORD, display_name: name });
  if (answer.status !== 201) throw new Error(`signup failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { ...answer.body.user, email, password: PASSWORD, cookie: answer.cookie };
}

/** Logs in through the UI and waits for the notes screen. */
export async function logIn(page, user) {
  await page.goto('/');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
}

/**
 * A browser logged in as `user`, once its list counts `count` (the list's own words, e.g.
 * "3 notes").
 */
export async function openLoggedIn(user, count, { timeout = 30_000 } = {}) {
  const browser = await openBrowser();
  await logIn(browser.page, user);
  await browser.page.locator('.list-count', { hasText: count }).waitFor({ timeout });
  return browser;
}

/** The titles of the list's rows, in order (not the placeholders of rows still loading). */
export const titles = (page) => page.locator('.note-item:not(.loading) .note-title').allTextContents();

/** Types `query` into the search and waits until the list shows exactly `expected` (titles, in order). */
export async function expectResults(page, query, expected) {
  await page.getByRole('searchbox', { name: 'Search notes' }).fill(query);
  await poll(async () => JSON.stringify(await titles(page)) === JSON.stringify(expected), {
    message: `“${query}” → ${expected.join(', ')} (got ${JSON.stringify(await titles(page))})`,
    timeout: 10_000,
  });
}

/** Waits until the UI says it is connected and nothing is waiting to upload. */
export async function waitSynced(page, timeout = 30_000) {
  await page.locator('.sync[data-state="online"]').waitFor({ timeout });
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is now and fails with every violation of impact moderate or
 * worse (serious and critical included), each with its rule, impact and first offending nodes.
 * `label` names the screen in the failure message (e.g. 'notes, dark'); `include`, a CSS
 * selector, limits the check to one part of the page (e.g. '.sidebar').
 */
export async function expectAxeClean(page, label, { include } = {}) {
  // Evaluated over the DevTools protocol, so the page's Content-Security-Policy does not apply.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (selector) => {
    const context = selector ? { include: [selector] } : document;
    const result = await window.axe.run(context, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  }, include ?? null);
  const serious = violations.filter((v) => ['moderate', 'serious', 'critical'].includes(v.impact));
  if (serious.length) {
    const lines = serious.map((v) => `  ${v.impact} ${v.id}: ${v.help} — ${v.nodes.join(', ')}`);
    throw new Error(`axe found ${serious.length} violation(s) on ${label}:\n${lines.join('\n')}`);
  }
}
