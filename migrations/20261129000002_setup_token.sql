-- One-time setup tokens: while no account exists, only someone holding one of these (the
-- link `notebox serve` and `notebox setup-link` print) may create the first admin, so
-- whoever reaches a fresh install's port first cannot take it over. Only the SHA-256 of each
-- token is stored; every replica checks the same table. All rows are deleted when the
-- first account is created.
create table setup_tokens (
    token_hash bytea primary key,
    created_at timestamptz not null default now()
);
