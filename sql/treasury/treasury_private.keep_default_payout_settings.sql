-- The catch-all settings row stays: every currency needs rules.
create or replace function treasury_private.keep_default_payout_settings()
returns trigger
language plpgsql
as $$
begin
  if old.currency = '*' and (tg_op = 'DELETE' or new.currency <> '*') then
    raise exception using errcode = '42501', message = 'the payout settings row ''*'' applies to every other currency: change it, do not remove it';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;
