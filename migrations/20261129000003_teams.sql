-- notebox schema, teams: shared notebooks, their members and invitations.
-- Shipped migrations are never edited: change the schema with a new file.

-- A notebook groups notes a team shares. Ids are made by clients (offline-first), so no default.
create table notebooks (
    id         uuid primary key,
    name       text not null default '' check (length(name) <= 200),
    created_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Who may read (viewer), write (editor) or also manage members and delete (owner) a notebook.
-- display_name and email copy the member's users row (kept current by triggers below), so
-- co-members can see each other's names without the users table ever being synced.
create table notebook_members (
    id           uuid primary key default gen_random_uuid(),  -- PowerSync needs an id column
    notebook_id  uuid not null references notebooks (id) on delete cascade,
    user_id      uuid not null references users (id) on delete cascade,
    role         text not null check (role in ('owner', 'editor', 'viewer')),
    added_by     uuid references users (id) on delete set null,
    created_at   timestamptz not null default now(),
    display_name text not null default '',
    email        text not null default '',
    unique (notebook_id, user_id)
);
create index notebook_members_user_id_idx on notebook_members (user_id);

-- A new membership copies the member's name and email, whatever the inserter sent.
create function notebook_members_copy_user() returns trigger
language plpgsql as $$
begin
    select u.display_name, u.email into new.display_name, new.email
    from users u where u.id = new.user_id;
    return new;
end
$$;
create trigger notebook_members_copy_user
    before insert or update of user_id on notebook_members
    for each row execute function notebook_members_copy_user();

-- A renamed user (or a changed email) shows up in every notebook they are a member of.
create function users_propagate_to_members() returns trigger
language plpgsql as $$
begin
    update notebook_members
    set display_name = new.display_name, email = new.email
    where user_id = new.id
      and (display_name, email) is distinct from (new.display_name, new.email);
    return null;
end
$$;
create trigger users_propagate_to_members
    after update of display_name, email on users
    for each row execute function users_propagate_to_members();

-- Every notebook always keeps at least one owner. Checked at commit (deferred), so a
-- transaction may hand ownership over in any order; a notebook deleted in the same
-- transaction (its memberships cascading) no longer exists by then and passes.
create function notebook_members_keep_an_owner() returns trigger
language plpgsql as $$
begin
    if exists (select 1 from notebooks where id = old.notebook_id)
       and not exists (
           select 1 from notebook_members where notebook_id = old.notebook_id and role = 'owner'
       ) then
        raise exception 'notebook % would have no owner left: make another member owner first, or delete the notebook', old.notebook_id;
    end if;
    return null;
end
$$;
create constraint trigger notebook_members_keep_an_owner
    after update or delete on notebook_members
    deferrable initially deferred
    for each row execute function notebook_members_keep_an_owner();

-- NULL: a personal note, exactly as before. A notebook's notes go with it.
alter table notes
    add column notebook_id uuid references notebooks (id) on delete cascade,
    add column updated_by  uuid references users (id) on delete set null;  -- who last edited
create index notes_notebook_id_idx on notes (notebook_id);

-- One-time, expiring links that let someone create an account (even with sign-up closed)
-- and, with a notebook, join it. Only the SHA-256 of the token is stored, so a database
-- dump cannot be replayed as an invitation.
create table invitations (
    id          uuid primary key default gen_random_uuid(),
    token_hash  bytea not null unique,
    email       text not null check (length(email) between 3 and 320),
    notebook_id uuid references notebooks (id) on delete cascade,
    role        text check (role in ('owner', 'editor', 'viewer')),
    invited_by  uuid references users (id) on delete set null,  -- null: an admin on the CLI
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    accepted_at timestamptz,
    accepted_by uuid references users (id) on delete set null,
    revoked_at  timestamptz,
    check ((notebook_id is null) = (role is null))
);
create index invitations_invited_by_idx on invitations (invited_by);
