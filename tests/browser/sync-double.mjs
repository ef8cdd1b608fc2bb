// A test double of the PowerSync service, just enough for the browser tests: the endpoints
// the web SDK calls (POST /sync/stream as NDJSON, GET /write-checkpoint2.json), CORS, and
// token checks against notebox's JWKS. Instead of logical replication it polls Postgres
// for what each connected user's auto-subscribed streams select (their personal notes, the
// notebooks they are a member of, every note, conflict copy and member row of those, their
// own upload_rejections), and streams what changed as PowerSync would: checkpoint → data →
// checkpoint_complete, with per-op checksums whose sum the client verifies. A row that stops
// matching (a removed member's notebook) goes as a REMOVE op. Tests only; never shipped.
//
//   node sync-double.mjs --port 8095 --database-url postgres://… --jwks-url http://…/.well-known/jwks.json

import { createHash, createPublicKey, createVerify } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import pg from 'pg';

// The notebooks a user is a member of ($1: the user id).
const MINE = 'SELECT notebook_id FROM notebook_members WHERE user_id = $1';
const REJECTIONS =
  'SELECT id::text, owner_id::text, table_name, row_id, op, code, message, data::text AS data, created_at FROM upload_rejections WHERE owner_id = $1';
// What the edition-3 streams select, one query per table.
const TEAM_TABLES = {
  notes: `SELECT id::text, owner_id::text, notebook_id::text, title, body, created_at, updated_at, updated_by::text, pinned
            FROM notes WHERE (owner_id = $1 AND notebook_id IS NULL) OR notebook_id IN (${MINE})`,
  notebooks: `SELECT id::text, name, created_by::text, created_at, updated_at FROM notebooks WHERE id IN (${MINE})`,
  notebook_members: `SELECT %MEMBER_ID% AS id, m.notebook_id::text, m.user_id::text, m.role::text, m.added_by::text,
                            m.created_at, m.display_name, m.email
                       FROM notebook_members m
                      WHERE m.notebook_id IN (${MINE})`,
  upload_rejections: REJECTIONS,
};
// Edits that could not merge travel like their note: personal by owner, else to the notebook's members.
const CONFLICTS = `SELECT id::text, note_id::text, owner_id::text, notebook_id::text, column_name, base_text, kept_text,
                          their_text, created_by::text, created_at
                     FROM note_conflicts WHERE (owner_id = $1 AND notebook_id IS NULL) OR notebook_id IN (${MINE})`;
// Before the teams migration: each user's own notes only.
const PERSONAL_TABLES = {
  notes: 'SELECT id::text, owner_id::text, title, body, created_at, updated_at FROM notes WHERE owner_id = $1',
  upload_rejections: REJECTIONS,
};
const POLL_MS = 100;
const KEEPALIVE_MS = 10_000;

export async function startSyncDouble({ port = 0, databaseUrl, jwksUrl, audience = 'powersync', log = () => {} }) {
  // timestamptz as text in UTC ("2026-01-02 03:04:05.678901+00"), sent the way PowerSync's
  // legacy format has it: "2026-01-02 03:04:05.678901Z".
  const TIMESTAMPTZ = 1184;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 4,
    options: '-c TimeZone=UTC -c DateStyle=ISO,YMD',
    types: { getTypeParser: (oid, format) => (oid === TIMESTAMPTZ ? (text) => text : pg.types.getTypeParser(oid, format)) },
  });
  const users = new Map(); // user id → UserLog
  let tables = null;

  /** The team queries once the database has notebooks; a member row's id as the table has it. */
  async function queries() {
    if (tables) return tables;
    const { rows } = await pool.query(
      `SELECT to_regclass('notebooks') IS NOT NULL AS teams,
              EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_name = 'notebook_members' AND column_name = 'id') AS member_id,
              to_regclass('note_conflicts') IS NOT NULL AS conflicts`,
    );
    if (!rows[0].teams) return PERSONAL_TABLES; // asked again next time: a migration may come
    const memberId = rows[0].member_id ? 'm.id::text' : "m.notebook_id::text || ':' || m.user_id::text";
    tables = { ...TEAM_TABLES, notebook_members: TEAM_TABLES.notebook_members.replace('%MEMBER_ID%', memberId) };
    if (rows[0].conflicts) tables.note_conflicts = CONFLICTS;
    return tables;
  }
  let nextOpId = 1;
  let jwks = null;

  class UserLog {
    constructor(userId) {
      this.userId = userId;
      this.bucket = `user_data["${userId}"]`;
      this.ops = [];
      this.rows = new Map(); // "table/id" → JSON string last sent
      this.checksum = 0;
      this.writeCheckpoint = 0;
      this.streams = 0;
    }

    /** Appends ops for whatever changed in Postgres since the last look. */
    async refresh() {
      const seen = new Set();
      let changed = false;
      for (const [table, sql] of Object.entries(await queries())) {
        const { rows } = await pool.query(sql, [this.userId]);
        for (const row of rows) {
          const { id, ...columns } = row;
          for (const key of ['created_at', 'updated_at']) {
            if (typeof columns[key] === 'string') columns[key] = columns[key].replace(/\+00$/, 'Z');
          }
          const key = `${table}/${id}`;
          const data = JSON.stringify(columns);
          seen.add(key);
          if (this.rows.get(key) !== data) {
            this.rows.set(key, data);
            this.append({ op: 'PUT', object_type: table, object_id: id, data });
            changed = true;
          }
        }
      }
      for (const key of [...this.rows.keys()]) {
        if (seen.has(key)) continue;
        this.rows.delete(key);
        const [table, id] = key.split('/');
        this.append({ op: 'REMOVE', object_type: table, object_id: id });
        changed = true;
      }
      return changed;
    }

    append(entry) {
      const op_id = String(nextOpId++);
      const digest = createHash('sha256').update(`${op_id}:${entry.op}:${entry.object_id}:${entry.data ?? ''}`).digest();
      const checksum = digest.readUInt32BE(0);
      this.checksum = (this.checksum + checksum) >>> 0;
      this.ops.push({ op_id, checksum, subkey: null, data: null, ...entry });
    }

    get lastOpId() {
      return this.ops.length ? this.ops[this.ops.length - 1].op_id : '0';
    }

    checkpoint() {
      return {
        checkpoint: {
          last_op_id: this.lastOpId,
          write_checkpoint: this.writeCheckpoint ? String(this.writeCheckpoint) : null,
          buckets: [{ bucket: this.bucket, checksum: this.checksum, count: this.ops.length, priority: 3 }],
        },
      };
    }
  }

  function userLog(userId) {
    if (!users.has(userId)) users.set(userId, new UserLog(userId));
    return users.get(userId);
  }

  async function verify(header) {
    const match = /^(Token|Bearer) (.+)$/.exec(header ?? '');
    if (!match) throw Object.assign(new Error('no token'), { code: 'PSYNC_S2106' });
    const [h64, p64, s64] = match[2].split('.');
    const head = JSON.parse(Buffer.from(h64, 'base64url'));
    const claims = JSON.parse(Buffer.from(p64, 'base64url'));
    if (head.alg !== 'RS256') throw Object.assign(new Error(`alg ${head.alg}`), { code: 'PSYNC_S2101' });
    let key = jwks?.keys?.find((k) => k.kid === head.kid);
    if (!key && jwksUrl) {
      jwks = await (await fetch(jwksUrl)).json();
      key = jwks.keys.find((k) => k.kid === head.kid);
    }
    if (!key) throw Object.assign(new Error(`unknown kid ${head.kid}`), { code: 'PSYNC_S2101' });
    const ok = createVerify('RSA-SHA256')
      .update(`${h64}.${p64}`)
      .verify(createPublicKey({ key, format: 'jwk' }), Buffer.from(s64, 'base64url'));
    if (!ok) throw Object.assign(new Error('bad signature'), { code: 'PSYNC_S2101' });
    const now = Date.now() / 1000;
    if (!(claims.exp > now - 60)) throw Object.assign(new Error('expired'), { code: 'PSYNC_S2103' });
    const aud = [claims.aud].flat();
    if (!aud.includes(audience)) throw Object.assign(new Error('audience'), { code: 'PSYNC_S2105' });
    if (!claims.sub) throw Object.assign(new Error('no sub'), { code: 'PSYNC_S2101' });
    return claims;
  }

  function cors(req, res) {
    res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, x-user-agent');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader('Access-Control-Max-Age', '600');
  }

  function json(res, status, body) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  async function readBody(req) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : {};
  }

  async function stream(req, res, claims) {
    const body = await readBody(req);
    const log_ = userLog(claims.sub);
    const after = BigInt(body.buckets?.find((b) => b.name === log_.bucket)?.after ?? '0');
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    log_.streams += 1;
    let closed = false;
    req.on('close', () => {
      closed = true;
    });
    res.on('close', () => {
      closed = true;
    });
    const send = (line) => !closed && res.write(`${JSON.stringify(line)}\n`);
    let sentOp = after;
    let sentWrite = -1;
    let lastKeepalive = 0;
    try {
      while (!closed) {
        await log_.refresh();
        const pending = log_.ops.filter((op) => BigInt(op.op_id) > sentOp);
        if (pending.length || sentWrite !== log_.writeCheckpoint) {
          send(log_.checkpoint());
          for (let i = 0; i < pending.length; i += 100) {
            send({ data: { bucket: log_.bucket, data: pending.slice(i, i + 100), has_more: false, after: String(sentOp), next_after: log_.lastOpId } });
          }
          send({ checkpoint_complete: { last_op_id: log_.lastOpId } });
          sentOp = BigInt(log_.lastOpId);
          sentWrite = log_.writeCheckpoint;
          log(`stream ${claims.sub}: checkpoint ${log_.lastOpId} (+${pending.length} ops, write ${sentWrite})`);
        }
        if (Date.now() - lastKeepalive > KEEPALIVE_MS) {
          send({ token_expires_in: Math.max(0, Math.floor(claims.exp - Date.now() / 1000)) });
          lastKeepalive = Date.now();
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } finally {
      log_.streams -= 1;
      res.end();
    }
  }

  const server = createServer(async (req, res) => {
    cors(req, res);
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      return res.end();
    }
    const url = new URL(req.url, 'http://double');
    try {
      if (url.pathname === '/probes/liveness') return json(res, 200, { ok: true });
      let claims;
      try {
        claims = await verify(req.headers.authorization);
      } catch (error) {
        log(`401 ${url.pathname}: ${error.message}`);
        return json(res, 401, { error: { code: error.code ?? 'PSYNC_S2101', status: 401, description: error.message } });
      }
      if (req.method === 'POST' && url.pathname === '/sync/stream') return await stream(req, res, claims);
      if (req.method === 'GET' && url.pathname === '/write-checkpoint2.json') {
        const user = userLog(claims.sub);
        user.writeCheckpoint += 1;
        return json(res, 200, { data: { write_checkpoint: String(user.writeCheckpoint) } });
      }
      return json(res, 404, { error: { code: 'PSYNC_S2001', description: `no route ${url.pathname}` } });
    } catch (error) {
      log(`500 ${url.pathname}: ${error.stack}`);
      if (!res.headersSent) json(res, 500, { error: { code: 'PSYNC_S2001', description: String(error) } });
      else res.end();
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pool.end();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'database-url': { type: 'string' },
      'jwks-url': { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const double = await startSyncDouble({
    port: Number(values.port),
    databaseUrl: values['database-url'],
    jwksUrl: values['jwks-url'],
    log: values.verbose ? (line) => console.log(`[sync-double] ${line}`) : () => {},
  });
  console.log(`sync double listening on ${double.url}`);
  const stop = async () => {
    await double.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
