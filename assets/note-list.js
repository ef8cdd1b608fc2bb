// The list of notes in the selected notebook (or Personal), fast at 10,000 notes: the ids in
// order (pinned first, then the chosen sort, or a search's best matches: list-order.js), and
// only the rows on screen in the page, their text read when they scroll into view and updated
// in place; a note written here shows what was written at once. One Tab stop: a listbox whose
// arrow keys move the active row. After a reload it shows the first screen saved on this device
// (first-screen.js) until the database answers.

import { h, icon, replace } from './dom.js';
import { conflictBadge } from './conflict-view.js';
import { MAX_ROWS } from './first-screen.js';
import { fullTime, parseTime, plural, relativeTime } from './format.js';
import { SORTS, rowsQuery, snippetLength } from './list-queries.js';
import { createListOrder } from './list-order.js';
import { highlight, snippetText } from './list-text.js';

const SORT_KEY = 'notebox.sort';
const OVERSCAN = 8; // rows drawn above and below the visible ones
const FETCH_MARGIN = 24; // rows read ahead, so a scroll rarely waits for the database
// The read ahead waits this long after the rows on screen are read: the database answers one
// statement at a time, and a search typed meanwhile (or cleared and typed again) would wait
// behind it, 10-20 ms and more at 10,000 notes.
const READ_AHEAD_DELAY = 150;

/**
 * @param {{onOpen: (id: string, opts?: {focus?: string}) => void, onDelete: (id: string) => void,
 *          onCreate: () => void, onTogglePin: (id: string) => void, ready?: Promise, firstScreen?}} hooks
 *   ready: resolves when the search index exists (searches wait for it, the list does not);
 *   firstScreen: the user's saved first screen (first-screen.js), shown until the database answers.
 */
export function createNoteList(db, signal, { onOpen, onDelete, onCreate, onTogglePin, ready = Promise.resolve(), firstScreen }) {
  const search = h('input', {
    class: 'search-input',
    type: 'search',
    placeholder: 'Search notes',
    'aria-label': 'Search notes',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const count = h('p', { class: 'list-count', 'aria-live': 'polite' });
  const sortSelect = h(
    'select',
    { class: 'sort-select', 'aria-label': 'Sort notes by', title: 'Sort notes (pinned notes stay first)' },
    Object.entries(SORTS).map(([value, { label }]) => h('option', { value }, label)),
  );
  const sizer = h('div', { class: 'note-list-sizer', role: 'presentation' });
  const list = h('div', { class: 'note-list', role: 'listbox', tabindex: '0', 'aria-label': 'Notes' }, sizer);
  const empty = h('div', { class: 'list-empty', hidden: true });
  const opening = h('span', { class: 'list-opening', hidden: true }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Opening…');

  let ids = []; // the list's order (list-order.js)
  const rows = new Map(); // id → the row's text, for rows on or near the screen
  let generation = 0; // rows read before the last change are shown until read again
  const drawn = new Map(); // id → its element in the sizer
  let query = '';
  let sort = SORTS[localStorage.getItem(SORT_KEY)] ? localStorage.getItem(SORT_KEY) : 'edited';
  let scope = null; // null: Personal; else a notebook id
  let canWrite = true;
  let selectedId = null;
  let activeId = null;
  let started = false;
  let loaded = false;
  let fetching = null; // the read of rows under way
  let fetchAgain = false;
  let readAhead = 0; // the timer of the read ahead
  let rowHeight = 0;
  let saved = null; // {count, length}: the saved first screen is shown, the database has not answered
  let firstLoaded;
  const firstLoad = new Promise((resolve) => { firstLoaded = resolve; });
  sortSelect.value = sort;

  // ---- data ----------------------------------------------------------------------------
  const order = createListOrder(db, signal, {
    ready,
    onRead: () => {
      ids = order.ids;
      if (!loaded) performance.mark('notebox:list-ids');
      loaded = true;
      saved = null;
      renderBusy();
      if (!ids.length) firstLoaded();
      generation += 1; // anything may have changed: read the rows on screen again,
      // but for those read with the ids.
      for (const row of order.rows) if (!order.waits(row.id)) rows.set(row.id, { ...row, generation });
      refreshRows();
      renderCount();
      renderEmpty();
    },
    onError: (error) => {
      console.error(error);
      firstLoaded();
    },
    // The database answered for a view no longer shown (a search typed meanwhile): the list
    // counts as shown, or that search would wait for the index forever.
    onDiscarded: () => firstLoaded(),
  });
  const showView = (options) => {
    order.show({ scope, sort, query }, options);
    ids = order.ids;
  };

  /**
   * A note written on this device (row: as written; null: deleted) shows where it belongs
   * in the list at once, without waiting for the database to say so; `write` is the write.
   */
  function showWritten(id, row, write) {
    if (row) rows.set(id, { ...listRow(row, rows.get(id)), generation });
    order.written(id, row, write);
    refreshRows();
    renderCount();
    renderEmpty();
  }

  /** A note as a row of the list shows it (rowsQuery's columns). */
  function listRow(note, before) {
    return {
      id: note.id,
      title: (note.title ?? '').slice(0, 300),
      snippet: (note.body ?? '').slice(0, snippetLength(query)),
      updated_at: note.updated_at,
      created_at: note.created_at,
      pinned: note.pinned ? 1 : 0,
      conflicted: before?.conflicted ?? 0,
    };
  }

  /**
   * Reads the rows on the screen that are not read yet and draws them, then those near it
   * (read ahead, so a scroll rarely waits for the database).
   */
  function refreshRows() {
    clearTimeout(readAhead);
    if (fetching) {
      fetchAgain = true;
      return draw();
    }
    if (!loaded) return draw(); // no rows to read before the ids
    // A note written here shows what was written until the database has it.
    const stale = (id) => !order.waits(id) && rows.get(id)?.generation !== generation;
    const [from, to] = visibleRange(FETCH_MARGIN);
    let wanted = ids.slice(...visibleRange(0)).filter(stale);
    const onScreen = wanted.length > 0;
    if (!onScreen) wanted = ids.slice(from, to).filter(stale);
    if (!wanted.length) {
      if (loaded) firstLoaded();
      return draw();
    }
    draw();
    const reading = generation;
    fetching = db.getAll(...rowsQuery(wanted, query))
      .then((found) => {
        if (!performance.getEntriesByName('notebox:list-rows').length) performance.mark('notebox:list-rows');
        for (const row of found) {
          // A row read since (with a search's ids) is newer.
          if (!order.waits(row.id) && !(rows.get(row.id)?.generation > reading)) rows.set(row.id, { ...row, generation: reading });
        }
        // Only rows near the screen are worth keeping.
        if (rows.size > 4 * FETCH_MARGIN + 200) {
          const near = new Set(ids.slice(from, to));
          for (const id of rows.keys()) if (!near.has(id) && !order.waits(id)) rows.delete(id);
        }
        return found.length;
      })
      .catch((error) => {
        console.error(error);
        return 0;
      })
      .then((read) => {
        fetching = null;
        draw();
        firstLoaded();
        remember();
        // (Rows gone from the database are not asked for again: the ids' next read drops them.)
        if (fetchAgain || reading !== generation) {
          fetchAgain = false;
          refreshRows();
        } else if (onScreen && read && !signal.aborted) {
          readAhead = setTimeout(refreshRows, READ_AHEAD_DELAY);
        }
      });
  }
  db.onChange({
    onChange: () => {
      generation += 1;
      refreshRows();
    },
  }, { tables: ['note_conflicts'], signal, throttleMs: 100 });

  // ---- drawing -------------------------------------------------------------------------
  function measure() {
    rowHeight = parseFloat(getComputedStyle(list).getPropertyValue('--note-row')) || 84;
  }

  function visibleRange(margin) {
    if (!rowHeight) measure();
    const height = list.clientHeight || 800;
    // Where the list will be scrolled to once it is laid out: a list grown shorter than the
    // scroll position is scrolled up to its end.
    const top = Math.min(list.scrollTop, Math.max(0, ids.length * rowHeight - height));
    const from = Math.max(0, Math.floor(top / rowHeight) - margin);
    const to = Math.min(ids.length, Math.ceil((top + height) / rowHeight) + margin);
    return [from, to];
  }

  /** Puts the rows in view in the page (and only those), each where it belongs. */
  function draw() {
    // Read before the page changes: read after, the scroll position would lay the page out
    // at once (2-15 ms of a search's result on a busy machine), and again for the frame.
    const [from, to] = visibleRange(OVERSCAN);
    sizer.style.height = `${ids.length * rowHeight}px`;
    list.hidden = loaded && ids.length === 0;
    const keep = new Map(); // id → position
    for (let index = from; index < to; index += 1) keep.set(ids[index], index);
    // The active row stays in the page while the list has focus (aria-activedescendant).
    if (activeId && !keep.has(activeId) && document.activeElement === list) {
      const index = ids.indexOf(activeId);
      if (index >= 0) keep.set(activeId, index);
    }
    for (const [id, el] of drawn) {
      if (!keep.has(id)) {
        el.remove();
        drawn.delete(id);
      }
    }
    const now = new Date();
    for (const [id, index] of keep) {
      let el = drawn.get(id);
      if (!el) {
        el = h('div', { class: 'note-item', role: 'option', id: `note-${id}`, dataset: { id } });
        drawn.set(id, el);
        sizer.append(el);
      }
      fill(el, rows.get(id), now);
      el.style.transform = `translateY(${index * rowHeight}px)`;
      el.setAttribute('aria-posinset', String(index + 1));
      el.setAttribute('aria-setsize', String(ids.length));
      el.setAttribute('aria-selected', String(id === selectedId));
      el.classList.toggle('active', id === activeId);
    }
    // The page's order is the list's order (screen readers, find in page).
    const ordered = [...keep].sort((a, b) => a[1] - b[1]);
    ordered.forEach(([id], position) => {
      const el = drawn.get(id);
      if (sizer.children[position] !== el) sizer.insertBefore(el, sizer.children[position] ?? null);
    });
    if (activeId && drawn.has(activeId)) list.setAttribute('aria-activedescendant', `note-${activeId}`);
    else list.removeAttribute('aria-activedescendant');
  }

  /**
   * A row's content, rebuilt only when what it shows changed; the time ("5 min ago") is
   * updated in place, so the element under a pointer is never swapped as the minutes pass.
   */
  function fill(el, row, now) {
    const when = parseTime(row?.[sort === 'created' ? 'created_at' : 'updated_at']);
    const key = row ? JSON.stringify([row.title, row.snippet, row.pinned, row.conflicted, query, when?.getTime()]) : '';
    if (el.dataset.key !== key || !el.hasChildNodes()) {
      el.dataset.key = key;
      if (!row) {
        el.classList.add('loading');
        return replace(el, h('span', { class: 'note-title' }, ' '));
      }
      const title = row.title?.trim() || 'Untitled';
      el.classList.remove('loading');
      el.classList.toggle('untitled', !row.title?.trim());
      el.classList.toggle('pinned', Boolean(row.pinned));
      replace(
        el,
        h('span', { class: 'note-title' }, row.pinned ? pinMark() : null, highlight(title, query)),
        h('time', { class: 'note-time', datetime: when?.toISOString() ?? '', title: fullTime(when) }),
        h('span', { class: 'note-snippet' }, row.conflicted ? conflictBadge() : null, highlight(snippetText(row.snippet, query), query)),
      );
    }
    const time = el.querySelector('.note-time');
    const ago = relativeTime(when, now);
    if (time && time.textContent !== ago) time.textContent = ago;
  }

  /** The saved first screen, when there is one for this notebook and sort. */
  function showSaved() {
    const screen = firstScreen?.load(scope, sort);
    if (!screen?.rows.length) return;
    order.seed(screen.rows.map((row) => row.id), screen.rows.filter((row) => row.pinned).length);
    ids = order.ids;
    for (const row of screen.rows) rows.set(row.id, { ...row, generation: -1 });
    saved = { count: screen.count, length: ids.length };
    renderCount();
  }

  /** Keeps the top of the live list (the rows a reload shows first), once it is all read. */
  function remember() {
    if (!firstScreen || !loaded || saved || query || signal.aborted) return;
    const head = ids.slice(0, Math.min(MAX_ROWS, Math.ceil((list.clientHeight || 800) / rowHeight)));
    const found = head.map((id) => rows.get(id));
    if (found.some((row) => !row || row.generation !== generation)) return;
    firstScreen.save({ scope, sort, count: ids.length, rows: found });
  }

  function renderBusy() {
    opening.hidden = !saved;
    list.setAttribute('aria-busy', String(!loaded));
  }

  function renderCount() {
    const total = saved ? saved.count + ids.length - saved.length : ids.length;
    const text = query ? `${plural(total, 'match', 'matches')} for “${query}”` : plural(total, 'note');
    if (count.textContent !== text) count.textContent = text;
  }

  function renderEmpty() {
    empty.hidden = !loaded || ids.length > 0;
    if (empty.hidden) return;
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

  let scrolling = false;
  list.addEventListener('scroll', () => {
    if (scrolling) return;
    scrolling = true;
    requestAnimationFrame(() => {
      scrolling = false;
      refreshRows();
    });
  }, { passive: true });
  new ResizeObserver(() => {
    measure();
    refreshRows();
  }).observe(list);

  // ---- keyboard and pointer --------------------------------------------------------------
  /** Makes the row at `index` the active one and scrolls it into view. */
  function activate(index) {
    if (!ids.length) return;
    const at = Math.max(0, Math.min(index, ids.length - 1));
    activeId = ids[at];
    const top = at * rowHeight;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + rowHeight > list.scrollTop + list.clientHeight) list.scrollTop = top + rowHeight - list.clientHeight;
    refreshRows();
  }

  list.addEventListener('focus', () => {
    if (!activeId || !ids.includes(activeId)) activate(Math.max(0, ids.indexOf(selectedId)));
    else activate(ids.indexOf(activeId));
  });
  list.addEventListener('blur', () => draw());

  list.addEventListener('click', (event) => {
    const target = event.target.closest('.note-item');
    if (!target || event.button !== 0) return;
    activeId = target.dataset.id;
    onOpen(target.dataset.id);
  });

  list.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const index = ids.indexOf(activeId);
    const page = Math.max(1, Math.floor(list.clientHeight / rowHeight) - 1);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: ids.length - 1, PageDown: index + page, PageUp: index - page };
    if (event.key in moves) {
      event.preventDefault();
      if (event.key === 'ArrowUp' && index <= 0) return search.focus();
      return activate(moves[event.key]);
    }
    if (!activeId || index < 0) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onOpen(activeId, { focus: 'body' });
    } else if (event.key === 'Delete' && canWrite) {
      event.preventDefault();
      onDelete(activeId);
    } else if (event.key.toLowerCase() === 'p' && canWrite && !event.shiftKey) {
      event.preventDefault();
      onTogglePin(activeId);
    } else if (event.key === 'Escape' && query) {
      event.stopPropagation();
      setQuery('');
      search.focus();
    }
  });

  // ---- search and sort -----------------------------------------------------------------
  function setQuery(text) {
    if (search.value !== text) search.value = text;
    const next = text.trim();
    if (next === query) return;
    query = next;
    list.scrollTop = 0;
    activeId = null;
    showView();
  }
  search.addEventListener('input', () => setQuery(search.value));
  search.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      list.focus();
    } else if (event.key === 'Enter') {
      setQuery(search.value);
      if (ids[0]) onOpen(ids[0], { focus: 'body' });
    } else if (event.key === 'Escape' && search.value) {
      event.preventDefault();
      setQuery('');
    }
  });
  sortSelect.addEventListener('change', () => {
    sort = sortSelect.value;
    localStorage.setItem(SORT_KEY, sort);
    list.scrollTop = 0;
    showView();
  });

  // Relative times ("5 min ago") move on: redraw the rows on screen once a minute.
  const clock = setInterval(() => draw(), 60_000);
  signal.addEventListener('abort', () => {
    clearInterval(clock);
    clearTimeout(readAhead);
  });

  return {
    search,
    /** Settles when the list has shown its first notes (or failed to). */
    firstLoad,
    elements: [h('div', { class: 'list-head' }, count, opening, sortSelect), list, empty],
    clearSearch: () => setQuery(''),
    /** Shows another notebook (null: Personal); `writable` decides the empty state's offer. */
    setScope(next, writable) {
      canWrite = writable;
      if (next === scope && started) return renderEmpty();
      const first = !started;
      started = true;
      scope = next;
      // The previous notebook's notes go at once: a quick click must not open one of them.
      showView({ clear: true });
      loaded = false;
      saved = null;
      activeId = null;
      list.scrollTop = 0;
      if (first) showSaved();
      renderBusy();
      draw();
    },
    showWritten,
    markSelected(id) {
      selectedId = id;
      draw();
    },
    /** The position of a note in the list. */
    indexOf: (id) => ids.indexOf(id),
    /** Focuses the list on a note (by id or position); false when the list is empty. */
    focusNote(idOrIndex) {
      if (!ids.length) return false;
      const index = typeof idOrIndex === 'number' ? idOrIndex : Math.max(0, ids.indexOf(idOrIndex));
      activeId = ids[Math.max(0, Math.min(index, ids.length - 1))];
      list.focus();
      activate(ids.indexOf(activeId));
      return true;
    },
    firstId: () => ids[0] ?? null,
  };
}

/** A pin (stroke icon like the others in dom.js). */
export function pinIcon(extraClass = '') {
  const svg = h('svg:svg', { class: `icon ${extraClass}`.trim(), viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' });
  svg.append(h('svg:path', { d: 'M9 3h6l-1 6 4 4H6l4-4zM12 13v8' }));
  return svg;
}

/** The small pin shown before a pinned note's title. */
function pinMark() {
  return [pinIcon('pin-mark'), h('span', { class: 'visually-hidden' }, 'Pinned: ')];
}
