-- notebox schema: how a lone upload statement undoes itself. A PUT that runs alone (in its
-- own implicit transaction) writes every row it is given or none: when its conflict clause
-- left a row alone (another user's, or a notebook the uploader may not write), it calls
-- this, and the error undoes the whole statement. notebox then asks which row was refused.
-- Shipped migrations are never edited: change the schema with a new file.
create function notebox_refused() returns bigint
    language plpgsql volatile
as $$
begin
    raise exception 'an upload statement was refused a row; nothing of it was written'
        using errcode = 'NB001';
end
$$;
