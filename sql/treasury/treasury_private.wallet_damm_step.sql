-- One step of the Damm fold: interim * digit = 2 * interim XOR digit in GF(32).
create or replace function treasury_private.wallet_damm_step(interim int, digit int)
returns int
language sql
immutable
strict
parallel safe
as $$
  select (((interim << 1) & 31) # (case when interim & 16 <> 0 then 5 else 0 end)) # digit
$$;

comment on function treasury_private.wallet_damm_step(int, int) is
  'The Damm quasigroup of the wallet id check symbol: 2 * interim XOR digit in GF(32) mod x^5 + x^2 + 1.';
