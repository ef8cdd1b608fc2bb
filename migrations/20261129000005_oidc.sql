-- Single sign-on through an OpenID Connect provider ([auth.oidc]).

-- Sign-ins on their way through the provider: GET /api/auth/oidc/login writes one, the
-- callback deletes it (one use). In Postgres, not in memory, so any replica can take the
-- callback. Only hashes of the state and of the browser's binding cookie are kept.
create table oidc_logins (
    state_hash    bytea primary key,          -- SHA-256 of the state sent to the provider
    browser_hash  bytea not null,             -- SHA-256 of the cookie that started it
    nonce         text not null,              -- must come back inside the ID token
    pkce_verifier text not null,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null
);
create index oidc_logins_expires_at_idx on oidc_logins (expires_at);

-- Who an account is at a provider. After the first sign-in the subject, not the email,
-- identifies the user: an email changed at the provider neither makes a second account
-- nor reaches someone else's. One identity per account and issuer.
create table user_identities (
    issuer        text not null,
    subject       text not null,
    user_id       uuid not null references users (id) on delete cascade,
    email         text,                       -- the provider's email when linked, for admins
    created_at    timestamptz not null default now(),
    last_login_at timestamptz not null default now(),
    primary key (issuer, subject),
    unique (issuer, user_id)
);
create index user_identities_user_id_idx on user_identities (user_id);
