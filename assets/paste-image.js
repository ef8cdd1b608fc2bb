// Notes hold text only until attachments exist: a pasted or dropped image is not lost in
// silence (nor pasted as a file name) — the editor says why nothing was added.

import { h } from './dom.js';

const SHOW_MS = 8000;

/** Watches `field` for pasted and dropped images; returns the notice element to place. */
export function explainImagePaste(field) {
  const notice = h('p', { class: 'paste-notice', role: 'status' });
  let timer = null;

  function explain(event, transfer) {
    const files = [...(transfer?.items ?? [])].filter((item) => item.kind === 'file');
    if (!files.length) return;
    // Text copied along with an image (from a web page, say) still pastes as text.
    if (event.type === 'paste' && transfer.getData('text/plain')) return;
    event.preventDefault();
    const images = files.some((item) => item.type.startsWith('image/'));
    notice.textContent = images
      ? 'Images are not supported yet: notes hold text only for now. Attachments are coming.'
      : 'Files are not supported yet: notes hold text only for now. Attachments are coming.';
    clearTimeout(timer);
    timer = setTimeout(() => {
      notice.textContent = '';
    }, SHOW_MS);
  }

  field.addEventListener('paste', (event) => explain(event, event.clipboardData));
  field.addEventListener('drop', (event) => explain(event, event.dataTransfer));
  return notice;
}
