create or replace function treasury_private.check_page_size(page_size int)
returns void
language plpgsql
immutable
as $$
begin
  if page_size is null or page_size not between 1 and 200 then
    raise exception using errcode = '22023',
      message = format('page_size must be between 1 and 200, got %s', coalesce(page_size::text, 'null'));
  end if;
end
$$;
