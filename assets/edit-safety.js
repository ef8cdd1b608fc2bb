// Wires what keeps every edit into the notes screen: the Trash button at the foot of the
// notebooks sidebar, the History button in the editor bar, and the "edited in two places at
// once" notice above the open note with its conflict dialog, and the word when the open note
// vanishes.

import { createConflictNotice, openConflictDialog } from './conflict-view.js';
import { h } from './dom.js';
import { createHistoryButton, openHistoryPanel } from './history-panel.js';
import { createTrashButton, openTrashDialog } from './trash-view.js';

/**
 * @param {{db: object, signal: AbortSignal, user: object, notebooks: object, toaster: object,
 *          view: object, sidebar: object, current: () => object|null, flush: () => void,
 *          open: (id: string) => void}} deps
 * @returns {{follow: (note: object|null) => void, explainDisappearance: (id: string, notebookId: string|null) => Promise}}
 *   follow: call with the note the editor shows
 */
export function attachEditSafety({ db, signal, user, notebooks, toaster, view, sidebar, current, flush, open }) {
  /** Opens a note restored or created on the server once sync has brought it here. */
  async function openWhenHere(id) {
    const deadline = Date.now() + 15_000;
    while (!(await db.getOptional('SELECT 1 FROM notes WHERE id = ?', [id]))) {
      if (Date.now() > deadline || signal.aborted) return toaster.show('That note has not reached this device yet: it will appear once it syncs.');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    open(id);
  }

  sidebar.element.append(
    h(
      'div',
      { class: 'trash-slot' },
      createTrashButton(() =>
        openTrashDialog({ user, notebookName: (id) => notebooks.find(id)?.name ?? null, onRestored: openWhenHere }),
      ),
    ),
  );

  view.deleteButton.before(
    createHistoryButton(() => {
      const note = current();
      if (!note) return;
      flush();
      openHistoryPanel({
        note,
        writable: notebooks.accessTo(note).writable,
        personName: notebooks.personName,
        beforeRestore: async () => flush(),
        toaster,
      });
    }),
  );

  const notice = createConflictNotice(db, signal, {
    onOpen: (conflicts) => {
      const note = current();
      if (!note || !conflicts.length) return;
      flush();
      openConflictDialog({
        note,
        conflicts,
        writable: notebooks.accessTo(note).writable,
        personName: notebooks.personName,
        toaster,
        onBoth: openWhenHere,
      });
    },
  });
  view.editor.querySelector('.editor-bar').after(notice.element);

  return {
    follow: (note) => notice.follow(note?.id ?? null),
    /** The open note vanished: refused by the server (see the banner), or deleted elsewhere. */
    async explainDisappearance(id, notebookId) {
      const refused = await db.getOptional('SELECT 1 FROM upload_rejections WHERE row_id = ?', [id]);
      if (notebookId && !refused) {
        // Its whole notebook may be leaving (the notice explains that); the two watches fire apart.
        await new Promise((resolve) => setTimeout(resolve, 500));
        if (!notebooks.find(notebookId) || !notebooks.roleIn(notebookId)) return;
      }
      toaster.show(
        refused
          ? 'The server refused this note, so it was removed from this device.'
          : 'This note was deleted on another device.',
      );
    },
  };
}
