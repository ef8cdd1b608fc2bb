// The list of notes in the selected notebook (or Personal): a live query on the local
// database filtered by the search, with its count, its empty state and arrow-key moves.

import { debounce, h, icon, replace } from './dom.js';
import { conflictBadge } from './conflict-view.js';
import { fullTime, parseTime, plural, relativeTime } from './format.js';

/**
 * @param {{onOpen: (id: string, opts?: {focus?: string}) => void,
 *          onDelete: (id: string) => void, onCreate: () => void}} hooks
 */
export function createNoteList(db, signal, { onOpen, onDelete, onCreate }) {
  const search = h('input', {
    class: 'search-input',
    type: 'search',
    placeholder: 'Search notes',
    'aria-label': 'Search notes',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const count = h('p', { class: 'list-count', 'aria-live': 'polite' });
  const list = h('ul', { class: 'note-list', 'aria-label': 'Notes' });
  const empty = h('div', { class: 'list-empty', hidden: true });
  let rows = [];
  let query = '';
  let scope = null; // null: Personal; else a notebook id
  let canWrite = true;
  let selectedId = null;
  let watch = null;

  function watchList() {
    watch?.abort();
    watch = new AbortController();
    signal.addEventListener('abort', () => watch.abort(), { once: true });
    const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    db.watch(
      `SELECT id, title, substr(body, 1, 400) AS snippet, updated_at,
              EXISTS (SELECT 1 FROM note_conflicts c WHERE c.note_id = notes.id) AS conflicted
         FROM notes
        WHERE (CASE WHEN ?3 = '' THEN notebook_id IS NULL ELSE notebook_id = ?3 END)
          AND (?1 = '' OR title LIKE ?2 ESCAPE '\\' OR body LIKE ?2 ESCAPE '\\')
        ORDER BY coalesce(julianday(replace(updated_at, ' ', 'T')), 0) DESC, updated_at DESC, id`,
      [query, pattern, scope ?? ''],
      { onResult: (result) => render(result.rows?._array ?? []), onError: (e) => console.error(e) },
      { signal: watch.signal, throttleMs: 30 },
    );
  }

  function render(next) {
    rows = next;
    const focusedId = document.activeElement?.closest?.('.note-item')?.dataset.id;
    const now = new Date();
    replace(list, rows.map((row) => item(row, now)));
    if (focusedId) list.querySelector(`[data-id="${focusedId}"]`)?.focus();
    const counted = query
      ? `${plural(rows.length, 'match', 'matches')} for “${query}”`
      : plural(rows.length, 'note');
    // A live region: rewriting the same words would announce them again on every save.
    if (count.textContent !== counted) count.textContent = counted;
    renderEmpty();
  }

  function item(row, now) {
    const title = row.title?.trim() || 'Untitled';
    const when = parseTime(row.updated_at);
    return h(
      'li',
      {},
      h(
        'a',
        {
          class: `note-item${row.title?.trim() ? '' : ' untitled'}`,
          href: `/notes/${row.id}`,
          dataset: { id: row.id },
          'aria-current': row.id === selectedId ? 'page' : null,
        },
        h('span', { class: 'note-title' }, highlight(title, query)),
        h('time', { class: 'note-time', datetime: when?.toISOString() ?? '', title: fullTime(when) }, relativeTime(when, now)),
        row.conflicted ? conflictBadge() : null,
        h('span', { class: 'note-snippet' }, highlight(snippetOf(row.snippet, query), query)),
      ),
    );
  }

  function renderEmpty() {
    empty.hidden = rows.length > 0;
    if (rows.length > 0) return;
    if (query) {
      replace(empty, h('p', { class: 'empty-title' }, 'No matches'), h('p', { class: 'muted' }, `Nothing here mentions “${query}”.`));
    } else if (!canWrite) {
      replace(empty, h('div', { class: 'empty-art', 'aria-hidden': 'true' }, icon('book')), h('p', { class: 'empty-title' }, 'No notes here yet'));
    } else {
      replace(
        empty,
        h('div', { class: 'empty-art', 'aria-hidden': 'true' }, icon('note')),
        h('p', { class: 'empty-title' }, scope ? 'No notes in this notebook yet' : 'No notes yet'),
        h('p', { class: 'muted' }, scope ? 'Notes here are shared with everyone in the notebook.' : 'Your first note is one click away. It will be on all your devices, even offline.'),
        h('button', { class: 'button primary', type: 'button', onclick: onCreate }, icon('plus'), h('span', {}, 'Write your first note')),
      );
    }
  }

  list.addEventListener('click', (event) => {
    const target = event.target.closest('.note-item');
    if (!target || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onOpen(target.dataset.id);
  });
  list.addEventListener('keydown', (event) => {
    const target = event.target.closest('.note-item');
    if (!target) return;
    const items = [...list.querySelectorAll('.note-item')];
    const index = items.indexOf(target);
    if (event.key === 'ArrowDown' && index < items.length - 1) {
      event.preventDefault();
      items[index + 1].focus();
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      (index > 0 ? items[index - 1] : search).focus();
    } else if (event.key === 'Delete' && canWrite) {
      event.preventDefault();
      onDelete(target.dataset.id);
    }
  });

  const runSearch = debounce(() => {
    query = search.value.trim();
    watchList();
  }, 60);
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      list.querySelector('.note-item')?.focus();
    } else if (event.key === 'Enter') {
      runSearch.flush();
      const first = list.querySelector('.note-item');
      if (first) onOpen(first.dataset.id, { focus: 'body' });
    } else if (event.key === 'Escape' && search.value) {
      search.value = '';
      runSearch.flush();
    }
  });

  // Refresh relative times now and then.
  const clock = setInterval(() => render(rows), 60000);
  signal.addEventListener('abort', () => clearInterval(clock));

  return {
    search,
    elements: [count, list, empty],
    clearSearch() {
      if (!search.value) return;
      search.value = '';
      runSearch.flush();
    },
    /** Shows another notebook (null: Personal); `writable` decides the empty state's offer. */
    setScope(next, writable) {
      canWrite = writable;
      if (next === scope && watch) return renderEmpty();
      scope = next;
      // The previous notebook's notes go at once: a quick click must not open one of them.
      replace(list);
      watchList();
    },
    markSelected(id) {
      selectedId = id;
      for (const el of list.querySelectorAll('.note-item')) {
        if (el.dataset.id === id) el.setAttribute('aria-current', 'page');
        else el.removeAttribute('aria-current');
      }
    },
    /** The position of a note in the list, and the item now at a position. */
    indexOf: (id) => rows.findIndex((r) => r.id === id),
    itemAt: (index) => list.querySelectorAll('.note-item')[Math.max(0, Math.min(index, rows.length - 1))] ?? null,
    item: (id) => list.querySelector(`[data-id="${id}"]`),
    first: () => list.querySelector('.note-item'),
  };
}

/** Around the first match of the query, so a hit deep in the body is visible in the list. */
function snippetOf(text, query) {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  if (!query) return flat.slice(0, 160);
  const at = flat.toLowerCase().indexOf(query.toLowerCase());
  if (at < 40) return flat.slice(0, 160);
  return `…${flat.slice(at - 30, at + 130)}`;
}

/** Text with every case-insensitive occurrence of `query` wrapped in <mark>. */
function highlight(text, query) {
  if (!query) return text;
  const parts = [];
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
    parts.push(text.slice(from, at), h('mark', {}, text.slice(at, at + needle.length)));
    from = at + needle.length;
  }
  parts.push(text.slice(from));
  return parts;
}
