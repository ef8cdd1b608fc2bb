// The always-visible sync status, and the banner for changes the server refused.

import { h, icon, replace } from './dom.js';
import { fullTime, parseTime, plural, relativeTime, uuid } from './format.js';

/**
 * Status pill: state (connecting / online / offline / problem), changes waiting to upload,
 * last synced time and the SDK's error. Click for the details.
 */
export function createSyncStatus(db, signal) {
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
  const panel = h('div', { class: 'sync-panel', id: 'sync-panel', hidden: true }, rows);
  const live = h('span', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const element = h('div', { class: 'sync', dataset: { state: 'connecting' } }, button, panel, live);

  let waiting = 0;
  let lastAnnounced = '';

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
    const error = flow.downloadError ?? flow.uploadError ?? null;
    const online = navigator.onLine !== false;
    let state;
    let text;
    if (status.connected) {
      // Upload failures are transient by construction (the connector throws only for
      // those): the SDK retries, so this is a wait, not an alarm.
      if (flow.uploadError) [state, text] = ['retrying', 'Upload will retry'];
      else if (flow.uploading || waiting > 0) [state, text] = ['uploading', 'Saving to server'];
      else [state, text] = ['online', 'Synced'];
    } else if (status.connecting && online) {
      [state, text] = ['connecting', 'Connecting…'];
    } else if (online && flow.downloadError) {
      [state, text] = ['problem', 'Sync problem'];
    } else {
      [state, text] = ['offline', 'Offline'];
    }
    const last = status.lastSyncedAt ?? null;
    const parts = [];
    if (waiting > 0) parts.push(`${plural(waiting, 'change')} waiting`);
    else if (last && state !== 'connecting') parts.push(relativeTime(last));
    return { state, text, detail: parts.join(' · '), last, error, status };
  }

  function render() {
    const info = describe();
    element.dataset.state = info.state;
    label.textContent = info.text;
    detail.textContent = info.detail;
    detail.hidden = !info.detail;
    button.title = info.error ? `${info.text}: ${info.error.message}` : info.text;
    replace(
      rows,
      fact('Connection', info.status.connected ? 'Online' : info.status.connecting ? 'Connecting' : 'Offline'),
      fact('Waiting to upload', waiting === 0 ? 'Nothing' : plural(waiting, 'change')),
      fact('Last synced', info.last ? `${relativeTime(info.last)} (${fullTime(info.last)})` : 'Not yet'),
      info.error ? fact('Error', info.error.message, 'error') : null,
    );
    const announce = `${info.text}${info.detail && waiting ? `, ${info.detail}` : ''}`;
    if (announce !== lastAnnounced) {
      live.textContent = announce;
      lastAnnounced = announce;
    }
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
  }, 3000);
  for (const name of ['online', 'offline']) window.addEventListener(name, render, { signal });
  signal.addEventListener('abort', () => {
    dispose();
    clearInterval(timer);
  });
  render();
  refreshWaiting();

  return { element, refreshWaiting, waiting: () => waiting };
}

function fact(name, value, kind = '') {
  return [h('dt', {}, name), h('dd', { class: kind }, value)];
}

/** Lists refused changes (rows of upload_rejections the user has not dismissed). */
export function createRejectionsBanner(db, signal, { onOpenNote }) {
  const element = h('section', {
    class: 'banner',
    role: 'region',
    'aria-label': 'Changes the server refused',
    hidden: true,
  });
  let shown = [];

  db.watch(
    `SELECT r.id, r.table_name, r.row_id, r.op, r.code, r.message, r.data, r.created_at,
            n.title AS note_title, n.id AS note_id
       FROM upload_rejections r
       LEFT JOIN notes n ON n.id = r.row_id
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
        : `Changes to ${groups.length} notes were not saved`;
    const items = groups.slice(0, 5).map((group) => h('li', {}, describeRejection(group, onOpenNote)));
    const more = groups.length > 5 ? h('li', {}, `and ${groups.length - 5} more`) : null;
    replace(
      element,
      icon('alert', 'banner-icon'),
      h('div', { class: 'banner-body' }, h('h2', {}, heading), h('ul', {}, items, more)),
      h('button', { class: 'button ghost banner-dismiss', type: 'button', onclick: dismiss }, 'Dismiss'),
    );
  }

  async function dismiss() {
    const ids = shown.map((row) => row.id);
    await db.writeTransaction(async (tx) => {
      for (const id of ids) {
        await tx.execute('INSERT INTO dismissed_rejections (id, rejection_id) VALUES (?, ?)', [uuid(), id]);
      }
    });
  }

  return { element };
}

// Refusals of shared notebooks, said the way a member would put it.
const PLAIN_REASONS = {
  READ_ONLY: 'you can only view this notebook, so your edit was undone',
  NOT_A_MEMBER: 'you are not a member of that notebook (any more)',
  OWNERS_ONLY: 'only the notebook’s owners can delete it',
};

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

function describeRejection(group, onOpenNote) {
  const [latest] = group;
  const titles = [latest.note_title, ...group.map((row) => parseData(row.data).title)];
  const title = (titles.find((t) => typeof t === 'string' && t.trim()) ?? '').trim();
  const what = { notes: 'note', notebooks: 'notebook' }[latest.table_name] ?? `${latest.table_name} row`;
  // An edit's data holds only what changed: no title there does not make the note untitled.
  const name = title ? `“${title}”` : latest.op === 'PATCH' ? `a ${what}` : `an untitled ${what}`;
  const reasons = [...new Set(group.map((row) => `${PLAIN_REASONS[row.code] ?? row.message}${row.code ? ` (${row.code})` : ''}`))];
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
  return [
    group.length === 1 ? 'Your change to ' : `Your ${group.length} changes to `,
    target,
    group.length === 1 ? ' was refused: ' : ' were refused: ',
    h('span', { class: 'reason' }, reasons.join('; ')),
    when ? h('span', { class: 'when' }, ` · ${when}`) : null,
  ];
}

function parseData(data) {
  try {
    return (data && JSON.parse(data)) || {};
  } catch {
    return {};
  }
}
