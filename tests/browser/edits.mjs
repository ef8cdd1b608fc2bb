// Plumbing for the no-lost-edits browser tests: one user on two devices (two Chromium
// profiles), taking a device offline and back, and reading what a screen shows.

import { createUser, logIn, openBrowser, poll, sql } from './lib.mjs';

/** A user logged in on two devices, both synced. */
export async function twoDevices(name) {
  const user = await createUser(name);
  const devices = await Promise.all([openBrowser(), openBrowser()]);
  for (const { page } of devices) {
    await logIn(page, user);
    await page.locator('.sync[data-state="online"]').waitFor({ timeout: 30_000 });
  }
  return { user, devices };
}

/** The device loses its connection: no upload, no sync stream. */
export async function goOffline(device) {
  await device.context.setOffline(true);
}

export async function goOnline(device) {
  await device.context.setOffline(false);
}

/** Opens a note from the list once it has synced down, and waits for its text in the editor. */
export async function openNote(page, title, body) {
  await page.locator('.note-item', { hasText: title }).click({ timeout: 20_000 });
  await poll(async () => (await bodyField(page).inputValue()) === body, { message: `the editor to show “${title}”` });
}

export function bodyField(page) {
  return page.getByLabel('Note', { exact: true });
}

/** Types a new body and waits until it is saved in the local database. */
export async function writeBody(page, text) {
  await bodyField(page).fill(text);
  await page.locator('.save-state[data-state="saved"]').waitFor();
}

export async function noteBody(id) {
  return (await sql('SELECT body FROM notes WHERE id = $1', [id]))[0]?.body ?? null;
}

export async function waitForBody(id, check, message) {
  return poll(async () => {
    const body = await noteBody(id);
    return body !== null && check(body) && body;
  }, { timeout: 30_000, message });
}

/** Waits until the editor shows exactly `text`. */
export async function waitForEditor(page, text, message) {
  await poll(async () => (await bodyField(page).inputValue()) === text, { timeout: 30_000, message });
}
