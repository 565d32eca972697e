-- The fold over a string of alphabet symbols; null when one is not in it.
create or replace function treasury_private.wallet_damm_fold(symbols text)
returns int
language plpgsql
immutable
strict
parallel safe
as $$
declare
  alphabet constant text := treasury_private.wallet_alphabet();
  interim int := 0;
  digit int;
begin
  for i in 1 .. char_length(symbols) loop
    digit := strpos(alphabet, substr(symbols, i, 1)) - 1;
    if digit < 0 then
      return null;
    end if;
    -- wallet_damm_step, inlined: this loop runs for every id checked.
    interim := (((interim << 1) & 31) # (case when interim & 16 <> 0 then 5 else 0 end)) # digit;
  end loop;
  return interim;
end
$$;
