// What the user does to notebooks from the sidebar and the scope bar: create, rename,
// delete, share (the dialog), and moving a note between notebooks. Local writes upload like
// notes; refusals come back through upload_rejections and show in the banner.

import { nowIso } from './format.js';
import { openShareDialog } from './share-dialog.js';
import { confirmDialog, promptDialog } from './ui.js';

/**
 * @param {{db: object, notebooks: object, user: object, toaster: object,
 *          select: (id: string|null) => void}} deps
 */
export function createNotebookActions({ db, notebooks, user, toaster, select }) {
  const nameOf = (id) => notebooks.find(id)?.name || 'Untitled notebook';

  return {
    async create() {
      const name = await promptDialog({ title: 'New notebook', label: 'Name', confirm: 'Create notebook' });
      if (!name) return;
      const id = await notebooks.create(name);
      select(id);
      toaster.show(`“${name}” created. Use Share to invite people.`);
    },

    async rename(id) {
      if (!id) return;
      const name = await promptDialog({ title: 'Rename notebook', label: 'Name', value: nameOf(id), confirm: 'Rename' });
      if (!name || name === nameOf(id)) return;
      await notebooks.rename(id, name);
    },

    async remove(id) {
      if (!id) return;
      const name = nameOf(id);
      const count = notebooks.snapshot().notebooks.find((nb) => nb.id === id)?.note_count ?? 0;
      const shared = notebooks.membersOf(id).length > 1;
      const ok = await confirmDialog({
        title: `Delete “${name}”?`,
        body: `Its ${count === 1 ? 'note' : `${count} notes`} will be deleted${shared ? ' for everyone in it' : ''}. This cannot be undone.`,
        confirm: 'Delete notebook',
        danger: true,
      });
      if (!ok) return;
      await notebooks.remove(id);
      select(null);
      toaster.show(`“${name}” deleted`);
    },

    share(id) {
      if (!id) return;
      openShareDialog({
        notebooks,
        notebookId: id,
        user,
        toaster,
        onLeft: (name) => {
          select(null);
          toaster.show(`You left “${name}”`);
        },
      });
    },

    /** Moves a note (null: to Personal); the server checks write rights on both sides. */
    async move(noteId, notebookId) {
      await db.execute('UPDATE notes SET notebook_id = ?, updated_at = ? WHERE id = ?', [notebookId, nowIso(), noteId]);
      toaster.show(`Moved to ${notebookId ? `“${nameOf(notebookId)}”` : 'Personal'}`);
    },
  };
}
