-- notebox schema, version 1: accounts, sessions, signing keys, notes, refused uploads.
-- Shipped migrations are never edited: change the schema with a new file.

-- People who can log in. Emails are unique whatever their case.
create table users (
    id            uuid primary key default gen_random_uuid(),
    email         text not null check (length(email) between 3 and 320),
    display_name  text not null default '' check (length(display_name) <= 200),
    password_hash text not null,              -- argon2id PHC string
    is_admin      boolean not null default false,
    created_at    timestamptz not null default now(),
    disabled_at   timestamptz                 -- set: the user can no longer log in
);
create unique index users_email_lower_key on users (lower(email));

-- Logins. Only the SHA-256 of the opaque token is stored, so a database dump
-- cannot be replayed as a session.
create table sessions (
    token_hash   bytea primary key,
    user_id      uuid not null references users (id) on delete cascade,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    last_seen_at timestamptz not null default now()
);
create index sessions_user_id_idx on sessions (user_id);
create index sessions_expires_at_idx on sessions (expires_at);

-- RS256 keys that sign PowerSync tokens. kid is the RFC 7638 thumbprint.
-- A key is published from created_at, signs from signing_from, and is withdrawn
-- from the key set after retire_after (null: it has no successor yet).
create table signing_keys (
    kid             text primary key,
    private_key_pem text not null,
    created_at      timestamptz not null default now(),
    signing_from    timestamptz not null,
    retire_after    timestamptz
);

-- The notes themselves. Ids are made by clients (offline-first), so no default.
create table notes (
    id         uuid primary key,
    owner_id   uuid not null references users (id) on delete cascade,
    title      text not null default '' check (length(title) <= 1000),
    body       text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index notes_owner_id_idx on notes (owner_id);

-- Uploaded changes that were permanently refused (bad data, not the caller's row).
-- Synced back to their owner so the UI can say what was refused and why.
create table upload_rejections (
    id         uuid primary key default gen_random_uuid(),
    owner_id   uuid not null references users (id) on delete cascade,
    table_name text not null,
    row_id     text not null,
    op         text not null,
    code       text not null,
    message    text not null,
    data       jsonb,
    created_at timestamptz not null default now()
);
create index upload_rejections_owner_id_idx on upload_rejections (owner_id);
