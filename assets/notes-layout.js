// The notes screen's frame: top bar (brand, sync pill, account), banners, the notebooks
// sidebar, the notes list with its search and New note button, and the editor pane. The parts
// come built (notes-view.js wires them); this only puts them in their places.

import { logo } from './auth-view.js';
import { h, icon, replace } from './dom.js';
import { pinIcon } from './note-list.js';

export function createNewButton() {
  return h(
    'button',
    { class: 'button primary new-note', type: 'button', title: 'New note (N)', 'aria-label': 'New note' },
    icon('plus'),
    h('span', {}, 'New note'),
  );
}

export function createPinButton() {
  return h(
    'button',
    { class: 'button ghost pin-button', type: 'button', 'aria-label': 'Pin note', 'aria-pressed': 'false', title: 'Pinned notes stay at the top of the list (P in the list)' },
    pinIcon(),
    h('span', { class: 'pin-text' }, 'Pin'),
  );
}

/** Replaces `root`'s content with the notes screen; returns the workspace (its data-view: list, editor or notebooks). */
export function renderNotesLayout(root, parts) {
  const { sidebar, scopeBar, search, newButton, listElements, editor, placeholder, sync, banner, relogin, notice, toastRegion, account } = parts;
  const workspace = h(
    'div',
    { class: 'workspace', dataset: { view: 'list' } },
    sidebar.element,
    h(
      'aside',
      { class: 'sidebar', 'aria-label': 'Notes list' },
      scopeBar.element,
      h(
        'div',
        { class: 'sidebar-tools' },
        h('div', { class: 'search' }, icon('search', 'search-icon'), search),
        newButton,
      ),
      ...listElements,
    ),
    h('main', { class: 'editor-pane' }, editor, placeholder),
  );
  replace(
    root,
    h(
      'div',
      { class: 'app' },
      h(
        'header',
        { class: 'topbar' },
        h('h1', { class: 'brand' }, logo(), h('span', {}, 'notebox')),
        sync.element,
        h('div', { class: 'account' }, ...account),
      ),
      banner.element,
      relogin.element,
      notice.element,
      workspace,
      toastRegion,
    ),
  );
  return workspace;
}
