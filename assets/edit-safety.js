// Wires what keeps every edit into the notes screen: the Trash button at the foot of the
// notebooks sidebar, the History button in the editor bar, and the "edited in two places at
// once" notice above the open note with its conflict dialog.

import { createConflictNotice, openConflictDialog } from './conflict-view.js';
import { h } from './dom.js';
import { createHistoryButton, openHistoryPanel } from './history-panel.js';
import { createTrashButton, openTrashDialog } from './trash-view.js';

/**
 * @param {{db: object, signal: AbortSignal, user: object, notebooks: object, toaster: object,
 *          view: object, sidebar: object, current: () => object|null, flush: () => void,
 *          open: (id: string) => void}} deps
 * @returns {{follow: (note: object|null) => void}} call with the note the editor shows
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
  };
}
