// Scenarios 1–3 of issue 6 against the real PowerSync service: a notebox token opens the
// sync stream and brings exactly the user's notes; an upload through notebox arrives on
// it; a direct SQL update (the seed guide's `upper(title)` demo) arrives on it. Plus the
// other half of the upload contract: a refused write comes back as an upload_rejections row.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SKIP, SyncStream, closeDb, powersyncToken, signUp, sql, uploadNotes } from './lib.mjs';

describe('sync stream from the real PowerSync service', { skip: SKIP }, () => {
  let alice;
  let bob;
  let aliceStream;
  let bobStream;
  const aliceNote = randomUUID();
  const bobNote = randomUUID();

  before(async () => {
    alice = await signUp('Alice Stream');
    bob = await signUp('Bob Stream');
    // Bob's note is committed first, so once Alice's (later) note has reached her stream,
    // Bob's has been replicated too: its absence is not a matter of timing.
    await sql("INSERT INTO notes (id, owner_id, title, body) VALUES ($1, $2, 'bob secret', 'for bob only')", [bobNote, bob.id]);
    await sql("INSERT INTO notes (id, owner_id, title, body) VALUES ($1, $2, 'alice first', 'hello from psql')", [aliceNote, alice.id]);
  });

  after(async () => {
    aliceStream?.close();
    bobStream?.close();
    await closeDb();
  });

  test("1. a user's token opens /sync/stream: their notes arrive, another user's do not", async () => {
    const credentials = await powersyncToken(alice);
    assert.equal(credentials.user_id, alice.id);
    aliceStream = await SyncStream.open(credentials.token, { label: 'alice' });
    const row = await aliceStream.waitFor((s) => s.row('notes', aliceNote), { message: "alice's note" });
    assert.equal(row.title, 'alice first');
    assert.equal(row.body, 'hello from psql');
    assert.equal(row.owner_id, alice.id);

    assert.equal(aliceStream.row('notes', bobNote), undefined, "bob's note reached alice's stream");
    for (const bucket of aliceStream.bucketNames) {
      assert.ok(bucket.includes(alice.id), `alice's stream names a bucket that is not hers: ${bucket}`);
    }
    for (const note of aliceStream.rowsOf('notes')) assert.equal(note.owner_id, alice.id);

    bobStream = await SyncStream.open((await powersyncToken(bob)).token, { label: 'bob' });
    await bobStream.waitFor((s) => s.row('notes', bobNote), { message: "bob's note" });
    assert.equal(bobStream.row('notes', aliceNote), undefined, "alice's note reached bob's stream");
  });

  test('1b. a token the service cannot verify is refused with 401', async () => {
    const { token } = await powersyncToken(alice);
    const [header, payload, signature] = token.split('.');
    const forged = `${header}.${payload}.${signature.slice(0, -4)}AAAA`;
    await assert.rejects(SyncStream.open(forged, { label: 'forged' }), (error) => {
      assert.equal(error.status, 401, error.message);
      assert.match(error.body, /PSYNC_S21/);
      return true;
    });
  });

  test('2. a note uploaded through notebox /api/data arrives on the live stream', async (t) => {
    assert.ok(aliceStream && !aliceStream.ended, 'needs the stream from test 1');
    const id = randomUUID();
    const { token } = await powersyncToken(alice);
    const answer = await uploadNotes(token, [{ id, data: { title: 'uploaded', body: 'through /api/data' } }]);
    assert.ok(answer.status >= 200 && answer.status < 300, `POST /api/data answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    const started = Date.now();
    const row = await aliceStream.waitFor((s) => s.row('notes', id), { message: 'the uploaded note' });
    t.diagnostic(`upload → stream: ${Date.now() - started} ms`);
    assert.equal(row.title, 'uploaded');
    assert.equal(row.owner_id, alice.id);
    assert.equal(bobStream.row('notes', id), undefined);
  });

  test('3. UPDATE notes SET title = upper(title) in Postgres arrives on the stream', async (t) => {
    assert.ok(aliceStream && !aliceStream.ended, 'needs the stream from test 1');
    const titles = (await sql('SELECT id, title FROM notes WHERE owner_id = $1', [alice.id])).map((r) => [r.id, r.title]);
    assert.ok(titles.length >= 2);
    const started = Date.now();
    await sql('UPDATE notes SET title = upper(title) WHERE owner_id = $1', [alice.id]);
    await aliceStream.waitFor((s) => titles.every(([id, title]) => s.row('notes', id)?.title === title.toUpperCase()), {
      message: 'every title in upper case',
    });
    t.diagnostic(`SQL update → stream: ${Date.now() - started} ms`);
    assert.equal(aliceStream.row('notes', aliceNote).title, 'ALICE FIRST');
    // Bob's stream saw none of it.
    assert.equal(bobStream.row('notes', bobNote).title, 'bob secret');
  });

  test("2b. a refused upload (someone else's note) comes back on the uploader's stream as a rejection", async () => {
    assert.ok(aliceStream && !aliceStream.ended, 'needs the stream from test 1');
    const answer = await uploadNotes(alice.session, [{ id: bobNote, op: 'PATCH', data: { title: 'hijacked' } }]);
    assert.ok(answer.status >= 200 && answer.status < 300, `a data error must not block the queue: ${answer.status}`);
    const rejection = await aliceStream.waitFor(
      (s) => s.rowsOf('upload_rejections').find((r) => r.row_id === bobNote),
      { message: 'the upload_rejections row' },
    );
    assert.equal(rejection.owner_id, alice.id);
    assert.equal(rejection.code, 'NOT_OWNER');
    assert.equal((await sql('SELECT title FROM notes WHERE id = $1', [bobNote]))[0].title, 'bob secret');
    assert.equal(bobStream.rowsOf('upload_rejections').length, 0, "alice's rejection reached bob's stream");
  });
});
