// Notes render as Markdown: headings, emphasis, lists, links (new tab, no referrer), code,
// quotes; no HTML or script from a note ever runs; checklist ticks edit the body and reach
// Postgres like typing; a pasted image is explained, not lost in silence.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PHONE, DESKTOP, closeDb, createUser, expectAxeClean, logIn, openBrowser, poll, shot, sql } from '../lib.mjs';
import { bodyField, waitForBody } from '../edits.mjs';

let browser;
let user;
before(async () => {
  browser = await openBrowser();
  user = await createUser('Mara Markdown');
  await logIn(browser.page, user);
  await browser.page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
});
after(async () => {
  await browser?.close();
  await closeDb();
});

const noteId = (page) => new URL(page.url()).pathname.split('/').pop();

/** A new note written through the editor; waits until Postgres has it. */
async function writeNote(page, title, body) {
  await page.getByRole('button', { name: 'New note' }).first().click();
  await page.getByLabel('Title').fill(title);
  await bodyField(page).fill(body);
  const id = noteId(page);
  await waitForBody(id, (b) => b === body, `“${title}” in Postgres`);
  return id;
}

async function preview(page) {
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  const view = page.getByRole('region', { name: 'Rendered note' });
  await view.waitFor();
  return view;
}

async function edit(page) {
  await page.getByRole('button', { name: 'Edit', exact: true }).click();
  await bodyField(page).waitFor();
}

const SAMPLE = [
  '# Trip plan',
  '',
  'Pack *light*, **really** light.',
  '',
  '## Stops',
  '1. Lyon',
  '2. Turin',
  '',
  '- bread',
  '- cheese',
  '',
  'Tickets: [the rail site](https://rail.example.com/tickets) and `PNR-42`.',
  '',
  '> Travel is the only thing you buy that makes you richer.',
  '',
  '```',
  'let total = 3 * 42;',
  '```',
].join('\n');

test('a note renders as Markdown, and links open safely in a new tab', async () => {
  const { page } = browser;
  await writeNote(page, 'Trip plan', SAMPLE);
  const view = await preview(page);
  assert.equal(await view.locator('h1').textContent(), 'Trip plan');
  assert.equal(await view.locator('h2').textContent(), 'Stops');
  assert.equal(await view.locator('em').textContent(), 'light');
  assert.equal(await view.locator('strong').textContent(), 'really');
  assert.deepEqual(await view.locator('ol > li').allTextContents(), ['Lyon', 'Turin']);
  assert.deepEqual(await view.locator('ul > li').allTextContents(), ['bread', 'cheese']);
  assert.match(await view.locator('blockquote').textContent(), /makes you richer/);
  assert.equal(await view.locator('pre code').textContent(), 'let total = 3 * 42;\n');
  assert.equal(await view.locator('p code').textContent(), 'PNR-42');
  const link = view.getByRole('link', { name: 'the rail site' });
  assert.equal(await link.getAttribute('href'), 'https://rail.example.com/tickets');
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await bodyField(page).isVisible(), false, 'the text is hidden while previewing');

  await expectAxeClean(page, 'rendered note, light');
  await shot(page, 'markdown-desktop');
  await page.setViewportSize(PHONE);
  await shot(page, 'markdown-phone');
  const toggle = await page.getByRole('button', { name: 'Edit', exact: true }).boundingBox();
  assert.ok(toggle.width >= 44 && toggle.height >= 44, `the phone's toggle is a 44 px target: ${JSON.stringify(toggle)}`);
  await page.setViewportSize(DESKTOP);

  // The choice is remembered on this device; the text comes back as written.
  await page.reload();
  await page.getByRole('region', { name: 'Rendered note' }).locator('h1').waitFor();
  await edit(page);
  assert.equal(await bodyField(page).inputValue(), SAMPLE);
});

test('HTML and script in a note never run', async () => {
  const { page } = browser;
  const attacks = [
    '<script>window.__pwned = "script"</script>',
    '<img src="x" onerror="window.__pwned = \'onerror\'">',
    '[click me](javascript:window.__pwned=\'js-link\')',
    '[tricky](JaVaScRiPt:window.__pwned=\'js-case\')',
    '<a href="javascript:window.__pwned=\'raw-link\'">raw link</a>',
    '<iframe src="/" onload="window.__pwned = \'iframe\'"></iframe>',
    '<svg onload="window.__pwned = \'svg\'"><script>window.__pwned = "svg-script"</script></svg>',
    '![pic](x" onerror="window.__pwned=\'img-attr\')',
    '<details open ontoggle="window.__pwned = \'details\'">x</details>',
    '<form action="/api/auth/logout" method="post"><button>Log out</button></form>',
  ];
  await writeNote(page, 'Hostile', attacks.join('\n\n'));
  const view = await preview(page);
  await page.waitForTimeout(300); // give any handler that slipped through its chance to run
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing from the note ran');
  for (const tag of ['script', 'iframe', 'svg', 'img', 'form', 'details', 'button']) {
    assert.equal(await view.locator(tag).count(), 0, `no <${tag}> in the rendered note`);
  }
  const hrefs = await view.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  assert.ok(hrefs.every((href) => href === null || !/^\s*javascript:/i.test(href)), `no javascript: link: ${hrefs}`);
  const handlers = await view.evaluate((root) =>
    [...root.querySelectorAll('*')].flatMap((el) => [...el.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
  );
  assert.deepEqual(handlers, [], 'no event handler attributes');
  // The note's own HTML is shown as the text it is.
  assert.match(await view.textContent(), /<script>window\.__pwned = "script"<\/script>/);
  for (const name of ['click me', 'tricky']) await view.getByText(name).click();
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'clicking the links ran nothing');
  assert.equal(browser.context.pages().length, 1, 'and opened nothing');
  await edit(page);
});

test('ticking a checklist item edits the text and reaches Postgres', async () => {
  const { page } = browser;
  const body = ['Groceries:', '- [ ] milk', '- [x] eggs', '', '```', '- [ ] not a task', '```'].join('\n');
  const id = await writeNote(page, 'Groceries', body);
  const view = await preview(page);
  const boxes = view.getByRole('checkbox');
  assert.equal(await boxes.count(), 2, 'the fenced code stays code');
  const milk = view.getByRole('checkbox', { name: 'milk' });
  const eggs = view.getByRole('checkbox', { name: 'eggs' });
  assert.equal(await milk.isChecked(), false);
  assert.equal(await eggs.isChecked(), true);

  await milk.check();
  await waitForBody(id, (b) => b === body.replace('- [ ] milk', '- [x] milk'), 'the tick in Postgres');
  await eggs.uncheck();
  const expected = body.replace('- [ ] milk', '- [x] milk').replace('- [x] eggs', '- [ ] eggs');
  await waitForBody(id, (b) => b === expected, 'the untick in Postgres');
  // Saved like typing: the list, the editor and the server agree.
  await page.locator('.save-state[data-state="saved"]').waitFor();
  const [row] = await sql('SELECT updated_by::text AS by FROM notes WHERE id = $1', [id]);
  assert.equal(row.by, user.id);
  await shot(page, 'markdown-checklist');
  await expectAxeClean(page, 'checklist, light');
  await edit(page);
  assert.equal(await bodyField(page).inputValue(), expected);
});

test('pasting an image says images are not supported yet', async () => {
  const { page } = browser;
  const id = await writeNote(page, 'Paste here', 'before');
  await page.evaluate(() => {
    const field = document.querySelector('.body-input');
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array([137, 80, 78, 71])], 'shot.png', { type: 'image/png' }));
    field.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  });
  await page.getByText('Images are not supported yet').waitFor();
  assert.equal(await bodyField(page).inputValue(), 'before');
  await shot(page, 'markdown-paste-image');
  const [row] = await sql('SELECT body FROM notes WHERE id = $1', [id]);
  assert.equal(row.body, 'before');
  assert.deepEqual(browser.unexpectedProblems(/status of 401/), []);
});

test('the rendered view passes axe in dark mode too', async () => {
  const dark = await openBrowser({ colorScheme: 'dark' });
  try {
    await logIn(dark.page, user);
    await dark.page.locator('.note-item', { hasText: 'Trip plan' }).click({ timeout: 30_000 });
    const view = dark.page.getByRole('region', { name: 'Rendered note' });
    if (!(await view.isVisible())) await preview(dark.page);
    await view.locator('h1').waitFor();
    await expectAxeClean(dark.page, 'rendered note, dark');
    await shot(dark.page, 'markdown-dark');
    await dark.page.setViewportSize(PHONE);
    await shot(dark.page, 'markdown-dark-phone');
    assert.deepEqual(dark.unexpectedProblems(/status of 401/), []);
  } finally {
    await dark.close();
  }
});
