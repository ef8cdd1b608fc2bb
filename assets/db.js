// The local SQLite database (in IndexedDB, via the PowerSync web SDK) and the connector
// that links it to notebox: credentials from /api/auth/token, uploads to /api/data.

import {
  PowerSyncDatabase,
  Schema,
  SyncStreamConnectionMethod,
  Table,
  column,
} from './vendor/powersync.js';

// notebook_id NULL: a personal note. owner_id is its creator; updated_by (set by the server)
// who edited it last. trackPrevious: an upload of an edit carries the text it replaced
// (`old`), the base the server three-way-merges a concurrent edit from.
const notes = new Table(
  {
    owner_id: column.text,
    notebook_id: column.text,
    title: column.text,
    body: column.text,
    created_at: column.text,
    updated_at: column.text,
    updated_by: column.text,
    pinned: column.integer, // 1: listed first, on every device
  },
  {
    indexes: { by_updated: ['updated_at'], by_notebook: ['notebook_id'] },
    trackPrevious: { columns: ['title', 'body'], onlyWhenChanged: true },
  },
);

// An edit that changed the same lines as one that reached the server first: the note kept
// kept_text, their_text waits here until someone settles it. Written only by the server.
const note_conflicts = new Table(
  {
    note_id: column.text,
    owner_id: column.text,
    notebook_id: column.text,
    column_name: column.text,
    base_text: column.text,
    kept_text: column.text,
    their_text: column.text,
    created_by: column.text,
    created_at: column.text,
  },
  { indexes: { by_note: ['note_id'] } },
);

// The notebooks the user is a member of; created offline like notes (the server makes the
// creator its owner).
const notebooks = new Table({
  name: column.text,
  created_by: column.text,
  created_at: column.text,
  updated_at: column.text,
});

// Who is in those notebooks, with their names. Changed only through the HTTP API.
const notebook_members = new Table(
  {
    notebook_id: column.text,
    user_id: column.text,
    role: column.text,
    added_by: column.text,
    created_at: column.text,
    display_name: column.text,
    email: column.text,
  },
  { indexes: { by_notebook: ['notebook_id'] } },
);

// Written only by the server (a refused upload) and synced down to its owner.
const upload_rejections = new Table({
  owner_id: column.text,
  table_name: column.text,
  row_id: column.text,
  op: column.text,
  code: column.text,
  message: column.text,
  data: column.text,
  created_at: column.text,
});

// Which refusals the user has dismissed. Local only: never uploaded, cleared on logout.
// (The server deletes them too, so they leave every device; see sync-view.js.)
const dismissed_rejections = new Table({ rejection_id: column.text }, { localOnly: true });

// The text of a change too large to upload (id: the note's), kept so the refusal can give it
// back: the server never saw it, so the refusal's own data cannot. Local only.
const refused_texts = new Table({ data: column.text, created_at: column.text }, { localOnly: true });

export const schema = new Schema({
  notes,
  note_conflicts,
  notebooks,
  notebook_members,
  upload_rejections,
  dismissed_rejections,
  refused_texts,
});

/** Thrown by the connector when the session is gone (401): the user must log in again. */
export class SessionEnded extends Error {
  constructor() {
    super('Your session has ended. Log in again to keep syncing.');
    this.name = 'SessionEnded';
  }
}

/**
 * Also the source of the sync pill's upload facts: `lastUpload` ({ok, at, error}: how the
 * last upload went) and `reachable` (true once notebox answered anything); a 'change' event
 * follows each update.
 */
export class NoteboxConnector extends EventTarget {
  /** @param {{onSessionEnded: () => void}} hooks */
  constructor(hooks) {
    super();
    this.hooks = hooks;
    this.lastUpload = null;
    this.reachable = null;
  }

  noteFacts(facts) {
    Object.assign(this, facts);
    this.dispatchEvent(new Event('change'));
  }

  async fetchCredentials() {
    const response = await fetch('/api/auth/token', {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      cache: 'no-store',
    });
    if (response.status === 401) {
      this.hooks.onSessionEnded();
      throw new SessionEnded();
    }
    if (!response.ok) throw new Error(`Could not get a sync token (HTTP ${response.status}).`);
    const body = await response.json();
    return {
      endpoint: body.endpoint ?? body.powersync_url,
      token: body.token,
      expiresAt: body.expires_at ? new Date(body.expires_at) : undefined,
    };
  }

  /**
   * Sends the queue one client transaction at a time, in order: the smallest request that
   * keeps a transaction atomic. `success` and `fatal_error` (refused for good: the server
   * recorded why in upload_rejections) both complete the transaction; anything else
   * throws, and the SDK retries it later. A transaction larger than the server accepts in
   * one request (`max_body`, or a 413 from anything on the way) can never be sent: it is
   * reported to /api/data/oversized, which records it as refused, and then completed, so
   * nothing queued behind it waits forever. The client id makes a retried transaction
   * recognisable: the server applies it at most once.
   */
  async uploadData(database) {
    try {
      await this.uploadQueue(database);
      this.noteFacts({ lastUpload: { ok: true, at: new Date() }, reachable: true });
    } catch (error) {
      const unreachable = error instanceof TypeError; // fetch itself failed: no answer at all
      const facts = { lastUpload: { ok: false, at: new Date(), error: unreachable ? 'could not connect to the server' : error.message } };
      if (!unreachable) facts.reachable = true;
      this.noteFacts(facts);
      throw error;
    }
  }

  async uploadQueue(database) {
    const clientId = await database.getClientId();
    for (;;) {
      const transaction = await database.getNextCrudTransaction();
      if (!transaction) return;
      const crud = transaction.crud.map((entry) => entry.toJSON());
      const body = JSON.stringify({ client_id: clientId, transactions: [{ crud }] });
      const bytes = encoder.encode(body).length;
      const known = await uploadLimits().catch(() => null);
      // A value over the server's limit is refused and its refusal cannot carry the text:
      // keep it here first, so "Copy my text" can give it back.
      if (known && crud.some((entry) => Object.values(entry.data ?? {}).some((v) => typeof v === 'string' && v.length * 3 > known.max_value && encoder.encode(v).length > known.max_value))) {
        await keepRefusedTexts(database, crud).catch((error) => console.warn('could not keep the refused text', error));
      }
      if (known && bytes > known.max_body) {
        await this.reportOversized(database, crud, bytes);
        await transaction.complete();
        continue;
      }
      const response = await post('/api/data', body);
      this.checkSession(response);
      if (response.status === 413) {
        await this.reportOversized(database, crud, bytes);
        await transaction.complete();
        continue;
      }
      if (!response.ok) throw new Error(`the server answered ${response.status} ${response.statusText}`.trim());
      const answer = await response.json();
      const status = answer?.results?.[0]?.status;
      if (status === 'success' || status === 'fatal_error') {
        await transaction.complete();
      } else {
        throw new Error(`the server could not apply it this time (${status ?? 'no result'})`);
      }
    }
  }

  /**
   * Has the server record a transaction too large to upload as refused (it syncs back),
   * keeping the notes' text on this device first so the refusal can give it back.
   */
  async reportOversized(database, crud, bytes) {
    const [first] = crud;
    await keepRefusedTexts(database, crud).catch((error) => console.warn('could not keep the refused text', error));
    const report = { table: first.type, id: first.id, op: first.op, bytes };
    const response = await post('/api/data/oversized', JSON.stringify(report));
    this.checkSession(response);
    if (!response.ok) throw new Error(`Could not report an oversized change (HTTP ${response.status}); will retry.`);
  }

  checkSession(response) {
    if (response.status === 401) {
      this.hooks.onSessionEnded();
      throw new SessionEnded();
    }
  }
}

const encoder = new TextEncoder();

async function keepRefusedTexts(database, crud) {
  const ids = [...new Set(crud.filter((entry) => entry.type === 'notes').map((entry) => entry.id))];
  await database.writeTransaction(async (tx) => {
    for (const id of ids) {
      const note = await tx.getOptional('SELECT title, body FROM notes WHERE id = ?', [id]);
      const put = crud.find((entry) => entry.id === id && entry.data)?.data ?? {};
      const data = JSON.stringify({ title: note?.title ?? put.title ?? '', body: note?.body ?? put.body ?? '' });
      await tx.execute('DELETE FROM refused_texts WHERE id = ?', [id]);
      await tx.execute('INSERT INTO refused_texts (id, data, created_at) VALUES (?, ?, ?)', [id, data, new Date().toISOString()]);
    }
  });
}

function post(path, body) {
  return fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    cache: 'no-store',
  });
}

let limits = null;

/**
 * The server's upload limits (GET /api/data/limits: `max_body`, `max_value` in bytes),
 * asked once per page load; a failed ask is asked again next time.
 */
export function uploadLimits() {
  limits ??= fetch('/api/data/limits', { headers: { accept: 'application/json' }, cache: 'no-store' })
    .then((response) => {
      if (!response.ok) throw new Error(`Could not read the upload limits (HTTP ${response.status}).`);
      return response.json();
    })
    .catch((error) => {
      limits = null;
      throw error;
    });
  return limits;
}

/** One database file per user, so two people sharing a browser never see each other's notes. */
export function openDatabase(userId) {
  return new PowerSyncDatabase({
    schema,
    database: { dbFilename: `notebox-${userId}.sqlite` },
  });
}

export function connect(database, connector) {
  return database.connect(connector, { connectionMethod: SyncStreamConnectionMethod.HTTP });
}
