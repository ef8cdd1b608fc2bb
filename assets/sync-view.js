// The always-visible sync status, and the banner for changes the server refused.

import { request } from './api.js';
import { h, icon, replace } from './dom.js';
import { clipWords, fullTime, parseTime, plural, relativeTime, uuid } from './format.js';
import { showDialog } from './ui.js';

/**
 * Status pill, built from facts only: how many changes wait to upload (the local queue),
 * how the last upload went, whether the PowerSync stream is connected, whether the browser
 * says it is online, and whether notebox itself answers (a small probe while the stream is
 * down, since PowerSync being unreachable says nothing about notebox). Click for the facts.
 * `connector` is the NoteboxConnector: it reports each upload's outcome.
 */
export function createSyncStatus(db, signal, connector) {
  const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
  const label = h('span', { class: 'sync-label' });
  const detail = h('span', { class: 'sync-detail' });
  const button = h(
    'button',
    { class: 'sync-pill', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'sync-panel' },
    dot,
    h('span', { class: 'sync-text' }, label, detail),
  );
  const rows = h('dl', { class: 'sync-facts' });
  const panel = h('div', { class: 'sync-panel', id: 'sync-panel', hidden: true, role: 'region', 'aria-label': 'Sync details' }, rows);
  // Announces only what a person needs to hear: going offline, a failure, the recovery. Not
  // the busy/idle flicker of every autosave.
  const live = h('span', { class: 'visually-hidden', role: 'status' });
  const element = h('div', { class: 'sync', dataset: { state: 'connecting' } }, button, panel, live);

  let waiting = 0;
  let reachable = null; // notebox answered the last request (null: not asked yet)
  let sessionEnded = false;
  let everConnected = false;
  let lastState = 'connecting';
  const startedAt = Date.now();

  button.addEventListener('click', () => setOpen(panel.hidden));
  document.addEventListener(
    'click',
    (event) => {
      if (!element.contains(event.target)) setOpen(false);
    },
    { signal },
  );
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden) {
      setOpen(false);
      button.focus();
    }
  });

  function setOpen(open) {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
  }

  function describe() {
    const status = db.currentStatus;
    const flow = status.dataFlowStatus ?? {};
    const online = navigator.onLine !== false;
    const upload = connector.lastUpload; // {ok, at, error} or null
    const uploadFailing = waiting > 0 && upload && !upload.ok;
    if (status.connected) everConnected = true;
    let state;
    let text;
    if (!online) [state, text] = ['offline', 'Offline'];
    else if (sessionEnded) [state, text] = ['signed-out', 'Log in to sync'];
    else if (reachable === false && (waiting > 0 || !status.connected)) [state, text] = ['unreachable', 'Server unreachable'];
    else if (uploadFailing) [state, text] = ['retrying', 'Upload failed, retrying'];
    else if (waiting > 0) [state, text] = ['uploading', 'Saving to server'];
    else if (status.connected) [state, text] = ['online', 'Synced'];
    // Starting up (or reconnecting briefly) is not a failure.
    else if (!everConnected && !flow.downloadError && Date.now() - startedAt < 15_000) [state, text] = ['connecting', 'Connecting…'];
    else if (status.connecting && !flow.downloadError) [state, text] = ['connecting', 'Connecting…'];
    else [state, text] = ['sync-down', 'Not receiving changes'];
    const last = status.lastSyncedAt ?? null;
    let detailText = '';
    if (waiting > 0) detailText = `${plural(waiting, 'change')} waiting`;
    else if (last && state === 'online') detailText = relativeTime(last);
    return { state, text, detail: detailText, last, status, online, upload, flow };
  }

  function render() {
    const info = describe();
    element.dataset.state = info.state;
    label.textContent = info.text;
    detail.textContent = info.detail;
    detail.hidden = !info.detail;
    button.title = `${info.text}${info.detail ? ` · ${info.detail}` : ''}`;
    const stream = info.status.connected
      ? 'Connected'
      : info.state === 'connecting' ? 'Connecting' : info.flow.downloadError ? `Unreachable: ${readable(info.flow.downloadError)}` : 'Not connected';
    replace(
      rows,
      fact('This device', info.online ? 'Online' : 'Offline (no network)'),
      fact('notebox server', reachable === null ? 'Not asked yet' : reachable ? 'Reachable' : 'Unreachable'),
      fact('Sync service', stream),
      fact('Waiting to upload', waiting === 0 ? 'Nothing' : plural(waiting, 'change')),
      fact('Last upload', info.upload ? uploadText(info.upload) : 'None yet', info.upload && !info.upload.ok ? 'error' : ''),
      fact('Last synced', info.last ? `${relativeTime(info.last)} (${fullTime(info.last)})` : 'Not yet'),
    );
    if (info.state !== lastState) {
      const worth = ['offline', 'signed-out', 'unreachable', 'retrying', 'sync-down'];
      // Back to normal after trouble is news; busy ↔ synced flicker is not.
      if (worth.includes(info.state) || (info.state === 'online' && worth.includes(lastState))) live.textContent = info.text;
      lastState = info.state;
    }
    probeWhenNeeded(info);
  }

  // notebox's own reachability: asked while the stream is down or uploads fail (cheap,
  // unauthenticated, never cached by the service worker: it is under /api).
  let probing = false;
  let probedAt = 0;
  async function probeWhenNeeded(info) {
    const needed = info.online && !sessionEnded && (!info.status.connected || (info.upload && !info.upload.ok && waiting > 0) || reachable === false);
    if (!needed || probing || Date.now() - probedAt < 5000) return;
    probing = true;
    probedAt = Date.now();
    try {
      const response = await fetch('/api/data/limits', { cache: 'no-store', signal });
      setReachable(response.ok || response.status < 500);
    } catch {
      if (!signal.aborted) setReachable(false);
    } finally {
      probing = false;
    }
  }

  function setReachable(value) {
    if (reachable === value) return;
    reachable = value;
    render();
  }

  async function refreshWaiting() {
    try {
      const stats = await db.getUploadQueueStats();
      if (stats.count !== waiting) {
        waiting = stats.count;
        render();
      }
    } catch {
      // The database is closing (logout); nothing to show.
    }
  }

  const onConnector = () => {
    if (connector.reachable != null) reachable = connector.reachable;
    refreshWaiting();
    render();
  };
  connector.addEventListener('change', onConnector);
  const dispose = db.registerListener({
    statusChanged: () => {
      render();
      refreshWaiting();
    },
  });
  // The queue count has no change event of its own: ask after writes and every few seconds.
  const timer = setInterval(() => {
    refreshWaiting();
    render();
  }, 2000);
  for (const name of ['online', 'offline']) {
    window.addEventListener(name, () => {
      probedAt = 0;
      render();
    }, { signal });
  }
  signal.addEventListener('abort', () => {
    dispose();
    clearInterval(timer);
    connector.removeEventListener('change', onConnector);
  });
  render();
  refreshWaiting();

  return {
    element,
    refreshWaiting,
    waiting: () => waiting,
    /** The session ended (true) or came back after a new login (false). */
    setSessionEnded(ended) {
      sessionEnded = ended;
      render();
    },
  };
}

function uploadText(upload) {
  const when = relativeTime(upload.at);
  return upload.ok ? `Succeeded ${when}` : `Failed ${when}: ${upload.error}`;
}

/** An SDK or fetch error as a sentence a person can read. */
function readable(error) {
  const message = error?.message ?? String(error ?? '');
  if (/failed to fetch|networkerror|load failed|network error/i.test(message)) return 'could not connect';
  return message;
}

/**
 * Calls `onRefused` when the server refuses a change to note `id` (a refusal not dismissed
 * yet counts once, when the watch starts), until `signal` aborts.
 */
export function watchRefusals(db, id, signal, onRefused) {
  let seen = null;
  db.watch(
    `SELECT id FROM upload_rejections WHERE row_id = ? AND id NOT IN (SELECT rejection_id FROM dismissed_rejections)
      ORDER BY created_at DESC LIMIT 1`,
    [id],
    {
      onResult: (result) => {
        const refusal = result.rows?._array?.[0]?.id ?? null;
        if (signal.aborted || !refusal || refusal === seen) return;
        seen = refusal;
        onRefused();
      },
      onError: (e) => console.error(e),
    },
    { signal, throttleMs: 30 },
  );
}

function fact(name, value, kind = '') {
  return [h('dt', {}, name), h('dd', { class: kind }, value)];
}

/**
 * Lists refused changes (rows of upload_rejections the user has not dismissed), each with
 * its reason in plain words and a way to get the refused text back. Dismissing hides them
 * here at once (dismissed_rejections, local) and deletes them on the server, which syncs the
 * deletion to every other device; a dismissal made offline is sent when notebox answers.
 */
export function createRejectionsBanner(db, signal, { onOpenNote, toaster }) {
  const element = h('section', {
    class: 'banner',
    role: 'region',
    'aria-label': 'Changes the server refused',
    hidden: true,
  });
  let shown = [];

  db.watch(
    `SELECT r.id, r.table_name, r.row_id, r.op, r.code, r.message, r.data, r.created_at,
            n.title AS note_title, n.id AS note_id, t.data AS kept_data
       FROM upload_rejections r
       LEFT JOIN notes n ON n.id = r.row_id
       LEFT JOIN refused_texts t ON t.id = r.row_id
      WHERE r.id NOT IN (SELECT rejection_id FROM dismissed_rejections)
      ORDER BY r.created_at DESC`,
    [],
    { onResult: (result) => render(result.rows?._array ?? []), onError: (e) => console.error(e) },
    { signal, throttleMs: 50 },
  );

  function render(rows) {
    shown = rows;
    element.hidden = rows.length === 0;
    if (rows.length === 0) return element.replaceChildren();
    const groups = groupByRow(rows);
    const heading =
      groups.length === 1
        ? rows.length === 1 ? 'A change was not saved' : 'Some changes were not saved'
        : `Changes to ${plural(groups.length, 'note')} were not saved`;
    const items = groups.slice(0, 5).map((group) => h('li', {}, describeRejection(group, onOpenNote, copyText)));
    const more = groups.length > 5 ? h('li', {}, `and ${plural(groups.length - 5, 'more note', 'more notes')}`) : null;
    replace(
      element,
      icon('alert', 'banner-icon'),
      h('div', { class: 'banner-body' }, h('h2', {}, heading), h('ul', {}, items, more)),
      h('button', { class: 'button ghost banner-dismiss', type: 'button', onclick: dismiss }, 'Dismiss'),
    );
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      toaster.show('Your text is on the clipboard.');
    } catch {
      showTextDialog(text);
    }
  }

  async function dismiss() {
    const ids = shown.map((row) => row.id);
    await db.writeTransaction(async (tx) => {
      for (const id of ids) {
        await tx.execute('INSERT INTO dismissed_rejections (id, rejection_id) VALUES (?, ?)', [uuid(), id]);
      }
    });
    sendDismissals();
  }

  // Dismissed here but still on the server: ask the server to delete them (again).
  let sending = false;
  async function sendDismissals() {
    if (sending || signal.aborted) return;
    sending = true;
    try {
      const rows = await db.getAll(
        'SELECT DISTINCT rejection_id AS id FROM dismissed_rejections WHERE rejection_id IN (SELECT id FROM upload_rejections) LIMIT 100',
      );
      if (rows.length) await request('POST', '/api/data/rejections/dismiss', { ids: rows.map((r) => r.id) });
    } catch {
      // Offline or logged out: tried again on the next start and when the browser is back online.
    } finally {
      sending = false;
    }
  }
  window.addEventListener('online', sendDismissals, { signal });
  db.waitForFirstSync({ signal }).then(sendDismissals).catch(() => {});

  return { element };
}

/** The refused text in a dialog, selected, for when the clipboard is not available. */
function showTextDialog(text) {
  const area = h('textarea', { class: 'refused-text', id: 'refused-text', readonly: true, rows: 10 }, text);
  area.value = text;
  const close = h('button', { class: 'button primary', type: 'button' }, 'Done');
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': 'refused-title' },
    h('h2', { id: 'refused-title' }, 'Your text'),
    h('label', { for: 'refused-text', class: 'muted' }, 'Copy it from here and paste it where you want it.'),
    area,
    h('div', { class: 'dialog-actions' }, close),
  );
  close.addEventListener('click', () => dialog.close());
  showDialog(dialog, { focus: area });
  area.select();
}

// Why the server refused a change, in words a person uses. By notebox's codes first, then
// by the Postgres error class the upload hit (never the SQL text itself).
const PLAIN_REASONS = {
  READ_ONLY: 'you can only view this notebook, so your edit was undone',
  NOT_A_MEMBER: 'you are not a member of that notebook (any more)',
  OWNERS_ONLY: 'only the notebook’s owners can delete it',
  VALUE_TOO_LARGE: 'the note is larger than the server accepts; shorten it and it will sync',
  TRANSACTION_TOO_LARGE: 'the change is too large to upload in one go; shorten the note and it will sync',
  NUL_CHARACTER: 'it contains an invisible character that cannot be stored; retype the text around it',
  UNKNOWN_COLUMN: 'this version of the app sent something the server does not know; reload the page',
  UNKNOWN_TABLE: 'this version of the app sent something the server does not know; reload the page',
  OWNER_MISMATCH: 'it belongs to someone else',
  NOT_OWNER: 'that note belongs to someone else',
  ID_MISMATCH: 'the app sent a malformed change; reload the page',
  INVALID_ID: 'the app sent a malformed change; reload the page',
};

/** A plain reason for a rejection row: its code, or its SQLSTATE class and constraint. */
export function plainReason(row) {
  if (PLAIN_REASONS[row.code]) return PLAIN_REASONS[row.code];
  const code = String(row.code ?? '');
  const message = String(row.message ?? '');
  if (code === '23514') {
    if (/_title_check/.test(message)) return 'the title is longer than 1,000 characters';
    if (/_name_check/.test(message)) return 'the name is longer than 200 characters';
    return 'a value is outside what notebox allows';
  }
  if (code === '22001' || code.startsWith('54')) return 'a value is too long';
  if (code === '23505') return 'it clashes with something that already exists';
  if (code === '23503') return 'what it belongs to no longer exists';
  if (code === '23502') return 'something it needs was left empty';
  if (code.startsWith('22')) return 'a value is not in a form notebox can store';
  if (code.startsWith('23')) return 'it breaks one of notebox’s rules';
  if (code.startsWith('P0')) return 'notebox does not allow this change';
  return 'the server could not store it';
}

/** What was refused, as text to give back (title and body), or null when nothing is known. */
export function refusedText(rows) {
  for (const row of rows) {
    const data = { ...parseData(row.kept_data), ...parseData(row.data) };
    const parts = [data.title, data.body].filter((part) => typeof part === 'string' && part.length);
    if (parts.length) return parts.join('\n\n');
  }
  return null;
}

/** One entry per refused row (a note edited three times while refused is one line). */
function groupByRow(rows) {
  const groups = new Map();
  for (const row of rows) {
    const key = `${row.table_name}/${row.row_id}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  return [...groups.values()];
}

function describeRejection(group, onOpenNote, copyText) {
  const [latest] = group;
  const titles = [latest.note_title, ...group.map((row) => parseData(row.data).title), ...group.map((row) => parseData(row.kept_data).title)];
  const title = (titles.find((t) => typeof t === 'string' && t.trim()) ?? '').trim();
  const what = { notes: 'note', notebooks: 'notebook' }[latest.table_name] ?? 'item';
  // An edit's data holds only what changed: no title there does not make the note untitled.
  const name = title ? `“${clipWords(title, 60)}”` : latest.op === 'PATCH' ? `a ${what}` : `an untitled ${what}`;
  const reasons = [...new Set(group.map(plainReason))];
  const codes = [...new Set(group.map((row) => row.code).filter(Boolean))];
  const when = relativeTime(parseTime(latest.created_at));
  const target = latest.note_id
    ? h('a', {
        href: `/notes/${latest.note_id}`,
        onclick: (event) => {
          event.preventDefault();
          onOpenNote(latest.note_id);
        },
      }, name)
    : h('strong', {}, name);
  const text = refusedText(group);
  return [
    group.length === 1 ? 'Your change to ' : `Your ${group.length} changes to `,
    target,
    group.length === 1 ? ' was not saved: ' : ' were not saved: ',
    h('span', { class: 'reason', title: codes.length ? `Code ${codes.join(', ')}` : '' }, `${reasons.join('; ')}.`),
    when ? h('span', { class: 'when' }, ` · ${when}`) : null,
    text ? h('button', { class: 'button ghost banner-copy', type: 'button', onclick: () => copyText(text) }, 'Copy my text') : null,
  ];
}

function parseData(data) {
  try {
    return (data && JSON.parse(data)) || {};
  } catch {
    return {};
  }
}
