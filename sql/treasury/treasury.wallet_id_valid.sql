-- Wallet ids: BKT-XXXX-XXXX-C
--
-- Eight symbols of Crockford's base32 (0-9 A-Z without I L O U: nothing to
-- confuse) carry 40 random bits; the ninth is a Damm check symbol over the
-- quasigroup x * d = 2x + d in GF(32) (polynomial x^5 + x^2 + 1, + is XOR).
-- It is totally anti-symmetric because 2 - 1 = 3 is invertible, so every
-- single-symbol error and every transposition of adjacent symbols, check
-- symbol included, leaves a non-zero result: the id is refused.

create or replace function treasury.wallet_id_valid(wallet_id text)
returns boolean
language sql
immutable
parallel safe
security definer
set search_path = ''
as $$
  select coalesce(
    wallet_id ~ '^BKT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]$'
    and treasury_private.wallet_damm_fold(replace(substr(wallet_id, 5), '-', '')) = 0,
    false)
$$;

comment on function treasury.wallet_id_valid(text) is
  'Whether text is a well-formed wallet id BKT-XXXX-XXXX-C (Crockford base32, upper case) whose check symbol '
  'matches. Catches every single-symbol error and every adjacent transposition. False for null.';

grant execute on function treasury.wallet_id_valid(text) to anon, authenticated, service_role;
