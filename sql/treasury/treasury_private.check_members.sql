-- A filter argument: every element one of the allowed values (null: no filter).
create or replace function treasury_private.check_members(argument text, items text[], allowed text[])
returns void
language plpgsql
immutable
as $$
declare
  unknown text;
begin
  select t into unknown from unnest(items) as t where t is null or t <> all (allowed) limit 1;
  if found then
    raise exception using errcode = '22023',
      message = format('%s may hold %s; got %s', argument, array_to_string(allowed, ', '), coalesce(unknown, 'null'));
  end if;
end
$$;
