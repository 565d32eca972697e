-- A fresh wallet id: 40 random bits as eight symbols, and the check symbol.
create or replace function treasury_private.new_wallet_id()
returns text
language plpgsql
volatile
as $$
declare
  bits bit(40) := ('x' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 10))::bit(40);
  body text := '';
begin
  for i in 0 .. 7 loop
    body := body || substr(treasury_private.wallet_alphabet(), substring(bits from i * 5 + 1 for 5)::int + 1, 1);
  end loop;
  return 'BKT-' || substr(body, 1, 4) || '-' || substr(body, 5, 4) || '-' || treasury_private.wallet_check_symbol(body);
end
$$;
