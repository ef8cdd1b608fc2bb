// `notebox check --e2e` against the real service: the Rust SDK inside notebox syncs a probe
// note all the way round (upload → Postgres → replication → PowerSync → local SQLite) and
// back out again, and exits 0; with a token audience the service does not accept it names
// the cause (PSYNC_S2105) and the fix, and exits 1. Either way it leaves no probe account.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { DATABASE_URL, NOTEBOX_BIN, SKIP, closeDb, sql } from './lib.mjs';

/** Runs `notebox check --e2e` with notebox's configuration (not the suite's variables). */
function checkE2e(extraEnv = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('NOTEBOX_E2E_')));
  return new Promise((resolve) => {
    execFile(
      NOTEBOX_BIN,
      ['check', '--e2e'],
      { env: { ...env, NOTEBOX_DATABASE__URL: DATABASE_URL, NOTEBOX_LOG__LEVEL: 'warn', ...extraEnv }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const probeAccounts = async () => (await sql("SELECT 1 FROM users WHERE email = 'e2e-probe@notebox.invalid'")).length;

describe('notebox check --e2e', { skip: SKIP }, () => {
  after(closeDb);

  test('completes the round trip through the real service and exits 0', async () => {
    const { code, stdout, stderr } = await checkE2e();
    console.log(stdout);
    assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr}`);
    for (const step of ['probe account', 'token', 'local database', 'sync stream', 'upload', 'sync down', 'delete', 'sync delete', 'clean up']) {
      assert.match(stdout, new RegExp(`^ok   e2e ${step} .*\\(\\d+ ms\\)$`, 'm'), `step "${step}" passed with its time`);
    }
    assert.doesNotMatch(stdout, /^FAIL/m);
    assert.equal(await probeAccounts(), 0, 'the probe account is removed');
  });

  test('a token audience PowerSync does not accept fails with the cause and the fix', async () => {
    const { code, stdout } = await checkE2e({ NOTEBOX_POWERSYNC__AUDIENCE: 'not-the-configured-audience' });
    console.log(stdout);
    assert.equal(code, 1);
    assert.match(stdout, /^FAIL e2e sync stream .*PSYNC_S2105.*client_auth\.audience.*notebox powersync-config/m);
    assert.match(stdout, /^ok   e2e clean up/m);
    assert.equal(await probeAccounts(), 0, 'the probe account is removed after a failure too');
  });
});
