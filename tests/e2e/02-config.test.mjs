// Issue 6's premise: one config drives both. The running PowerSync service must be running
// what `notebox powersync-config` renders from notebox's configuration: its admin API
// (diagnostics, needs NOTEBOX_E2E_POWERSYNC_API_TOKEN) shows the active sync config, the
// replicated database and any errors. Tokens and audience are proven by 01-sync.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { API_TOKEN, DATABASE_URL, POWERSYNC_URL, SKIP, closeDb, notebox, sql } from './lib.mjs';

async function diagnostics() {
  const response = await fetch(`${POWERSYNC_URL}/api/admin/v1/diagnostics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sync_rules_content: true }),
  });
  assert.equal(response.status, 200, `diagnostics answered ${response.status}: is NOTEBOX_E2E_POWERSYNC_API_TOKEN one of its api.tokens?`);
  return (await response.json()).data;
}

/** Every `errors: [...]` entry anywhere in the diagnostics document. */
function errorsIn(value, found = []) {
  if (Array.isArray(value)) value.forEach((item) => errorsIn(item, found));
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'errors' && Array.isArray(child)) found.push(...child.map((e) => e.message ?? JSON.stringify(e)));
      else errorsIn(child, found);
    }
  }
  return found;
}

describe('the PowerSync service runs the config notebox renders', { skip: SKIP }, () => {
  let dir;
  let rendered;

  before(async () => {
    const { stdout } = await notebox(['--help']);
    if (!/powersync-config/.test(stdout)) return; // tests below skip with the reason
    dir = await mkdtemp(join(tmpdir(), 'notebox-e2e-render-'));
    await notebox(['powersync-config', '--out', dir]);
    rendered = {
      service: await readFile(join(dir, 'powersync.yaml'), 'utf8'),
      sync: await readFile(join(dir, 'sync-config.yaml'), 'utf8'),
    };
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await closeDb();
  });

  test('its active sync config is the rendered one, replicating notebox\'s database, without errors', async (t) => {
    if (!rendered) return t.skip('this notebox has no `powersync-config` command');
    if (!API_TOKEN) return t.skip('NOTEBOX_E2E_POWERSYNC_API_TOKEN not set (its admin API shows the running config)');
    const data = await diagnostics();
    const active = data.active_sync_rules;
    assert.ok(active, 'the service has an active sync config');
    assert.equal(active.content.trim(), rendered.sync.trim(), 'the running sync config differs from `notebox powersync-config`');
    const database = new URL(DATABASE_URL).pathname.slice(1);
    assert.ok(
      data.connections.some((c) => c.connected && c.postgres_uri?.endsWith(`/${database}`)),
      `the service replicates ${JSON.stringify(data.connections.map((c) => c.postgres_uri))}, not ${database}`,
    );
    // Exactly the tables of notebox's sync schema, which also makes the publication.
    const tables = active.connections.flatMap((c) => c.tables.map((table) => table.name)).sort();
    const published = (await sql("SELECT tablename FROM pg_publication_tables WHERE pubname = 'powersync' ORDER BY 1")).map((r) => r.tablename);
    assert.ok(published.includes('notes') && published.includes('notebook_members'), `publication: ${published}`);
    assert.deepEqual(tables, published);
    assert.deepEqual(errorsIn(data), []);
  });
});
