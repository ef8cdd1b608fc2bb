// Shared plumbing for the end-to-end suite: which running services to test, the notebox
// API, a minimal PowerSync sync-stream client, Postgres, the notebox CLI, polling.
//
// Nothing here starts a service: the suite tests a notebox and a real PowerSync service
// that already run against the same Postgres (README.md beside this file says how).

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
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
/** A new account through the sign-up API (the notebox under test must have signup = "open"). */
export async function signUp(name) {
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
  const batch = notes.map((note, i) => ({
    op_id: i + 1,
    op: note.op ?? 'PUT',
    type: 'notes',
    id: note.id,
    tx_id: i + 1,
    ...(note.op === 'DELETE' ? {} : { data: note.data }),
  }));
  return api('POST', '/api/data', { body: { batch }, bearer });
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
      body: JSON.stringify({ buckets: [], include_checksum: true, raw_data: true, client_id: `e2e-${randomUUID()}` }),
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
  /** Every bucket named by a checkpoint, whether it holds data or not. */
  bucketNames = new Set();
  checkpoints = 0;
  lines = 0;
  lineTypes = [];
  ended = null;
  #pending = [];
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

  #apply(line) {
    this.lines += 1;
    const type = Object.keys(line)[0];
    this.lineTypes.push(type);
    if (line.checkpoint) {
      this.#pending = [];
      for (const bucket of line.checkpoint.buckets) this.bucketNames.add(bucket.bucket);
    } else if (line.checkpoint_diff) {
      for (const bucket of line.checkpoint_diff.updated_buckets) this.bucketNames.add(bucket.bucket);
      for (const name of line.checkpoint_diff.removed_buckets) {
        this.bucketNames.delete(name);
        this.#pending.push({ bucket: name, clear: true });
      }
    } else if (line.data) {
      this.#pending.push(line.data);
    } else if (line.checkpoint_complete || line.partial_checkpoint_complete) {
      for (const data of this.#pending) this.#applyBucketData(data);
      this.#pending = [];
      this.checkpoints += 1;
    }
    this.#notify();
  }

  #applyBucketData(data) {
    if (!this.buckets.has(data.bucket)) this.buckets.set(data.bucket, new Map());
    const rows = this.buckets.get(data.bucket);
    if (data.clear) return rows.clear();
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
