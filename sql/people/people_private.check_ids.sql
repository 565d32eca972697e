-- The id lists the card reads take: present and at most 500 ids (a page of a board or a list).
create or replace function people_private.check_ids(ids uuid[])
returns void
language plpgsql
immutable
as $$
begin
  if ids is null then
    raise exception using errcode = '22023', message = 'ids is required';
  end if;
  if cardinality(ids) > 500 then
    raise exception using errcode = '22023', message = format('at most 500 ids per call, got %s', cardinality(ids));
  end if;
end
$$;
