-- A currency argument: null stays null, else three letters, upper-cased.
create or replace function treasury_private.currency_arg(currency text)
returns text
language plpgsql
immutable
as $$
begin
  if currency is null then
    return null;
  end if;
  if currency !~ '^[A-Za-z]{3}$' then
    raise exception using errcode = '22023',
      message = format('currency must be a 3-letter ISO 4217 code, got %s', currency);
  end if;
  return upper(currency);
end
$$;
