// How a row of the notes list reads: the snippet cut at word boundaries, and the words of a
// search marked the way the index matched them (case and accents ignored, word starts).

import { h } from './dom.js';
import { fold, terms } from './search-index.js';

const SNIPPET_CHARS = 160;

/** One line of body text, at most about 160 characters, ending at a word boundary. */
export function snippetText(text) {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  if (flat.length <= SNIPPET_CHARS) return flat;
  const cut = flat.slice(0, SNIPPET_CHARS + 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > SNIPPET_CHARS / 2 ? cut.slice(0, space) : cut.slice(0, SNIPPET_CHARS)).replace(/[\s,.;:…-]+$/, '')}…`;
}

/**
 * `text` as nodes with the start of every word that begins with a search term in <mark>:
 * "Pastéis" for the term "past" marks "Past". Without terms, the text itself.
 */
export function highlight(text, query) {
  const wanted = terms(query);
  if (!wanted.length) return text;
  const parts = [];
  let from = 0;
  for (const word of text.matchAll(/[\p{L}\p{N}\p{M}]+/gu)) {
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
