-- notebox schema: no edit is ever lost. An exactly-once ledger of client transactions,
-- conflict copies of edits that could not merge, a trash for deleted notes and a history
-- of earlier versions. Shipped migrations are never edited: change the schema with a new file.

-- Client transactions already applied, by (user, client database, local tx id): a retried
-- transaction is answered from here instead of being applied twice. Written in the same
-- Postgres transaction as the data. result: null = success, else the fatal_error answered.
create table upload_ledger (
    user_id    uuid not null references users (id) on delete cascade,
    client_id  text not null check (length(client_id) <= 200),
    tx_id      bigint not null,
    result     jsonb,
    applied_at timestamptz not null default now(),
    primary key (user_id, client_id, tx_id)
);
create index upload_ledger_applied_at_idx on upload_ledger (applied_at);

-- An edit that changed the same lines as an edit that arrived first: the note keeps the
-- text that arrived first (kept_text) and the other one waits here (their_text) until
-- someone who can see the note keeps one, both, or a hand merge. Synced like its note.
create table note_conflicts (
    id          uuid primary key default gen_random_uuid(),
    note_id     uuid not null references notes (id) on delete cascade,
    owner_id    uuid not null references users (id) on delete cascade,  -- the note's owner
    notebook_id uuid references notebooks (id) on delete cascade,       -- the note's notebook
    column_name text not null check (column_name in ('title', 'body')),
    base_text   text not null,  -- what both edits started from
    kept_text   text not null,  -- in the note
    their_text  text not null,  -- the edit that could not merge
    created_by  uuid references users (id) on delete set null,  -- whose edit it is
    created_at  timestamptz not null default now()
);
create index note_conflicts_note_id_idx on note_conflicts (note_id);
create index note_conflicts_owner_id_idx on note_conflicts (owner_id);
create index note_conflicts_notebook_id_idx on note_conflicts (notebook_id);

-- Conflicts follow their note into (or out of) a notebook.
create function notes_move_conflicts() returns trigger
language plpgsql as $$
begin
    update note_conflicts set notebook_id = new.notebook_id
    where note_id = new.id and notebook_id is distinct from new.notebook_id;
    return null;
end
$$;
create trigger notes_move_conflicts
    after update of notebook_id on notes
    for each row execute function notes_move_conflicts();

-- Deleted notes, restorable for notes.trash_days. Filled by a trigger, so notes deleted
-- with their notebook land here too. deleted_by: the uploader (notebox sets
-- notebox.actor for the deleting statement), null for SQL deletes.
create table note_trash (
    id          uuid primary key,
    owner_id    uuid not null references users (id) on delete cascade,
    notebook_id uuid,  -- no foreign key: the notebook may be gone (restored as personal then)
    title       text not null,
    body        text not null,
    created_at  timestamptz not null,
    updated_at  timestamptz not null,
    updated_by  uuid,
    deleted_by  uuid references users (id) on delete set null,
    deleted_at  timestamptz not null default now()
);
create index note_trash_owner_id_idx on note_trash (owner_id);
create index note_trash_notebook_id_idx on note_trash (notebook_id);
create index note_trash_deleted_at_idx on note_trash (deleted_at);

create function notes_to_trash() returns trigger
language plpgsql as $$
begin
    insert into note_trash (id, owner_id, notebook_id, title, body, created_at, updated_at, updated_by, deleted_by)
    values (old.id, old.owner_id, old.notebook_id, old.title, old.body, old.created_at, old.updated_at,
            old.updated_by, nullif(current_setting('notebox.actor', true), '')::uuid)
    on conflict (id) do update set
        owner_id = excluded.owner_id, notebook_id = excluded.notebook_id, title = excluded.title,
        body = excluded.body, created_at = excluded.created_at, updated_at = excluded.updated_at,
        updated_by = excluded.updated_by, deleted_by = excluded.deleted_by, deleted_at = now();
    return old;
end
$$;
create trigger notes_to_trash
    before delete on notes
    for each row execute function notes_to_trash();

-- Earlier versions of a note's title and body: at most one per note per
-- notes.history_interval (kept in notebox_settings, set by notebox at start), plus one
-- before every merge and every conflict resolution (notebox inserts those itself).
create table note_versions (
    id         bigint generated always as identity primary key,
    note_id    uuid not null,  -- no foreign key: history outlives a note in the trash
    title      text not null,
    body       text not null,
    created_at timestamptz not null,              -- when this text was current
    created_by uuid references users (id) on delete set null,  -- who wrote it
    reason     text not null default 'edit' check (reason in ('edit', 'merge', 'conflict', 'restore')),
    saved_at   timestamptz not null default now()
);
create index note_versions_note_id_idx on note_versions (note_id, saved_at desc);

-- Settings notebox writes at start for triggers to read.
create table notebox_settings (
    only_row         boolean primary key default true check (only_row),
    history_interval interval not null default '10 minutes'
);
insert into notebox_settings default values;

create function notes_keep_history() returns trigger
language plpgsql as $$
begin
    if (old.title, old.body) is distinct from (new.title, new.body)
       and not exists (
           select 1 from note_versions v
           where v.note_id = old.id
             and v.saved_at > now() - (select history_interval from notebox_settings)
       ) then
        insert into note_versions (note_id, title, body, created_at, created_by)
        values (old.id, old.title, old.body, old.updated_at, old.updated_by);
    end if;
    return new;
end
$$;
create trigger notes_keep_history
    before update of title, body on notes
    for each row execute function notes_keep_history();
