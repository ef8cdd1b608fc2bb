// The notes screen with 10,000 notes, in headless Chromium, measured against issue 11's
// targets: list usable < 1 s after a reload, a new / edited / deleted note in the list
// < 100 ms, search results < 100 ms from the keystroke, no long task > 50 ms while typing
// or idle (a full minute, so the list's clock tick is in it), scroll p95 frame < 20 ms.
// Prints one line per figure with its target and PASS/FAIL; exits 1 when one fails.
//
//   tests/browser/run.sh --bench          (starts notebox, the sync double and Postgres)
//   NOTES=20000 IDLE_SECONDS=10 tests/browser/run.sh --bench

import { PASSWORD, api, closeDb, createUser, logIn, openBrowser, poll, sql, waitSynced } from './lib.mjs';

const NOTES = Number(process.env.NOTES ?? 10_000);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 65);
const results = [];

function report(name, value, target, unit = 'ms') {
  const ok = value < target;
  results.push(ok);
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name.padEnd(44)} ${String(Math.round(value * 10) / 10).padStart(8)} ${unit}   (target < ${target} ${unit})`);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** Long tasks (> 50 ms) seen by the page since `since` (performance.now()). */
const longTasksSince = (page, since) =>
  page.evaluate((t) => (window.__longTasks ?? []).filter((task) => task.start >= t).map((task) => task.duration), since);

/**
 * Resolves with what `check` returns in the first animation frame where it is truthy: each
 * check ends in `&& performance.now()`, the moment it held. (A function, not a string: the
 * page's CSP forbids eval.)
 */
async function timeUntil(page, check, arg) {
  const handle = await page.waitForFunction(check, arg, { polling: 'raf', timeout: 30_000 });
  return handle.jsonValue();
}

/**
 * The ms from `action` (run in the page: it sets window.benchStart = performance.now() and
 * acts) to the first animation frame where `check` holds. The check polls from before the
 * action, so the figure does not include the round trip from this process to the page and
 * back (50–150 ms on a busy machine), only what the page does. Each check begins with
 * `window.benchPolling = true` and `window.benchStart !== null &&`.
 */
async function timeAction(page, action, check, arg) {
  await page.evaluate(() => { window.benchStart = null; window.benchPolling = false; });
  const done = page.waitForFunction(check, arg, { polling: 'raf', timeout: 30_000 });
  await poll(() => page.evaluate(() => window.benchPolling), { interval: 20, message: 'the check polling' });
  await page.evaluate(action, arg);
  const end = await (await done).jsonValue();
  return end - (await page.evaluate(() => window.benchStart));
}

async function seed(user) {
  await sql(
    `INSERT INTO notes (id, owner_id, title, body, created_at, updated_at)
     SELECT gen_random_uuid(), $1,
            (ARRAY['Groceries', 'Meeting notes', 'Pastéis de nata, the recipe', 'Trip to Lisbon', 'Book ideas',
                   'Garden plan', 'Weekly review', 'Café list'])[1 + i % 8] || ' ' || i,
            repeat('The quick brown fox jumps over the lazy dog; crème brûlée and bread for Sunday. ', 1 + i % 9)
              || CASE WHEN i % 97 = 0 THEN ' The pastéis at Belém were the best of the trip.' ELSE '' END
              || ' marker' || i,
            now() - make_interval(mins => i), now() - make_interval(mins => i)
       FROM generate_series(1, $2::int) AS i`,
    [user.id, NOTES],
  );
}

/** The admin, through the one-time setup link run.sh got: sign-up is closed until one exists. */
async function ensureAdmin() {
  if (!(await api('GET', '/api/auth/setup')).body.needs_setup) return;
  const setupToken = new URL(process.env.SETUP_LINK).searchParams.get('setup_token');
  const answer = await api('POST', '/api/auth/signup', {
    email: 'bench.admin@example.com', password: PASSWORD, display_name: 'Bench admin', setup_token: setupToken,
  });
  if (answer.status !== 201) throw new Error(`could not create the admin: ${answer.status} ${JSON.stringify(answer.body)}`);
}

async function main() {
  await ensureAdmin();
  const user = await createUser('Bench');
  await seed(user);
  const browser = await openBrowser();
  const { page } = browser;
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  const started = Date.now();
  await logIn(page, user);
  const total = NOTES.toLocaleString('en-US');
  await page.locator('.list-count', { hasText: `${total} notes` }).waitFor({ timeout: 300_000 });
  await waitSynced(page, 300_000);
  console.log(`# ${total} notes synced to the browser in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // The search index is built once per database, in the background: let it finish (the page
  // marks it; a fixed wait was too short when the index had prefix indexes), and the
  // warming that follows it settle, as it would before anyone reloads.
  await page.waitForFunction(() => performance.getEntriesByName('notebox:search-index-ready').length > 0, null, {
    timeout: 120_000,
  });
  await page.waitForTimeout(3000);

  // ---- list usable after a reload ------------------------------------------------------
  const loads = [];
  const details = [];
  for (let i = 0; i < 3; i += 1) {
    await page.reload({ waitUntil: 'commit' });
    // When it was usable, whether the rows were the saved first screen (the list still busy:
    // the database not open yet), and when the page's HTML had arrived, its last script had
    // arrived, and its scripts had run.
    const [usable, fromSaved, html, fetched, scripts] = await timeUntil(page, (expected) => {
      if (document.querySelector('.list-count')?.textContent !== expected) return false;
      if (!document.querySelector('.note-list .note-item:not(.loading) .note-title')) return false;
      const now = performance.now();
      const navigation = performance.getEntriesByType('navigation')[0];
      const scriptsFetched = Math.max(0, ...performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.js')).map((r) => r.responseEnd));
      return [now, document.querySelector('.note-list')?.getAttribute('aria-busy') === 'true', navigation?.responseEnd ?? 0, scriptsFetched, navigation?.domContentLoadedEventStart ?? 0];
    }, `${total} notes`);
    loads.push(usable);
    details.push(`${Math.round(usable)} ms (${fromSaved ? 'saved first screen' : 'live list'}; HTML ${Math.round(html)} ms, scripts fetched ${Math.round(fetched)} ms, run ${Math.round(scripts)} ms)`);
  }
  report('list usable after reload (worst of 3)', Math.max(...loads), 1000);
  console.log(`#   loads: ${details.join('; ')}`);
  // The marks of the last load, once the live list replaced the first screen saved on the device.
  await page.waitForFunction(() => performance.getEntriesByName('notebox:list-rows').length, null, { timeout: 30_000 });
  const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => `${m.name} ${Math.round(m.startTime)} ms`));
  console.log(`#   last load: ${marks.join(', ')}; usable ${Math.round(loads[loads.length - 1])} ms`);
  const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
  console.log(`# DOM elements on the notes screen: ${nodes}`);

  // ---- idle ----------------------------------------------------------------------------
  await waitSynced(page);
  let since = await page.evaluate(() => performance.now());
  await page.waitForTimeout(IDLE_SECONDS * 1000);
  const idle = await longTasksSince(page, since);
  report(`longest task while idle (${IDLE_SECONDS} s)`, Math.max(0, ...idle), 50);

  // ---- search --------------------------------------------------------------------------
  const searches = [];
  for (const query of ['pasteis', 'pasteis bel', 'cafe', 'the', 'marker9999', 'zebra']) {
    await page.evaluate(() => {
      const input = document.querySelector('.search-input');
      input.value = '';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await timeUntil(page, (expected) => document.querySelector('.list-count')?.textContent === expected && performance.now(), `${total} notes`);
    since = await page.evaluate(() => performance.now());
    const took = await timeAction(page, (q) => {
      const input = document.querySelector('.search-input');
      input.focus();
      input.value = q;
      window.benchStart = performance.now();
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, (q) => {
      window.benchPolling = true;
      const text = document.querySelector('.list-count')?.textContent ?? '';
      if (window.benchStart === null || !text.endsWith(`for “${q}”`)) return false;
      return (text.startsWith('0 ') || document.querySelector('.note-list .note-item:not(.loading) mark')) && performance.now();
    }, query);
    const count = await page.locator('.list-count').textContent();
    searches.push(took);
    console.log(`#   search “${query}”: ${took.toFixed(1)} ms (${count.replace(/ for .*/, '')})`);
  }
  report('search, keystroke to results (worst)', Math.max(...searches), 100);
  report('longest task while searching', Math.max(0, ...(await longTasksSince(page, since))), 50);
  await page.keyboard.press('Escape');
  await timeUntil(page, (expected) => document.querySelector('.list-count')?.textContent === expected && performance.now(), `${total} notes`);

  // ---- new, edited, deleted --------------------------------------------------------------
  const created = await timeAction(page, () => {
    window.benchStart = performance.now();
    document.querySelector('.new-note').click();
  }, () => {
    window.benchPolling = true;
    const id = location.pathname.split('/')[2];
    return window.benchStart !== null && id && document.querySelector(`.note-list .note-item[data-id="${id}"]:not(.loading)`) && performance.now();
  });
  report('new note in the list', created, 100);

  const title = page.getByLabel('Title');
  await title.fill('Edited for the bench');
  const edited = await timeAction(page, () => {
    window.benchStart = performance.now();
    document.querySelector('.title-input').blur(); // saves at once
  }, () => {
    window.benchPolling = true;
    return window.benchStart !== null &&
      [...document.querySelectorAll('.note-list .note-item .note-title')].some((el) => el.textContent === 'Edited for the bench') && performance.now();
  });
  report('edited note in the list', edited, 100);

  // ---- typing ----------------------------------------------------------------------------
  const body = page.getByLabel('Note', { exact: true });
  await body.click();
  since = await page.evaluate(() => performance.now());
  await body.pressSequentially('Typing into a list of ten thousand notes must never freeze the page. '.repeat(3), { delay: 40 });
  await page.waitForTimeout(1000);
  report('longest task while typing', Math.max(0, ...(await longTasksSince(page, since))), 50);

  const id = new URL(page.url()).pathname.split('/')[2];
  await page.getByRole('button', { name: 'Back to notes' }).click().catch(() => {});
  await page.locator('.note-list').focus();
  await poll(() => page.evaluate((nid) => document.querySelector('.note-list').getAttribute('aria-activedescendant') === `note-${nid}`, id), {
    message: 'the edited note active in the list',
  });
  const deleted = await timeAction(page, () => {
    window.benchStart = performance.now();
    document.querySelector('.note-list').dispatchEvent(new KeyboardEvent('keydown', { key: 'Delete', bubbles: true }));
  }, (nid) => {
    window.benchPolling = true;
    return window.benchStart !== null && !document.querySelector(`.note-list .note-item[data-id="${nid}"]`) && performance.now();
  }, id);
  report('deleted note gone from the list', deleted, 100);

  // ---- scroll ----------------------------------------------------------------------------
  since = await page.evaluate(() => performance.now());
  const frames = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const list = document.querySelector('.note-list');
        list.scrollTop = 0;
        const deltas = [];
        let last = performance.now();
        let n = 0;
        const step = (now) => {
          deltas.push(now - last);
          last = now;
          list.scrollTop += 240; // about three rows a frame: a brisk fling
          if ((n += 1) < 400) requestAnimationFrame(step);
          else resolve(deltas.slice(1));
        };
        requestAnimationFrame(step);
      }),
  );
  report('scroll frame p95 (400 frames)', percentile(frames, 95), 20);
  console.log(`#   scroll frames: median ${percentile(frames, 50).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms`);
  report('longest task while scrolling', Math.max(0, ...(await longTasksSince(page, since))), 50);

  await browser.close();
  const failed = results.filter((ok) => !ok).length;
  console.log(`# bench: ${results.length - failed} passed, ${failed} failed`);
  return failed;
}

main()
  .then(async (failed) => {
    await closeDb();
    process.exit(failed ? 1 : 0);
  })
  .catch(async (error) => {
    console.error(error);
    await closeDb();
    process.exit(1);
  });
