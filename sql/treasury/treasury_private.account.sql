-- The id of the account of owner (null: the platform) for purpose and
-- currency, created when missing.
create or replace function treasury_private.account(owner uuid, purpose text, currency text)
returns bigint
language plpgsql
volatile
as $$
declare
  found_id bigint;
  shape treasury.account_purposes;
begin
  if owner is null then
    select a.id into found_id from treasury.accounts as a
    where a.owner_id is null and a.purpose = account.purpose and a.currency = account.currency;
  else
    select a.id into found_id from treasury.accounts as a
    where a.owner_id = owner and a.purpose = account.purpose and a.currency = account.currency;
  end if;
  if found_id is not null then
    return found_id;
  end if;

  select * into shape from treasury.account_purposes as p where p.purpose = account.purpose;
  if not found then
    raise exception using
      errcode = '22023',
      message = format('unknown account purpose %s', coalesce(purpose, 'null')),
      hint = 'treasury.account_purposes lists the purposes.';
  end if;
  if (owner is null) <> (shape.owner_kind = 'platform') then
    raise exception using
      errcode = '22023',
      message = format('a %s account belongs to %s', purpose,
                       case shape.owner_kind when 'platform' then 'the platform (owner null)' else 'a user (owner not null)' end);
  end if;
  if currency is null or currency !~ '^[A-Z]{3}$' then
    raise exception using
      errcode = '22023',
      message = format('currency must be an ISO 4217 code in capitals, got %s', coalesce(currency, 'null'));
  end if;

  perform treasury_private.lock_currency(currency);
  insert into treasury.accounts as a (owner_id, purpose, normal_side, currency)
  values (owner, purpose, shape.normal_side, currency)
  on conflict on constraint accounts_owner_purpose_currency_key do nothing
  returning a.id into found_id;
  if found_id is null then
    -- Created by a transaction that committed while this one waited.
    return treasury_private.account(owner, purpose, currency);
  end if;
  return found_id;
end
$$;

comment on function treasury_private.account(uuid, text, text) is
  'The account of owner (null: the platform) for purpose and currency; created when missing. 22023 on a bad purpose, owner or currency.';
