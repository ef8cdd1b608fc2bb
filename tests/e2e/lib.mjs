// Shared plumbing for the end-to-end suite: which running services to test, the notebox
// API, a minimal PowerSync sync-stream client, Postgres, the notebox CLI, polling.
//
// Nothing here starts a service: the suite tests a notebox and a real PowerSync service
// that already run against the same Postgres (README.md beside this file says how).

import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../..');

const env = process.env;
const trimSlash = (url) => url?.replace(/\/+$/, '');

/** The running services under test (see README.md for what each one is). */
export const POWERSYNC_URL = trimSlash(env.NOTEBOX_E2E_POWERSYNC_URL);
export const NOTEBOX_URL = trimSlash(env.NOTEBOX_E2E_NOTEBOX_URL);
export const DATABASE_URL = env.NOTEBOX_E2E_DATABASE_URL;
export const NOTEBOX_BIN = env.NOTEBOX_E2E_NOTEBOX_BIN ?? join(ROOT, 'target/debug/notebox');
export const API_TOKEN = env.NOTEBOX_E2E_POWERSYNC_API_TOKEN;
export const ARTIFACTS = env.NOTEBOX_E2E_ARTIFACTS ?? join(ROOT, 'test-artifacts/e2e');
/** How long a change may take to travel Postgres → PowerSync → client. */
export const ARRIVAL_TIMEOUT = Number(env.NOTEBOX_E2E_ARRIVAL_TIMEOUT_MS ?? 20_000);

const REQUIRED = ['NOTEBOX_E2E_POWERSYNC_URL', 'NOTEBOX_E2E_NOTEBOX_URL', 'NOTEBOX_E2E_DATABASE_URL'];
const missing = REQUIRED.filter((name) => !env[name]);
/** Why the suite does not run here, or false when it does (pass as `test(…, { skip })`). */
export const SKIP = missing.length ? `${missing.join(', ')} not set` : false;

/** Calls `check` until it returns something truthy, or fails after `timeout` ms. */
export async function poll(check, { timeout = ARRIVAL_TIMEOUT, interval = 200, message = 'condition' } = {}) {
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
    await new Promise((done) => setTimeout(done, interval));
  }
}

// ---------------------------------------------------------------------------------------
// notebox, as an app would talk to it

export const PASSWORD = 'e2e correct horse battery';

export async function api(method, path, { body, bearer, headers = {} } = {}) {
  const response = await fetch(`${NOTEBOX_URL}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { unparsed: text };
  }
  return { status: response.status, body: json, headers: response.headers };
}

let counter = 0;
let firstAccount;
/**
 * The first account of a notebox is its admin, and signing it up takes the one-time setup
 * token (`notebox setup-link`): when the database has no account yet, one is made with
 * `notebox user add --admin`, so every sign-up below is an ordinary one.
 */
function ensureFirstAccount() {
  firstAccount ??= (async () => {
    const [{ count }] = await sql('SELECT count(*)::int AS count FROM users');
    if (count === 0) await notebox(['user', 'add', '--email', `e2e.admin.${Date.now()}@example.com`, '--admin']);
  })();
  return firstAccount;
}

/** A new account through the sign-up API (the notebox under test must have signup = "open"). */
export async function signUp(name) {
  await ensureFirstAccount();
  counter += 1;
  const email = `e2e.${name.toLowerCase().replace(/\W+/g, '.')}.${Date.now()}.${counter}@example.com`;
  const answer = await api('POST', '/api/auth/signup', { body: { email, password: PASSWORD, display_name: name } });
  if (answer.status !== 201) {
    throw new Error(`sign-up failed: ${answer.status} ${JSON.stringify(answer.body)} (is auth.signup = "open"?)`);
  }
  return { id: answer.body.user.id, email, password: PASSWORD, session: answer.body.session_token };
}

/** `GET /api/auth/token`: what a PowerSync client's fetchCredentials() gets. */
export async function powersyncToken(user) {
  const answer = await api('GET', '/api/auth/token', { bearer: user.session });
  if (answer.status !== 200) throw new Error(`GET /api/auth/token answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export function jwtParts(token) {
  const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  return { header, payload };
}

/** `POST /api/data` with one PUT per note, as the SDK's upload queue would send them. */
export async function uploadNotes(bearer, notes) {
  return upload(bearer, notes.map((note) => ({ type: 'notes', ...note })));
}

/**
 * `POST /api/data` with one op per entry (`{type, id, op = 'PUT', data}`), each its own
 * client transaction, as the SDK's upload queue would send them.
 */
export async function upload(bearer, ops) {
  const batch = ops.map((entry, i) => ({
    op_id: i + 1,
    op: entry.op ?? 'PUT',
    type: entry.type,
    id: entry.id,
    tx_id: i + 1,
    ...(entry.op === 'DELETE' ? {} : { data: entry.data }),
  }));
  return api('POST', '/api/data', { body: { batch }, bearer });
}

/** Asserts a 2xx answer (an upload or API call the test relies on), naming what answered. */
export function expectOk(answer, what) {
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(`${what} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

// ---------------------------------------------------------------------------------------
// The PowerSync service, as a client SDK talks to it: POST /sync/stream, NDJSON lines.

/**
 * A sync stream from the real service, applied the way a client applies it: data lines are
 * buffered and become visible at the next `checkpoint_complete`. `rows` is the client's view
 * (`"notes/<id>"` → row); `waitFor` polls that view on every line, with a deadline.
 */
export class SyncStream {
  static async open(token, { label = 'stream', url = POWERSYNC_URL } = {}) {
    const controller = new AbortController();
    const response = await fetch(`${url}/sync/stream`, {
      method: 'POST',
      headers: {
        authorization: `Token ${token}`,
        'content-type': 'application/json',
        accept: 'application/x-ndjson',
        'accept-encoding': 'identity',
      },
      body: JSON.stringify({
        buckets: [],
        include_checksum: true,
        raw_data: true,
        client_id: `e2e-${randomUUID()}`,
        // What a streams-aware SDK sends: every auto-subscribed stream, nothing explicit.
        streams: { include_defaults: true, subscriptions: [] },
      }),
      signal: controller.signal,
    });
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      const error = new Error(`POST ${url}/sync/stream (${label}) answered ${response.status}: ${text}`);
      error.status = response.status;
      error.body = text;
      throw error;
    }
    const stream = new SyncStream(label, controller);
    stream.#read(response.body);
    return stream;
  }

  /** Bucket name → Map("type/id" → row), as of the last completed checkpoint. */
  buckets = new Map();
  /** Every bucket of the current checkpoint (announced, maybe not complete yet), whether it holds data or not. */
  bucketNames = new Set();
  /** The streams the last full checkpoint named (`{name, is_default, errors}`). */
  streams = [];
  /** Buckets the service dropped from this client's checkpoint, with when (ms since epoch). */
  removedBuckets = [];
  checkpoints = 0;
  lines = 0;
  lineTypes = [];
  ended = null;
  #pending = [];
  #priority = new Map();
  #waiters = new Set();

  constructor(label, controller) {
    this.label = label;
    this.controller = controller;
  }

  /** The client's rows: "type/id" → row object (with `_bucket`). */
  get rows() {
    const all = new Map();
    for (const rows of this.buckets.values()) for (const [key, row] of rows) all.set(key, row);
    return all;
  }

  row(type, id) {
    return this.rows.get(`${type}/${id}`);
  }

  rowsOf(type) {
    return [...this.rows.values()].filter((row) => row._type === type);
  }

  /** The buckets (of the last completed checkpoint) that hold a row "type/id". */
  bucketsHolding(type, id) {
    return [...this.buckets].filter(([, rows]) => rows.has(`${type}/${id}`)).map(([name]) => name);
  }

  async #read(body) {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line) this.#apply(JSON.parse(line));
        }
      }
      this.#end(new Error(`${this.label}: the service closed the stream`));
    } catch (error) {
      this.#end(this.controller.signal.aborted ? new Error(`${this.label}: closed by the test`) : error);
    }
  }

  // As the SDK does: a `checkpoint` names the complete bucket set (buckets the client holds
  // that it does not name are deleted), a `checkpoint_diff` updates or removes buckets of
  // the previous one; data and deletions become visible at `checkpoint_complete` (or, for
  // buckets up to a priority, at `partial_checkpoint_complete`).
  #apply(line) {
    this.lines += 1;
    const type = Object.keys(line)[0];
    this.lineTypes.push(type);
    if (line.checkpoint) {
      this.#pending = [];
      this.streams = line.checkpoint.streams ?? [];
      this.bucketNames = new Set(line.checkpoint.buckets.map((b) => b.bucket));
      this.#priority = new Map(line.checkpoint.buckets.map((b) => [b.bucket, b.priority ?? 3]));
      for (const name of this.buckets.keys()) {
        if (!this.bucketNames.has(name)) this.#pending.push({ bucket: name, removed: true });
      }
    } else if (line.checkpoint_diff) {
      for (const bucket of line.checkpoint_diff.updated_buckets) {
        this.bucketNames.add(bucket.bucket);
        this.#priority.set(bucket.bucket, bucket.priority ?? 3);
      }
      for (const name of line.checkpoint_diff.removed_buckets) {
        this.bucketNames.delete(name);
        this.#pending.push({ bucket: name, removed: true });
      }
    } else if (line.data) {
      this.#pending.push(line.data);
    } else if (line.checkpoint_complete) {
      this.#applyPending(() => true);
      this.checkpoints += 1;
    } else if (line.partial_checkpoint_complete) {
      const upTo = line.partial_checkpoint_complete.priority;
      this.#applyPending((data) => !data.removed && (this.#priority.get(data.bucket) ?? 3) <= upTo);
    }
    this.#notify();
  }

  #applyPending(due) {
    const later = [];
    for (const data of this.#pending) {
      if (due(data)) this.#applyBucketData(data);
      else later.push(data);
    }
    this.#pending = later;
  }

  #applyBucketData(data) {
    if (data.removed) {
      if (this.buckets.delete(data.bucket)) this.removedBuckets.push({ bucket: data.bucket, at: Date.now() });
      return;
    }
    if (!this.buckets.has(data.bucket)) this.buckets.set(data.bucket, new Map());
    const rows = this.buckets.get(data.bucket);
    for (const op of data.data ?? []) {
      const key = `${op.object_type}/${op.object_id}`;
      if (op.op === 'PUT') {
        const row = typeof op.data === 'string' ? JSON.parse(op.data) : op.data;
        rows.set(key, { ...row, _type: op.object_type, _bucket: data.bucket });
      } else if (op.op === 'REMOVE') {
        rows.delete(key);
      } else if (op.op === 'CLEAR') {
        rows.clear();
      }
    }
  }

  #notify() {
    for (const waiter of this.#waiters) waiter.check();
  }

  #end(error) {
    if (this.ended) return;
    this.ended = error;
    for (const waiter of this.#waiters) waiter.fail(error);
  }

  /** Resolves with `predicate(this)` once it is truthy; rejects after `timeout` ms or if the stream ends. */
  waitFor(predicate, { timeout = ARRIVAL_TIMEOUT, message = 'condition' } = {}) {
    return new Promise((resolvePromise, reject) => {
      const started = Date.now();
      const waiter = {
        check: () => {
          let value;
          try {
            value = predicate(this);
          } catch (error) {
            return waiter.fail(error);
          }
          if (value) {
            this.#waiters.delete(waiter);
            clearTimeout(timer);
            resolvePromise(value);
          }
        },
        fail: (error) => {
          this.#waiters.delete(waiter);
          clearTimeout(timer);
          reject(new Error(`${this.label}: ${message}: ${error.message}`));
        },
      };
      const timer = setTimeout(
        () =>
          waiter.fail(
            new Error(
              `not seen within ${Date.now() - started} ms (${this.lines} lines, ${this.checkpoints} checkpoints, ` +
                `last: ${this.lineTypes.slice(-5).join(', ') || 'none'}; buckets: ${[...this.bucketNames].join(', ') || 'none'})`,
            ),
          ),
        timeout,
      );
      if (this.ended) return waiter.fail(this.ended);
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  close() {
    this.controller.abort();
  }
}

// ---------------------------------------------------------------------------------------
// Postgres (notebox's database: what psql would do) and the notebox CLI

let pool;
export async function sql(text, params = []) {
  pool ??= new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
  return (await pool.query(text, params)).rows;
}

export async function closeDb() {
  await pool?.end();
  pool = undefined;
}

const run = promisify(execFile);

/**
 * The environment without NOTEBOX_E2E_*: notebox reads every NOTEBOX_* variable as config
 * and refuses unknown keys ("unknown key `e2e_database_url`").
 */
function notEnvOfThisSuite() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('NOTEBOX_E2E_')));
}

/** Runs the notebox CLI against the same database as the notebox under test. */
export async function notebox(args, extraEnv = {}) {
  if (!existsSync(NOTEBOX_BIN)) {
    throw new Error(`${NOTEBOX_BIN} is missing: build it (cargo build --bin notebox) or set NOTEBOX_E2E_NOTEBOX_BIN`);
  }
  try {
    return await run(NOTEBOX_BIN, args, {
      env: { ...notEnvOfThisSuite(), NOTEBOX_DATABASE__URL: DATABASE_URL, NOTEBOX_LOG__LEVEL: 'warn', ...extraEnv },
      timeout: 120_000,
    });
  } catch (error) {
    throw new Error(`notebox ${args.join(' ')} failed: ${error.stderr || error.message}`);
  }
}

// ---------------------------------------------------------------------------------------
// Headless Chromium, for the web UI (playwright-core drives it)

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
  if (env.CHROMIUM) return env.CHROMIUM;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is missing: apt-get install chromium, or set CHROMIUM to its path');
  }
}

/**
 * A Chromium with its own profile (one browser = one device), opened on notebox. `problems`
 * collects console errors and page errors, `failures` every answer ≥ 400; `close()` removes
 * the profile.
 */
export async function openBrowser() {
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(join(tmpdir(), 'notebox-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    baseURL: NOTEBOX_URL,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  const failures = [];
  page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('response', (response) => response.status() >= 400 && failures.push(`${response.status()} ${response.url()}`));
  return {
    context,
    page,
    problems,
    failures,
    close: async () => {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Logs `user` in through the UI and waits until it syncs with the real service. */
export async function logIn(page, user) {
  await page.goto('/');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('searchbox', { name: 'Search notes' }).waitFor();
  // Connected to the real service (the UI's sync status), nothing left to upload.
  await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
}
