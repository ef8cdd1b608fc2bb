// "Export my notes": every note on this device as Markdown files in a zip, built from the
// browser's own database, so it works offline. The layout is `notebox export --format
// markdown`'s: front matter (id, title, created, updated, notebook), the body exactly as
// stored, personal notes at the top, a notebook's notes in a folder named after it.

import { strToU8, zipSync } from './vendor/zip.js';

const NOTES = `SELECT n.id, n.title, n.body, n.created_at, n.updated_at, nb.name AS notebook
  FROM notes n LEFT JOIN notebooks nb ON nb.id = n.notebook_id
  ORDER BY n.created_at, n.id`;

/** Builds the zip from the local database and offers it as a download; returns the count. */
export async function exportNotes(db, user) {
  const notes = await db.getAll(NOTES);
  const files = markdownFiles(notes);
  const blob = zip(files);
  const day = new Date().toISOString().slice(0, 10);
  download(blob, `notebox-${safeName(user?.email ?? 'notes')}-${day}.zip`);
  return notes.length;
}

/** One `{path, text}` per note; names made safe and never repeated. */
export function markdownFiles(notes) {
  const taken = new Set();
  return notes.map((note) => {
    const folder = note.notebook == null ? '' : `${safeName(note.notebook)}/`;
    const stem = safeName(note.title ?? '');
    let path = `${folder}${stem}.md`;
    for (let n = 2; taken.has(path.toLowerCase()); n += 1) path = `${folder}${stem} (${n}).md`;
    taken.add(path.toLowerCase());
    return { path, text: `---\n${frontMatter(note)}---\n${note.body ?? ''}` };
  });
}

// JSON strings are valid YAML double-quoted scalars, so every value is written that way.
function frontMatter(note) {
  const fields = { id: note.id, title: note.title ?? '', created: note.created_at, updated: note.updated_at, notebook: note.notebook };
  return Object.entries(fields)
    .filter(([, value]) => value != null)
    .map(([key, value]) => `${key}: ${JSON.stringify(String(value))}\n`)
    .join('');
}

const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/** As the server's `safe_file_name`: no separators, reserved or control characters. */
export function safeName(title) {
  const replaced = Array.from(title)
    .slice(0, 100)
    .map((c) => (/[/\\:*?"<>|\p{Cc}]/u.test(c) ? '_' : c))
    .join('');
  const trimmed = replaced.replace(/^[.\s]+|[.\s]+$/gu, '');
  if (!trimmed) return 'Untitled';
  return RESERVED.test(trimmed.split('.')[0]) ? `${trimmed}_` : trimmed;
}

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The files as a zip archive (deflated; fflate). */
export function zip(files) {
  const entries = Object.fromEntries(files.map((file) => [file.path, strToU8(file.text)]));
  return new Blob([zipSync(entries, { level: 6, mtime: new Date() })], { type: 'application/zip' });
}
