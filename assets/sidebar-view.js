// The notebooks sidebar ("Personal" and every notebook, with note counts and, for shared
// ones, their members' initials) and the bar above the note list that names the selected
// notebook and offers what the user's role allows: share, rename, delete.

import { h, icon, replace } from './dom.js';
import { initials, ROLES } from './notebooks.js';

/**
 * @param {{onSelect: (id: string|null) => void, onCreate: () => void, onClose: () => void,
 *          onExport: () => void}} hooks
 * `id` null is "Personal"; `onClose` leaves the notebooks view on a phone; `onExport` saves
 * every note on this device as a Markdown zip (export.js).
 */
export function createSidebar({ onSelect, onCreate, onClose, onExport }) {
  const list = h('ul', { class: 'nb-list' });
  const hint = h(
    'p',
    { class: 'nb-hint', hidden: true },
    'Notebooks hold notes you share: add one with ',
    h('span', { 'aria-hidden': 'true' }, '+'),
    h('span', { class: 'visually-hidden' }, 'Add a notebook'),
    ', then invite people to it.',
  );
  const element = h(
    'nav',
    { class: 'nb-nav', 'aria-label': 'Notebooks' },
    h(
      'div',
      { class: 'nb-head' },
      h('button', { class: 'icon-button nb-close', type: 'button', 'aria-label': 'Close notebooks', onclick: onClose }, icon('back')),
      h('h2', { class: 'nb-heading' }, 'Notebooks'),
      h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Add a notebook', title: 'Add a notebook', onclick: onCreate }, icon('plus')),
    ),
    list,
    hint,
    h(
      'div',
      { class: 'export-slot' },
      h('button', { class: 'nb-item export-button', type: 'button', onclick: onExport }, icon('download', 'nb-icon'), h('span', { class: 'nb-name' }, 'Export my notes')),
    ),
  );

  function render(snapshot, selected) {
    hint.hidden = snapshot.notebooks.length > 0;
    const items = [
      item({ id: null, name: 'Personal', count: snapshot.personalCount, members: [], iconName: 'person' }, selected),
      ...snapshot.notebooks.map((nb) =>
        item({ id: nb.id, name: nb.name, count: nb.note_count, members: nb.members, role: nb.role, iconName: 'book' }, selected),
      ),
    ];
    const focused = document.activeElement?.closest?.('.nb-item')?.dataset.id;
    replace(list, items);
    if (focused) list.querySelector(`[data-id="${focused}"]`)?.focus();
  }

  function item({ id, name, count, members, role, iconName }, selected) {
    const shared = members.length > 1;
    // Said after the visible name and count (its accessible name contains what it shows).
    const more = [
      shared ? `shared with ${members.length - 1} other${members.length === 2 ? '' : 's'}` : null,
      role === 'viewer' ? 'view only' : null,
    ].filter(Boolean).map((part) => `, ${part}`).join('');
    return h(
      'li',
      {},
      h(
        'button',
        {
          class: 'nb-item',
          type: 'button',
          dataset: { id: id ?? 'personal' },
          'aria-current': (id ?? null) === (selected ?? null) ? 'true' : null,
          onclick: () => onSelect(id),
        },
        icon(iconName, 'nb-icon'),
        h('span', { class: 'nb-name' }, name || 'Untitled notebook'),
        h('span', { class: 'visually-hidden' }, ', '),
        shared ? avatars(members, 3) : null,
        h('span', { class: 'nb-count' }, String(count)),
        h('span', { class: 'visually-hidden' }, ` note${count === 1 ? '' : 's'}${more}`),
      ),
    );
  }

  return { element, render };
}

/** Members' initials as small overlapping circles; the full names are in the title. */
export function avatars(members, max = 4) {
  const shown = members.length > max ? members.slice(0, max - 1) : members;
  const rest = members.length - shown.length;
  return h(
    'span',
    { class: 'avatars', 'aria-hidden': 'true', title: members.map((m) => m.display_name || m.email).join(', ') },
    shown.map((m) => avatar(m)),
    rest > 0 ? h('span', { class: 'avatar more' }, `+${rest}`) : null,
  );
}

/** One member's initials in a circle whose colour stays the same for that person. */
export function avatar(member) {
  return h('span', { class: 'avatar', dataset: { hue: String(hue(member.user_id)) }, 'aria-hidden': 'true' }, initials(member));
}

function hue(id) {
  let n = 0;
  for (const c of id ?? '') n = (n * 31 + c.charCodeAt(0)) % 6;
  return n;
}

/**
 * The selected notebook's name above the note list, a "View only" badge for viewers, and
 * its actions. On a phone its first button opens the notebooks.
 */
export function createScopeBar({ onShowNotebooks, onShare, onRename, onDelete }) {
  const title = h('h2', { class: 'scope-title', id: 'scope-title' });
  const badge = h('span', { class: 'badge', hidden: true }, icon('lock'), 'View only');
  const people = h('span', { class: 'scope-people' });
  const sharing = h('p', { class: 'scope-sharing' });
  const share = h('button', { class: 'button ghost scope-share', type: 'button', onclick: () => onShare() }, icon('share'), h('span', { class: 'share-text' }, 'Share'));
  const rename = h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Rename notebook', title: 'Rename notebook', onclick: () => onRename() }, icon('pencil'));
  const remove = h('button', { class: 'icon-button danger-text', type: 'button', 'aria-label': 'Delete notebook', title: 'Delete notebook', onclick: () => onDelete() }, icon('trash'));
  const members = h('div', { class: 'scope-members' }, people, sharing, share);
  const element = h(
    'div',
    { class: 'scope-bar' },
    h(
      'div',
      { class: 'scope-head' },
      h('button', { class: 'icon-button show-notebooks', type: 'button', 'aria-label': 'Notebooks', onclick: onShowNotebooks }, icon('menu')),
      h('div', { class: 'scope-name' }, title, badge),
      rename,
      remove,
    ),
    members,
  );

  /** @param notebook null for Personal; `loading`: a notebook not synced down yet */
  function render(notebook, { loading = false } = {}) {
    title.textContent = notebook ? notebook.name || 'Untitled notebook' : loading ? 'Loading notebook…' : 'Personal';
    const role = notebook?.role ?? null;
    badge.hidden = role !== 'viewer';
    const count = notebook?.members.length ?? 0;
    replace(people, count > 1 ? avatars(notebook.members, 5) : null);
    sharing.textContent = count > 1 ? `${count} members` : 'Only you';
    members.hidden = !notebook;
    share.lastChild.textContent = role === 'owner' ? 'Share' : 'Members';
    share.setAttribute('aria-label', role === 'owner' ? `Share ${title.textContent}` : `Members of ${title.textContent}`);
    rename.hidden = !notebook || !['owner', 'editor'].includes(role);
    remove.hidden = !notebook || role !== 'owner';
    badge.title = role === 'viewer' ? `You are a viewer: ${ROLES.viewer.toLowerCase()}` : '';
  }

  return { element, render };
}

/** A notebook left this device without the user asking: say so, in words that stay on screen. */
export function createLossNotice() {
  const element = h('div', { class: 'notice-bar', role: 'status', hidden: true });
  return {
    element,
    show(name) {
      replace(
        element,
        icon('alert', 'notice-icon'),
        h('p', { class: 'notice-text' }, `You were removed from “${name || 'Untitled notebook'}”, or its owner deleted it. Its notes are no longer on this device.`),
        h('button', { class: 'button ghost notice-dismiss', type: 'button', onclick: () => (element.hidden = true) }, 'Dismiss'),
      );
      element.hidden = false;
    },
  };
}
