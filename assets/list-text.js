// How a row of the notes list reads: the snippet cut at word boundaries, and the words of a
// search marked the way the index matched them (case and accents ignored, word starts).

import { h } from './dom.js';
import { fold, terms } from './search-index.js';

const SNIPPET_CHARS = 160;

/**
 * A line of body text of about 160 characters, cut at word boundaries: from the start, or
 * for a search around the first word that begins with one of its terms.
 */
export function snippetText(text, query = '') {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  const at = firstMatch(flat, terms(query));
  if (at < 40) return cut(flat);
  const from = flat.indexOf(' ', at - 30);
  return `…${cut(flat.slice(from >= 0 && from < at ? from + 1 : at))}`;
}

function cut(flat) {
  if (flat.length <= SNIPPET_CHARS) return flat;
  const part = flat.slice(0, SNIPPET_CHARS + 1);
  const space = part.lastIndexOf(' ');
  return `${(space > SNIPPET_CHARS / 2 ? part.slice(0, space) : part.slice(0, SNIPPET_CHARS)).replace(/[\s,.;:…-]+$/, '')}…`;
}

/** Where the first word starting with one of `wanted` begins; -1 without one. */
function firstMatch(text, wanted) {
  if (!wanted.length) return -1;
  for (const word of text.matchAll(WORD)) {
    const folded = fold(word[0]);
    if (wanted.some((t) => folded.startsWith(t))) return word.index;
  }
  return -1;
}

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * `text` as nodes with the start of every word that begins with a search term in <mark>:
 * "Pastéis" for the term "past" marks "Past". Without terms, the text itself.
 */
export function highlight(text, query) {
  const wanted = terms(query);
  if (!wanted.length) return text;
  const parts = [];
  let from = 0;
  for (const word of text.matchAll(WORD)) {
    const folded = fold(word[0]);
    const term = wanted.filter((t) => folded.startsWith(t)).sort((a, b) => b.length - a.length)[0];
    if (!term) continue;
    const length = originalLength(word[0], term.length);
    parts.push(text.slice(from, word.index), h('mark', {}, word[0].slice(0, length)));
    from = word.index + length;
  }
  parts.push(text.slice(from));
  return parts;
}

/** How many characters of `word` fold to its first `foldedLength` characters. */
function originalLength(word, foldedLength) {
  let folded = 0;
  let at = 0;
  for (const char of word) {
    if (folded >= foldedLength) break;
    folded += fold(char).length;
    at += char.length;
  }
  // Combining marks right after the last character belong to it.
  while (at < word.length && /\p{M}/u.test(word[at])) at += 1;
  return at;
}
