// Accessibility on every screen, light and dark (axe-core: no violation of impact moderate
// or worse), and the phone (390×844): every tap target at least 44×44 px, the note title
// wraps instead of being cut, the sync panel stays on screen and never covers Back. Also the
// installable manifest as the browser sees it.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { PHONE, closeDb, createUser, expectAxeClean, logIn, openBrowser, shot, sql } from '../lib.mjs';
import { createNotebook, seedNote } from '../teams.mjs';

let user;
before(async () => {
  user = await createUser('Ada Axe');
  const id = await seedNote(null, user, 'Plans for the garden', 'Tomatoes by the wall.\nBeans along the fence.', 2);
  await sql(
    `INSERT INTO note_conflicts (id, note_id, owner_id, notebook_id, column_name, base_text, kept_text, their_text, created_by, created_at)
     VALUES ($1, $2, $3, NULL, 'body', 'Tomatoes.', 'Tomatoes by the wall.\nBeans along the fence.', 'Tomatoes in pots.', $3, now())`,
    [randomUUID(), id, user.id],
  );
  // One version in the history, one note in the trash.
  await sql("UPDATE notes SET body = body || '\nPeas.', updated_at = now() WHERE id = $1", [id]);
  const gone = await seedNote(null, user, 'Old shopping list', 'Milk', 50);
  await sql('DELETE FROM notes WHERE id = $1', [gone]);
});
after(closeDb);

async function bothSchemes(page, label) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
    await expectAxeClean(page, `${label}, ${scheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
}

async function closeDialog(page) {
  await page.keyboard.press('Escape');
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
}

test('axe finds nothing on any screen, light or dark', async () => {
  const browser = await openBrowser();
  const { page, context } = browser;
  try {
    // First run (as a fresh install answers), then the login screen.
    await context.route('**/api/auth/setup', (route) => route.fulfill({ json: { needs_setup: true, signup: 'closed' } }));
    await page.goto('/?setup_token=example');
    await page.getByRole('heading', { name: 'Welcome to notebox' }).waitFor();
    await bothSchemes(page, 'first run');
    await context.unroute('**/api/auth/setup');
    await page.goto('/');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await bothSchemes(page, 'login');

    await logIn(page, user);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    await page.locator('.note-item', { hasText: 'Plans for the garden' }).waitFor();
    await bothSchemes(page, 'notes list');

    await page.locator('body').press('?');
    const shortcuts = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await shortcuts.waitFor();
    assert.match(await shortcuts.textContent(), /New note/);
    await bothSchemes(page, 'keyboard shortcuts');
    await closeDialog(page);

    await page.getByRole('searchbox', { name: 'Search notes' }).fill('garden');
    await page.locator('.note-item mark').first().waitFor();
    await bothSchemes(page, 'search results');
    await page.getByRole('searchbox', { name: 'Search notes' }).fill('');

    await page.locator('.note-item', { hasText: 'Plans for the garden' }).click();
    await page.getByLabel('Note', { exact: true }).waitFor();
    await bothSchemes(page, 'editor');

    await page.locator('.sync-pill').click();
    await bothSchemes(page, 'sync panel');
    await page.locator('.sync-pill').click();

    await page.getByRole('button', { name: 'Compare versions' }).click();
    await page.getByRole('dialog', { name: 'Edited in two places at once' }).waitFor();
    await bothSchemes(page, 'conflict dialog');
    await closeDialog(page);

    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('dialog', { name: /History of/ }).locator('li').first().waitFor({ timeout: 15_000 });
    await bothSchemes(page, 'history panel');
    await closeDialog(page);

    await page.getByRole('button', { name: 'Trash' }).click();
    await page.getByRole('dialog', { name: 'Trash' }).getByText('Old shopping list').waitFor({ timeout: 15_000 });
    await bothSchemes(page, 'trash');
    await closeDialog(page);

    await page.getByRole('button', { name: 'Add a notebook' }).click();
    await page.getByRole('dialog').waitFor();
    await bothSchemes(page, 'new notebook dialog');
    await closeDialog(page);

    await createNotebook(page, 'Garden club');
    await page.getByRole('button', { name: 'Share Garden club' }).click();
    await page.getByRole('dialog').first().waitFor();
    await bothSchemes(page, 'share dialog');
    await closeDialog(page);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('dialog').waitFor();
    await bothSchemes(page, 'log out question');
    await closeDialog(page);
  } finally {
    await browser.close();
  }
});

/** Visible tap targets smaller than 44×44 px (their names and sizes). */
async function smallTargets(page) {
  return page.evaluate(() => {
    const small = [];
    for (const el of document.querySelectorAll('button, a[href], select, input:not([type="hidden"]), [role="button"], summary')) {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (!box.width || !box.height || style.visibility === 'hidden' || el.closest('[hidden], [inert]')) continue;
      if (el.tagName === 'A' && el.closest('p, li') && !el.classList.contains('button')) continue; // a link in a sentence
      if (el.matches('input[type="text"], input[type="email"], input[type="password"], input[type="search"], textarea')) {
        if (box.height >= 44) continue;
      } else if (box.width >= 44 && box.height >= 44) continue;
      small.push(`${el.getAttribute('aria-label') ?? el.textContent.trim().slice(0, 30) ?? el.tagName} ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
    return small;
  });
}

test('phone: tap targets ≥ 44×44, the title wraps, the sync panel stays on screen and off Back', async () => {
  const browser = await openBrowser({ viewport: PHONE });
  const { page } = browser;
  try {
    await logIn(page, user);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    await page.locator('.note-item', { hasText: 'Plans for the garden' }).waitFor();
    assert.deepEqual(await smallTargets(page), [], 'notes list');
    assert.ok(await page.getByRole('button', { name: 'Log out' }).isVisible(), 'log out reachable on the phone');

    await page.getByRole('button', { name: 'New note' }).first().click();
    const title = page.getByLabel('Title');
    await title.fill('A rather long title for a note that will not fit on one line of a phone');
    assert.deepEqual(await smallTargets(page), [], 'editor');
    const fit = await title.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, height: el.getBoundingClientRect().height, line: parseFloat(getComputedStyle(el).lineHeight) }));
    assert.ok(fit.scroll <= fit.client, `the title is not cut (${fit.scroll} > ${fit.client})`);
    assert.ok(fit.height >= fit.line * 1.9, `the title wraps onto several lines (${fit.height}px, line ${fit.line}px)`);
    await shot(page, 'phone-editor-long-title');

    await page.locator('.sync-pill').click();
    const panel = await page.locator('.sync-panel').boundingBox();
    const back = await page.getByRole('button', { name: 'Back to notes' }).boundingBox();
    assert.ok(panel.x >= 0 && panel.y >= 0 && panel.x + panel.width <= PHONE.width && panel.y + panel.height <= PHONE.height, `panel on screen: ${JSON.stringify(panel)}`);
    const overlaps = !(panel.x + panel.width <= back.x || back.x + back.width <= panel.x || panel.y + panel.height <= back.y || back.y + back.height <= panel.y);
    assert.ok(!overlaps, `the panel does not cover Back: ${JSON.stringify({ panel, back })}`);
    assert.deepEqual(await smallTargets(page), [], 'sync panel open');
    await shot(page, 'phone-sync-panel');
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      await expectAxeClean(page, `phone editor with the sync panel, ${scheme}`);
    }
    await shot(page, 'phone-sync-panel-dark');
  } finally {
    await browser.close();
  }
});

test('the app is installable: a manifest with icons, linked from the page', async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await page.goto('/');
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    const manifest = await (await page.request.get(href)).json();
    assert.equal(manifest.display, 'standalone');
    assert.equal(manifest.start_url, '/');
    for (const icon of manifest.icons) {
      const response = await page.request.get(icon.src);
      assert.equal(response.status(), 200, icon.src);
    }
    assert.ok(manifest.icons.some((i) => i.sizes === '512x512' && i.type === 'image/png'));
    assert.ok(manifest.icons.some((i) => i.purpose === 'maskable'));
    // Chromium's own verdict on installability (DevTools protocol).
    const cdp = await page.context().newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors.map((e) => e.errorId), []);
  } finally {
    await browser.close();
  }
});

test('copy: counts with thousands separators, snippets cut at a word boundary', async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await page.goto('/');
    const out = await page.evaluate(async () => {
      const { clipWords, plural } = await import('/format.js');
      return {
        many: plural(10013, 'note'),
        one: plural(1, 'note'),
        clipped: clipWords('Tomatoes by the wall, beans along the fence and peas everywhere else', 40),
        short: clipWords('  Short\n\ntext ', 40),
      };
    });
    assert.equal(out.many, '10,013 notes');
    assert.equal(out.one, '1 note');
    assert.equal(out.clipped, 'Tomatoes by the wall, beans along the…');
    assert.equal(out.short, 'Short text');
  } finally {
    await browser.close();
  }
});

test('the service worker precaches what the app loads, and nothing it never loads', async () => {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await logIn(page, user);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload(); // now controlled: every file the app fetches passes the worker
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
    await page.locator('.note-item', { hasText: 'Plans for the garden' }).click();
    await page.getByLabel('Note', { exact: true }).waitFor();
    const { precache, cached } = await page.evaluate(async () => {
      const source = await (await fetch('/sw.js', { cache: 'no-store' })).text();
      const list = JSON.parse(source.match(/const PRECACHE = (\[.*?\]);/s)[1]);
      const keys = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) keys.push(new URL(request.url).pathname);
      }
      return { precache: list, cached: keys };
    });
    const loadedButNotPrecached = cached.filter((path) => !precache.includes(path));
    assert.deepEqual(loadedButNotPrecached, [], 'everything the app fetched was in the precache list');
    for (const never of ['/vendor/websockets-', '/vendor/OPFS', '/vendor/MemoryVFS-']) {
      assert.ok(!precache.some((p) => p.startsWith(never)), `${never}* is not precached`);
    }
  } finally {
    await browser.close();
  }
});
