// Plumbing for the shared-notebook browser tests: arranging notebooks in Postgres, driving
// the sidebar and the Share dialog, and a second notebox server (sign-up closed).

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { poll, sql } from './lib.mjs';

/** A notebook made directly in Postgres: `members` is [[user, role], …], the first an owner. */
export async function seedNotebook(name, members) {
  const id = randomUUID();
  const [owner] = members[0];
  await sql('INSERT INTO notebooks (id, name, created_by) VALUES ($1, $2, $3)', [id, name, owner.id]);
  // The creator's owner membership may already exist (a trigger adds it): upsert.
  for (const [user, role] of members) {
    await sql(
      `INSERT INTO notebook_members (notebook_id, user_id, role, added_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (notebook_id, user_id) DO UPDATE SET role = excluded.role`,
      [id, user.id, role, owner.id],
    );
  }
  return id;
}

export async function seedNote(notebookId, owner, title, body, hoursAgo = 0) {
  const id = randomUUID();
  await sql(
    `INSERT INTO notes (id, owner_id, notebook_id, title, body, created_at, updated_at, updated_by)
     VALUES ($1, $2, $3, $4, $5, now() - ($6::float8 + 2) * interval '1 hour', now() - $6::float8 * interval '1 hour', $2)`,
    [id, owner.id, notebookId, title, body, hoursAgo],
  );
  return id;
}

/** The sidebar entry of a notebook (or "Personal"). */
export function notebookItem(page, name) {
  return page.getByRole('navigation', { name: 'Notebooks' }).locator('.nb-item', { has: page.locator('.nb-name', { hasText: name }) });
}

/** Selects a notebook in the sidebar; on a phone opens the notebooks view first. */
export async function openNotebook(page, name) {
  const toggle = page.getByRole('button', { name: 'Notebooks', exact: true });
  if (await toggle.isVisible()) await toggle.click();
  await notebookItem(page, name).click();
  await page.locator('.scope-title', { hasText: name }).waitFor();
}

/** Creates a notebook through the sidebar's "New notebook" dialog. */
export async function createNotebook(page, name) {
  await page.getByRole('button', { name: 'Add a notebook' }).click();
  const dialog = page.getByRole('dialog', { name: 'New notebook' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Create notebook' }).click();
  await page.locator('.scope-title', { hasText: name }).waitFor();
}

export function shareDialog(page) {
  return page.locator('dialog.share-dialog');
}

/** Opens the Share dialog of the selected notebook and invites `email` with `role`. */
export async function invite(page, email, roleLabel) {
  const dialog = shareDialog(page);
  if (!(await dialog.isVisible())) await page.locator('.scope-share').click();
  await dialog.getByLabel('Invite by email').fill(email);
  await dialog.getByLabel('Role', { exact: true }).selectOption({ label: roleLabel });
  await dialog.getByRole('button', { name: 'Invite' }).click();
}

export async function memberRole(notebookId, userId) {
  const rows = await sql('SELECT role FROM notebook_members WHERE notebook_id = $1 AND user_id = $2', [notebookId, userId]);
  return rows[0]?.role ?? null;
}

export async function waitForRole(notebookId, userId, role) {
  await poll(async () => (await memberRole(notebookId, userId)) === role, { message: `role ${role} in Postgres` });
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Another `notebox serve` on the same database and sync double, with its own settings
 * (e.g. NOTEBOX_AUTH__SIGNUP=closed). Its signing keys are the database's, so the double
 * accepts its tokens.
 */
export async function startNotebox(env) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NOTEBOX_')));
  const child = spawn(join(root, 'target/debug/notebox'), ['serve'], {
    env: {
      ...clean,
      NOTEBOX_DATABASE__URL: process.env.TEST_DATABASE_URL,
      NOTEBOX_SERVER__BIND: `127.0.0.1:${port}`,
      NOTEBOX_SERVER__PUBLIC_URL: url,
      NOTEBOX_POWERSYNC__URL: process.env.SYNC_DOUBLE_URL,
      NOTEBOX_POWERSYNC__INTERNAL_URL: process.env.SYNC_DOUBLE_URL,
      NOTEBOX_POWERSYNC__STORAGE_DATABASE: '',
      NOTEBOX_LOG__LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await poll(async () => (await fetch(`${url}/healthz`)).ok, { timeout: 60_000, message: 'the second notebox to start' });
  return {
    url,
    async close() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
    },
  };
}
