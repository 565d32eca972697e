-- Keyset pagination: the last row's time and id come together, or neither.
create or replace function treasury_private.check_keyset(before_at timestamptz, before_id text)
returns void
language plpgsql
immutable
as $$
begin
  if (before_at is null) <> (before_id is null) then
    raise exception using errcode = '22023', message = 'before_at and before_id go together',
      hint = 'Pass both from the last row of the previous page, or neither for the first page.';
  end if;
end
$$;
