// The Share dialog of one notebook: owners invite by email with a role (an existing account
// is added at once; anyone else gets an invitation link to pass on), change roles and remove
// members; everyone else sees the members and can leave. The member list is live: it follows
// the synced notebook_members rows, so what the server did shows up here as it lands.

import { ApiError, NetworkError } from './api.js';
import { h, icon, replace } from './dom.js';
import { fullTime, parseTime } from './format.js';
import { ROLES } from './notebooks.js';
import { avatar } from './sidebar-view.js';
import { teamsApi } from './teams-api.js';
import { confirmDialog, showDialog } from './ui.js';

/**
 * @param {{notebooks: object, notebookId: string, user: object, toaster: object,
 *          onLeft: (name: string) => void}} options
 */
export function openShareDialog({ notebooks, notebookId, user, toaster, onLeft }) {
  const heading = h('h2', { id: 'share-title' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const linkBox = h('div', { class: 'invite-link', hidden: true });
  const invite = inviteForm({ notebookId, showError, showLink, toaster });
  const members = h('ul', { class: 'member-list', 'aria-label': 'Members' });
  const leave = h('button', { class: 'button danger-text', type: 'button' }, 'Leave notebook');
  const close = h('button', { class: 'button', type: 'button' }, 'Close');
  const dialog = h(
    'dialog',
    { class: 'dialog share-dialog', 'aria-labelledby': 'share-title' },
    h('div', { class: 'share-head' }, heading, h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Close', onclick: () => dialog.close() }, icon('close'))),
    invite.element,
    error,
    linkBox,
    h('h3', { class: 'member-heading' }, 'Members'),
    members,
    h('div', { class: 'dialog-actions' }, leave, close),
  );

  function showError(message) {
    error.textContent = message ?? '';
    error.hidden = !message;
  }

  function showLink(email, answer) {
    const expires = parseTime(answer.expires_at);
    const input = h('input', { class: 'link-input', type: 'text', readonly: true, value: answer.url, 'aria-label': 'Invitation link' });
    const copy = h('button', { class: 'button', type: 'button' }, 'Copy link');
    copy.addEventListener('click', async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(answer.url);
      } catch {
        document.execCommand?.('copy');
      }
      copy.textContent = 'Copied';
    });
    replace(
      linkBox,
      h('p', {}, `${email} has no account yet. Send them this link: it lets them sign up and join${expires ? ` (until ${fullTime(expires)})` : ''}.`),
      h('div', { class: 'link-row' }, input, copy),
    );
    linkBox.hidden = false;
    input.select();
  }

  function render(snapshot) {
    const notebook = snapshot.notebooks.find((nb) => nb.id === notebookId);
    if (!notebook) return dialog.close();
    const owner = notebook.role === 'owner';
    heading.textContent = owner ? `Share “${notebook.name}”` : `Members of “${notebook.name}”`;
    invite.element.hidden = !owner;
    leave.hidden = owner || !notebook.role;
    const focused = document.activeElement?.closest?.('[data-member]')?.dataset.member;
    replace(members, notebook.members.map((m) => memberRow(m, owner)));
    if (focused) members.querySelector(`[data-member="${focused}"] select, [data-member="${focused}"] button`)?.focus();
  }

  function memberRow(member, owner) {
    const me = member.user_id === user.id;
    const name = member.display_name || member.email;
    const role = owner && !me
      ? h(
          'select',
          { class: 'role-select', 'aria-label': `Role of ${name}`, onchange: (e) => changeRole(member, e.target.value) },
          Object.entries(ROLES).map(([value, text]) => h('option', { value, selected: member.role === value }, text)),
        )
      : h('span', { class: 'role-text' }, ROLES[member.role] ?? member.role);
    const remove = owner && !me
      ? h('button', { class: 'icon-button danger-text', type: 'button', 'aria-label': `Remove ${name}`, title: 'Remove', onclick: () => removeMember(member) }, icon('close'))
      : null;
    return h(
      'li',
      { class: 'member', dataset: { member: member.user_id } },
      avatar(member),
      h('span', { class: 'member-who' }, h('span', { class: 'member-name' }, me ? `${name} (you)` : name), member.display_name ? h('span', { class: 'member-email' }, member.email) : null),
      role,
      remove,
    );
  }

  async function changeRole(member, role) {
    showError(null);
    try {
      await teamsApi.setRole(notebookId, member.user_id, role);
      toaster.show(`${member.display_name || member.email} now: ${ROLES[role].toLowerCase()}`);
    } catch (err) {
      showError(explain(err));
      render(notebooks.snapshot()); // put the picker back to what is true
    }
  }

  async function removeMember(member) {
    const name = member.display_name || member.email;
    const ok = await confirmDialog({
      title: `Remove ${name}?`,
      body: `${name} loses access to this notebook and its notes leave their devices.`,
      confirm: 'Remove',
      danger: true,
    });
    if (!ok) return;
    showError(null);
    try {
      await teamsApi.removeMember(notebookId, member.user_id);
      toaster.show(`${name} was removed`);
    } catch (err) {
      showError(explain(err));
    }
  }

  leave.addEventListener('click', async () => {
    const name = notebooks.find(notebookId)?.name ?? 'this notebook';
    const ok = await confirmDialog({
      title: `Leave “${name}”?`,
      body: 'Its notes leave this device. An owner can add you again.',
      confirm: 'Leave',
      danger: true,
    });
    if (!ok) return;
    try {
      notebooks.expectGone(notebookId);
      await teamsApi.removeMember(notebookId, user.id);
      dialog.close();
      onLeft(name);
    } catch (err) {
      showError(explain(err));
    }
  });
  close.addEventListener('click', () => dialog.close());

  const unsubscribe = notebooks.subscribe(render);
  showDialog(dialog, { focus: invite.element.hidden ? close : invite.focusTarget, onClose: unsubscribe });
}

function inviteForm({ notebookId, showError, showLink, toaster }) {
  const email = h('input', { id: 'invite-email', type: 'email', autocomplete: 'off', placeholder: 'name@example.com', required: true });
  const role = h(
    'select',
    { id: 'invite-role', 'aria-label': 'Role' },
    Object.entries(ROLES).map(([value, text]) => h('option', { value, selected: value === 'editor' }, text)),
  );
  const submit = h('button', { class: 'button primary', type: 'submit' }, 'Invite');
  const element = h(
    'form',
    { class: 'invite-form', novalidate: true },
    h('label', { for: 'invite-email', class: 'invite-label' }, 'Invite by email'),
    h('div', { class: 'invite-row' }, email, role, submit),
  );
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    const address = email.value.trim();
    showError(null);
    if (!address.includes('@')) {
      email.setAttribute('aria-invalid', 'true');
      email.focus();
      return showError('Enter the email address of the person to invite.');
    }
    email.removeAttribute('aria-invalid');
    submit.disabled = true;
    try {
      try {
        await teamsApi.addMember(notebookId, address, role.value);
        toaster.show(`${address} was added`);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404 && /user|account|email/i.test(`${err.code} ${err.message}`))) throw err;
        showLink(address, await teamsApi.invite(address, notebookId, role.value));
      }
      email.value = '';
    } catch (err) {
      showError(explain(err));
    } finally {
      submit.disabled = false;
    }
  });
  return { element, focusTarget: email };
}

/** The server's own sentence where it has one; plain words for the rest. */
function explain(err) {
  if (err instanceof NetworkError) return 'You are offline: sharing needs the server. Try again when you are online.';
  if (err instanceof ApiError) {
    if (err.status === 403) return 'Only owners of this notebook can do that.';
    if (err.status === 409) return err.message || 'A notebook always keeps at least one owner.';
    if (err.status === 404 && /notebook/i.test(err.message)) return 'The server does not know this notebook yet: wait until it has synced, then try again.';
    return err.message;
  }
  return String(err?.message ?? err);
}
