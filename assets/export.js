// "Export my notes": every note on this device as Markdown files in a zip, built from the
// browser's own database, so it works offline. The layout is `notebox export --format
// markdown`'s: front matter (id, title, created, updated, notebook), the body exactly as
// stored, personal notes at the top, a notebook's notes in a folder named after it.

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

// ---- a minimal zip writer: stored entries (no compression), UTF-8 names ------------------

const encoder = new TextEncoder();
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The files as a zip archive (PKWARE APPNOTE 4.3: local headers, central directory, end). */
export function zip(files) {
  const parts = [];
  const central = [];
  let offset = 0;
  const { time, date } = dosTime(new Date());
  for (const file of files) {
    const name = encoder.encode(file.path);
    const data = encoder.encode(file.text);
    const crc = crc32(data);
    const local = header(30, name.length);
    local.view.setUint32(0, 0x04034b50, true);
    fill(local.view, 4, { time, date, crc, size: data.length, nameLength: name.length });
    local.bytes.set(name, 30);
    parts.push(local.bytes, data);
    const entry = header(46, name.length);
    entry.view.setUint32(0, 0x02014b50, true);
    entry.view.setUint16(4, 20, true); // made by: version 2.0
    fill(entry.view, 6, { time, date, crc, size: data.length, nameLength: name.length });
    entry.view.setUint32(42, offset, true);
    entry.bytes.set(name, 46);
    central.push(entry.bytes);
    offset += local.bytes.length + data.length;
  }
  const centralSize = central.reduce((sum, bytes) => sum + bytes.length, 0);
  const end = header(22, 0);
  end.view.setUint32(0, 0x06054b50, true);
  end.view.setUint16(8, files.length, true);
  end.view.setUint16(10, files.length, true);
  end.view.setUint32(12, centralSize, true);
  end.view.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end.bytes], { type: 'application/zip' });
}

function header(size, nameLength) {
  const bytes = new Uint8Array(size + nameLength);
  return { bytes, view: new DataView(bytes.buffer) };
}

// The fields local and central headers share, from "version needed" on.
function fill(view, at, { time, date, crc, size, nameLength }) {
  view.setUint16(at, 20, true); // version needed: 2.0
  view.setUint16(at + 2, 0x0800, true); // flags: names are UTF-8
  view.setUint16(at + 4, 0, true); // method: stored
  view.setUint16(at + 6, time, true);
  view.setUint16(at + 8, date, true);
  view.setUint32(at + 10, crc, true);
  view.setUint32(at + 14, size, true); // compressed size
  view.setUint32(at + 18, size, true); // size
  view.setUint16(at + 22, nameLength, true);
}

function dosTime(at) {
  return {
    time: (at.getHours() << 11) | (at.getMinutes() << 5) | (at.getSeconds() >> 1),
    date: ((at.getFullYear() - 1980) << 9) | ((at.getMonth() + 1) << 4) | at.getDate(),
  };
}
