// Ids, timestamps and how times read to people.

/**
 * A lowercase v4 UUID. crypto.randomUUID() exists only in secure contexts, and notebox is
 * often reached over plain http on a home network, so build it from getRandomValues.
 */
export function uuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function nowIso() {
  return new Date().toISOString();
}

/**
 * Parses what the local database holds: our own ISO strings, or Postgres timestamps as
 * PowerSync sends them ("2025-01-02 03:04:05.678Z", "…+00", "…+00:00").
 */
export function parseTime(value) {
  if (!value) return null;
  let text = String(value).trim().replace(' ', 'T');
  if (/[+-]\d\d$/.test(text)) text += ':00';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const yearFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "just now", "5 min ago", "yesterday", "Mar 3", "Mar 3, 2023". */
export function relativeTime(date, now = new Date()) {
  if (!date) return '';
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 6 * 3600 || sameDay(date, now)) return rtf.format(Math.round(seconds / 3600), 'hour');
  const days = Math.round((startOfDay(date) - startOfDay(now)) / 86400000);
  if (days === -1) return 'yesterday';
  if (date.getFullYear() === now.getFullYear()) return dayFormat.format(date);
  return yearFormat.format(date);
}

export function fullTime(date) {
  return date ? fullFormat.format(date) : '';
}

function sameDay(a, b) {
  return startOfDay(a) === startOfDay(b);
}

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

const numberFormat = new Intl.NumberFormat();

/** "1 note", "3 notes", "10,013 notes" (separators as the reader's locale writes them). */
export function plural(count, one, many = `${one}s`) {
  return `${numberFormat.format(count)} ${count === 1 ? one : many}`;
}

/**
 * `text` on one line, at most `max` characters, cut at a word boundary and marked "…"
 * when cut (a word longer than the whole space is cut where it must be).
 */
export function clipWords(text, max) {
  const line = (text ?? '').replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  const cut = line.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?-]+$/, '')}…`;
}
