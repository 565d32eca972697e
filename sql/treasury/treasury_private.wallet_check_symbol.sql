-- The check symbol of a body: the c with fold(body) * c = 0, i.e. 2 * fold(body).
create or replace function treasury_private.wallet_check_symbol(body text)
returns text
language sql
immutable
strict
parallel safe
as $$
  select substr(treasury_private.wallet_alphabet(),
                treasury_private.wallet_damm_step(treasury_private.wallet_damm_fold(body), 0) + 1, 1)
$$;
