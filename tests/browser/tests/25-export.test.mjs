// "Export my notes" in the notebooks sidebar: a zip of Markdown files built from the
// browser's own database, so it works offline too. Each file has front matter (id, title,
// created, updated, notebook) and the body exactly as stored; a notebook's notes are in a
// folder named after it.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { closeDb, createUser, expectAxeClean, logIn, openBrowser } from '../lib.mjs';
import { seedNote, seedNotebook } from '../teams.mjs';

let browser;
let dir;
before(async () => {
  browser = await openBrowser();
  dir = await mkdtemp(join(tmpdir(), 'notebox-export-'));
});
after(async () => {
  await browser?.close();
  await closeDb();
  await rm(dir, { recursive: true, force: true });
});

/** The zip's entries as {name: text}, read with Python's zipfile (a second implementation). */
function unzip(path) {
  const script = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({i.filename: z.read(i).decode("utf-8") for i in z.infolist()}))';
  return JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' }));
}

test('Export my notes downloads a Markdown zip of the local database, offline too', async () => {
  const user = await createUser('Erin Export');
  const plans = await seedNotebook('Plans / 2025', [[user, 'owner']]);
  const tricky = '---\nnot: front matter\n---\nline two\r\n  indented ✓\n';
  const personal = await seedNote(null, user, 'Recipes: "best" of', tricky);
  await seedNote(plans, user, 'Roadmap', 'Q1\nQ2');
  const { page, context } = browser;
  await logIn(page, user);
  await page.locator('.note-item', { hasText: 'Roadmap' }).or(page.locator('.note-item', { hasText: 'Recipes' })).first().waitFor({ timeout: 20_000 });
  await page.getByRole('navigation', { name: 'Notebooks' }).getByText('Plans / 2025').waitFor({ timeout: 20_000 });

  await context.setOffline(true);
  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export my notes' }).click();
  const download = await downloading;
  assert.match(download.suggestedFilename(), /^notebox-erin\.export\..*\.zip$/);
  const path = join(dir, 'export.zip');
  await download.saveAs(path);
  await context.setOffline(false);

  const files = unzip(path);
  assert.deepEqual(Object.keys(files).sort(), ['Plans _ 2025/Roadmap.md', 'Recipes_ _best_ of.md']);
  const recipes = files['Recipes_ _best_ of.md'];
  assert.ok(recipes.startsWith(`---\nid: "${personal}"\ntitle: "Recipes: \\"best\\" of"\ncreated: "`), recipes);
  assert.ok(recipes.endsWith(`---\n${tricky}`), 'the body exactly as stored, after the front matter');
  assert.ok(!recipes.includes('notebook:'), 'personal notes name no notebook');
  assert.match(files['Plans _ 2025/Roadmap.md'], /\nnotebook: "Plans \/ 2025"\n---\nQ1\nQ2$/);
  await page.getByText('Exported 2 notes.').waitFor();
  await expectAxeClean(page, 'notes with the export button');
  assert.deepEqual(browser.unexpectedProblems(/status of 401/, /ERR_INTERNET_DISCONNECTED|Failed to fetch|status of 503/), []);
});
