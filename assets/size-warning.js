// Warns under the editor before a note reaches the server's per-value limit (learned from
// GET /api/data/limits): past it the server refuses the change for good, so the user must
// hear it while typing, not after.

import { h } from './dom.js';
import { uploadLimits } from './db.js';

const WARN_AT = 0.9;
const encoder = new TextEncoder();

function kib(bytes) {
  return `${Math.ceil(bytes / 1024)} KB`;
}

/**
 * A warning line that follows `input`'s size. Returns `{ el, update }`: put `el` near the
 * input, call `update()` after setting its value from code (typing updates it by itself).
 */
export function sizeWarning(input) {
  // The line itself follows every keystroke; only a change of level (near → too long) is
  // announced, through its own live region.
  const live = h('span', { class: 'visually-hidden', role: 'alert' });
  const line = h('span', {});
  const el = h('p', { class: 'hint danger-text size-warning', hidden: true }, line, live);
  let limit = null;
  let level = 'fine';
  function update() {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: short text needs no encoding.
    const near = limit != null && input.value.length * 3 >= limit * WARN_AT
      && encoder.encode(input.value).length >= limit * WARN_AT;
    el.hidden = !near;
    const bytes = near ? encoder.encode(input.value).length : 0;
    const now = !near ? 'fine' : bytes > limit ? 'over' : 'near';
    if (now !== level) {
      level = now;
      live.textContent = { fine: '', near: 'This note is close to the longest that syncs.', over: 'This note is too long to sync.' }[now];
    }
    if (!near) return;
    line.textContent = bytes > limit
      ? `This note is too long to sync (${kib(bytes)}; at most ${kib(limit)}). Shorten it, or this change will be refused.`
      : `This note is close to the longest that syncs (${kib(bytes)} of ${kib(limit)}).`;
  }
  input.addEventListener('input', update);
  uploadLimits()
    .then((limits) => {
      limit = limits.max_value;
      update();
    })
    .catch(() => {}); // offline: no warning until the limit is known
  return { el, update };
}
