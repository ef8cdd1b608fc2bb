-- A notebook's creator is its first owner: whoever inserts a notebook (a client's upload,
-- or SQL) with created_by set gets the owner membership in the same transaction, so a
-- notebook never exists without an owner a moment after it was made.
create function notebooks_creator_is_owner() returns trigger
language plpgsql as $$
begin
    if new.created_by is not null then
        insert into notebook_members (notebook_id, user_id, role, added_by)
        values (new.id, new.created_by, 'owner', new.created_by)
        on conflict (notebook_id, user_id) do nothing;
    end if;
    return null;
end
$$;
create trigger notebooks_creator_is_owner
    after insert on notebooks
    for each row execute function notebooks_creator_is_owner();
