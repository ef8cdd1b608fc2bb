// Scenario 5 of issue 6: key rotation under a live stream. After `notebox keys rotate`
// (grace 1 s here), notebox starts signing with a kid the PowerSync service has never
// seen; a client that refetches its token must keep syncing, which needs the service to
// fetch the key set again on the unknown kid (it does, in the background, after refusing
// the request that met it: the SDK's reconnect-after-401 then gets through). The stream opened with the old key's token
// must keep syncing too: the old key stays published until its last token has expired.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SKIP, SyncStream, api, closeDb, jwtParts, notebox, poll, powersyncToken, signUp, sql, uploadNotes } from './lib.mjs';

// notebox re-reads its keys from Postgres every 30 s; the grace adds 1 s.
const NEW_KEY_SIGNS_WITHIN = 90_000;

async function publishedKids() {
  const answer = await api('GET', '/.well-known/jwks.json');
  assert.equal(answer.status, 200);
  return answer.body.keys.map((key) => key.kid);
}

describe('key rotation under a live stream', { skip: SKIP }, () => {
  let kim;
  let oldStream;
  let newStream;

  before(async () => {
    kim = await signUp('Kim Rotation');
  });

  after(async () => {
    oldStream?.close();
    newStream?.close();
    await closeDb();
  });

  test('5. after `notebox keys rotate`, a client that refetches its token keeps syncing', { timeout: 180_000 }, async (t) => {
    const first = await powersyncToken(kim);
    const oldKid = jwtParts(first.token).header.kid;
    assert.ok(oldKid, 'notebox tokens carry a kid');
    oldStream = await SyncStream.open(first.token, { label: 'old-key stream' });
    const before = randomUUID();
    await sql("INSERT INTO notes (id, owner_id, title, body) VALUES ($1, $2, 'before rotation', '')", [before, kim.id]);
    await oldStream.waitFor((s) => s.row('notes', before), { message: 'the note written before the rotation' });

    // The rotation also changes the algorithm (RS256 → EdDSA by default): the service must
    // take tokens of the new key's kind while the old key's stream goes on.
    const oldAlg = jwtParts(first.token).header.alg;
    const newAlg = oldAlg === 'EdDSA' ? 'ES256' : 'EdDSA';
    const kidsBefore = await publishedKids();
    const { stdout } = await notebox(['keys', 'rotate'], { NOTEBOX_AUTH__KEY_ROTATION_GRACE: '1s', NOTEBOX_AUTH__KEY_ALGORITHM: newAlg });
    t.diagnostic(`notebox keys rotate (${oldAlg} → ${newAlg}): ${stdout.trim().split('\n')[0]}`);

    // The client refetches credentials (as the SDK does before expiry or after a 401)
    // until notebox signs with the new key.
    const started = Date.now();
    const second = await poll(
      async () => {
        const credentials = await powersyncToken(kim);
        return jwtParts(credentials.token).header.kid !== oldKid && credentials;
      },
      { timeout: NEW_KEY_SIGNS_WITHIN, interval: 1000, message: 'a token signed with the new key' },
    );
    const newKid = jwtParts(second.token).header.kid;
    assert.equal(jwtParts(second.token).header.alg, newAlg, 'the new key signs with the algorithm it was made for');
    t.diagnostic(`new kid ${newKid} signs ${Date.now() - started} ms after the rotation`);
    assert.ok(!kidsBefore.includes(newKid), 'the new kid is a new key');
    const kidsNow = await publishedKids();
    assert.ok(kidsNow.includes(newKid), 'the new key is published');
    assert.ok(kidsNow.includes(oldKid), 'the old key stays published while its tokens live');

    // The service has never seen this kid. It answers the first such request with 401
    // (PSYNC_S2101, no matching key) and refetches the key set in the background; the SDK
    // reacts to a 401 by fetching credentials again and reconnecting. Do the same.
    const refused = [];
    newStream = await poll(
      async () => {
        const { token } = refused.length ? await powersyncToken(kim) : second;
        try {
          return await SyncStream.open(token, { label: 'new-key stream' });
        } catch (error) {
          if (error.status !== 401) throw error;
          refused.push(JSON.parse(error.body).error.code);
          return false;
        }
      },
      { timeout: 30_000, interval: 1000, message: 'PowerSync to accept the new kid' },
    );
    t.diagnostic(`PowerSync accepted the new kid after ${refused.length} refused attempt(s) ${JSON.stringify(refused)}`);
    assert.ok(refused.length <= 1, `a refetch of the key set should need one 401 at most, got ${refused.length}`);
    await newStream.waitFor((s) => s.row('notes', before), { message: 'the existing note, with the new token' });

    // Both streams keep syncing: a SQL write and an upload signed with the new key.
    const bySql = randomUUID();
    await sql("INSERT INTO notes (id, owner_id, title, body) VALUES ($1, $2, 'after rotation (sql)', '')", [bySql, kim.id]);
    const byUpload = randomUUID();
    const answer = await uploadNotes(second.token, [{ id: byUpload, data: { title: 'after rotation (upload)', body: '' } }]);
    assert.ok(answer.status >= 200 && answer.status < 300, `POST /api/data with the new token answered ${answer.status}`);
    for (const stream of [newStream, oldStream]) {
      await stream.waitFor((s) => s.row('notes', bySql) && s.row('notes', byUpload), { message: 'both notes written after the rotation' });
    }
    assert.equal(oldStream.ended, null, 'the old-key stream is still open');
  });
});
