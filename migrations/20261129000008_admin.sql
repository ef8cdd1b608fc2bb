-- notebox schema: what the admin page needs. Shipped migrations are never edited: change
-- the schema with a new file.

-- Sign-up policy chosen on the admin page ('open' or 'closed'); null: `auth.signup` from the
-- config decides. Read on every sign-up, so a change needs no restart and holds on every
-- replica.
alter table notebox_settings
    add column signup text check (signup in ('open', 'closed'));

-- When the user last used notebox: the newest activity of any of their sessions, kept here
-- so it outlives the sessions themselves (logout, expiry, revocation).
alter table users add column last_seen_at timestamptz;
update users u set last_seen_at = (select max(s.last_seen_at) from sessions s where s.user_id = u.id);

-- Sessions refresh last_seen_at at most once a minute (see sessions::lookup), so this fires
-- that often per active session, not on every request.
create function sessions_touch_user() returns trigger
language plpgsql as $$
begin
    update users set last_seen_at = new.last_seen_at
    where id = new.user_id and (last_seen_at is null or last_seen_at < new.last_seen_at);
    return null;
end
$$;
create trigger sessions_touch_user
    after insert or update of last_seen_at on sessions
    for each row execute function sessions_touch_user();
