-- A party of a split as an account: a user's payable or held, and for the
-- platform party (null) its revenue or its dispute reserve.
create or replace function treasury_private.party_account(party uuid, purpose text, currency text)
returns bigint
language sql
volatile
as $$
  select treasury_private.account(
    party,
    case when party is not null then purpose
         when purpose = 'payable' then 'platform_revenue'
         when purpose = 'held' then 'dispute_reserve'
    end,
    currency)
$$;
