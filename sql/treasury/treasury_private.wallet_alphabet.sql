create or replace function treasury_private.wallet_alphabet()
returns text
language sql
immutable
parallel safe
as $$
  select '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
$$;
