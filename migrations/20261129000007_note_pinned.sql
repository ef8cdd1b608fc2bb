-- notebox schema: pinned notes. A pinned note is listed before the others on every device
-- of everyone who sees it (it syncs and uploads like the rest of the note). Shipped
-- migrations are never edited: change the schema with a new file.
alter table notes add column pinned boolean not null default false;
