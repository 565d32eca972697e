-- Treasury: the double-entry ledger, what is sold and how it is split, payments and the
-- application of Stripe events (docs/treasury-ledger.md).
--
--   treasury.admins                 who is a Treasury admin (set by service_role); treasury.is_admin()
--   treasury.account_purposes       what an account is for: platform or user, normal side
--   treasury.accounts               one per (owner, purpose, currency), made on demand
--   treasury.ledger_transactions    one row per ledger transaction, (kind, reference) unique
--   public.treasury_ledger          the postings: append-only, balanced per transaction and currency
--   treasury.account_balances       every account's current balance, kept by the ledger itself
--   treasury.balances               accounts with their balances, as a view
--   treasury.split_rules (+ split_rule_parties)   who shares a sale, in basis points summing to 10,000
--   treasury.products               what the platform sells, each with a split rule
--   treasury.payments               one per Stripe PaymentIntent, with the shares it was split by
--   public.treasury_splits          the realised lines of every payment, refund and lost dispute
--   treasury.disputes               Stripe disputes and the shares they hold
--   treasury.stripe_events          every Stripe event received, by id: the exactly-once gate
--   treasury.webhook_rejections     what the webhook refused, kept 30 days / 100,000 rows
--
--   treasury.receive_stripe_event   apply one verified Stripe event (the webhook's only call)
--   treasury.retry_stripe_event     apply a deferred or failed event again
--   treasury.log_webhook_rejection  record a refused webhook request
--   treasury.define_split_rule      create a split rule with its parties
--   treasury.balance_at             an account's balance at any past moment
--   treasury.check_invariants       one row per violated ledger invariant (none when all is well)
--
-- Amounts are integer minor units. In the ledger a posting's amount is signed: debits
-- positive, credits negative; every transaction sums to zero per currency. Errors carry a
-- SQLSTATE: 22023 bad argument, 23505/23514 integrity, 42501 privilege, P0002 not found,
-- 55000 wrong state.

------------------------------------------------------------------------------
-- Admins
------------------------------------------------------------------------------

create table treasury.admins (
  user_id uuid primary key,
  granted_at timestamptz not null default now(),
  note text check (char_length(note) <= 500)
);

comment on table treasury.admins is
  'Treasury admins: users who read every money table and call the admin RPCs. Rows are set by service_role only.';

create function treasury.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from treasury.admins as a where a.user_id = auth.uid())
$$;

comment on function treasury.is_admin() is
  'Whether the signed-in user is a Treasury admin (a row of treasury.admins). False for anon and service_role.';

------------------------------------------------------------------------------
-- Small helpers
------------------------------------------------------------------------------

-- A JSON integer (no fraction, no exponent) in the bigint range, else null.
-- Nested CASE: the cast is only reached for numbers, even when the planner
-- folds a constant argument.
create function treasury_private.json_bigint(value jsonb)
returns bigint
language sql
immutable
parallel safe
as $$
  select case when jsonb_typeof(value) = 'number' then
    case when scale(value::numeric) = 0
              and value::numeric between -9223372036854775808 and 9223372036854775807
      then value::numeric::bigint end
  end
$$;

-- A uuid written as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, else null.
create function treasury_private.as_uuid(value text)
returns uuid
language sql
immutable
parallel safe
as $$
  select case when value ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
    then value::uuid end
$$;

-- A Stripe reference that is either an id string or an expanded object.
create function treasury_private.stripe_id(value jsonb)
returns text
language sql
immutable
parallel safe
as $$
  select case jsonb_typeof(value)
    when 'string' then value #>> '{}'
    when 'object' then case when jsonb_typeof(value -> 'id') = 'string' then value ->> 'id' end
  end
$$;

-- A Stripe currency ('eur') as ours ('EUR'), else null.
create function treasury_private.currency_of(value jsonb)
returns text
language sql
immutable
parallel safe
as $$
  select case when jsonb_typeof(value) = 'string' and (value #>> '{}') ~ '^[A-Za-z]{3}$'
    then upper(value #>> '{}') end
$$;

-- Everything that changes balances in one currency runs one transaction at a
-- time: account creation, postings and the application of Stripe events take
-- this lock first (it is re-entrant and held to commit). One lock per currency
-- orders all of them, so concurrent writers wait instead of deadlocking, and a
-- Stripe event is applied against state no concurrent event is changing.
create function treasury_private.lock_currency(currency text)
returns void
language sql
volatile
as $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('treasury.ledger:' || currency, 0))
$$;

-- Refuses a change to a table whose rows are kept forever. ENABLE ALWAYS on
-- every table it guards, so it also fires for superusers and in replica mode.
create function treasury_private.refuse_change()
returns trigger
language plpgsql
as $$
begin
  raise exception using
    errcode = '42501',
    message = format('%s is append-only: %s is refused', tg_table_name, tg_op),
    hint = 'Money records are kept forever. Record a correcting transaction instead.';
end
$$;

------------------------------------------------------------------------------
-- Accounts
------------------------------------------------------------------------------

create table treasury.account_purposes (
  purpose text primary key check (purpose ~ '^[a-z][a-z_]{0,49}$'),
  owner_kind text not null check (owner_kind in ('platform', 'user')),
  normal_side text not null check (normal_side in ('debit', 'credit')),
  description text not null,
  constraint account_purposes_shape_key unique (purpose, owner_kind, normal_side)
);

comment on table treasury.account_purposes is
  'What an account is for: whether the platform (owner_id null) or a user owns it, and its normal side '
  '(debit: assets and expenses; credit: liabilities and income). Later modules add rows for new purposes.';

insert into treasury.account_purposes (purpose, owner_kind, normal_side, description) values
  ('stripe_balance', 'platform', 'debit',
   'Money of the platform''s Stripe balance (asset).'),
  ('processing_fees', 'platform', 'debit',
   'Stripe processing fees (expense).'),
  ('dispute_losses', 'platform', 'debit',
   'Dispute fees Stripe charged, net of fees it returned (expense).'),
  ('platform_revenue', 'platform', 'credit',
   'The platform''s shares of payments, net of its shares of refunds and lost disputes (income).'),
  ('dispute_reserve', 'platform', 'credit',
   'The platform''s shares of payments under an open dispute (revenue on hold).'),
  ('payouts_in_transit', 'platform', 'credit',
   'Payouts sent to Stripe and not yet paid to the payee''s bank (clearing liability).'),
  ('payable', 'user', 'credit',
   'What the platform owes a payee: shares of payments, less refunds, lost disputes and payouts (liability).'),
  ('held', 'user', 'credit',
   'A payee''s shares of payments under an open dispute: owed, not available (liability).');

create table treasury.accounts (
  id bigint generated always as identity primary key,
  owner_id uuid,
  owner_kind text not null generated always as (case when owner_id is null then 'platform' else 'user' end) stored,
  purpose text not null,
  normal_side text not null,
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now(),
  constraint accounts_purpose_fkey foreign key (purpose, owner_kind, normal_side)
    references treasury.account_purposes (purpose, owner_kind, normal_side),
  constraint accounts_owner_purpose_currency_key unique nulls not distinct (owner_id, purpose, currency),
  -- The target of the postings' (account_id, currency) reference.
  constraint accounts_id_currency_key unique (id, currency)
);

comment on table treasury.accounts is
  'Ledger accounts: one per owner (a user, or the platform when owner_id is null), purpose and currency. '
  'Made on demand by treasury_private.account(); never changed or deleted.';

create trigger accounts_kept
  before update or delete or truncate on treasury.accounts
  for each statement execute function treasury_private.refuse_change();
alter table treasury.accounts enable always trigger accounts_kept;

-- The id of the account of owner (null: the platform) for purpose and
-- currency, created when missing.
create function treasury_private.account(owner uuid, purpose text, currency text)
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

-- A party of a split as an account: a user's payable or held, and for the
-- platform party (null) its revenue or its dispute reserve.
create function treasury_private.party_account(party uuid, purpose text, currency text)
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

------------------------------------------------------------------------------
-- The ledger
------------------------------------------------------------------------------

create table treasury.ledger_transactions (
  id bigint generated always as identity primary key,
  kind text not null check (kind ~ '^[a-z][a-z_]{0,49}$'),
  reference text not null check (char_length(reference) between 1 and 255),
  stripe_event_id text,
  created_at timestamptz not null default now(),
  constraint ledger_transactions_kind_reference_key unique (kind, reference),
  -- The target of the postings' (txn_id, kind, reference) reference.
  constraint ledger_transactions_id_kind_reference_key unique (id, kind, reference)
);

comment on table treasury.ledger_transactions is
  'One row per ledger transaction. (kind, reference) is unique: the same fact (a payment, a refund up to a '
  'cumulative total, a dispute''s hold) cannot be posted twice. Append-only.';
comment on column treasury.ledger_transactions.kind is
  'payment, processing_fee, refund, dispute_hold, dispute_release, dispute_loss, dispute_fee; later modules add theirs.';
comment on column treasury.ledger_transactions.reference is
  'What the transaction records: a PaymentIntent id, "<pi>:refunded:<cumulative>", a dispute id, ...';

create table public.treasury_ledger (
  id bigint generated always as identity primary key,
  txn_id bigint not null,
  kind text not null,
  reference text not null,
  account_id bigint not null,
  currency char(3) not null,
  -- Never the smallest bigint, so that every amount can be negated.
  amount bigint not null check (amount <> 0 and amount > -9223372036854775808),
  created_at timestamptz not null default now(),
  constraint treasury_ledger_txn_fkey foreign key (txn_id, kind, reference)
    references treasury.ledger_transactions (id, kind, reference),
  constraint treasury_ledger_account_fkey foreign key (account_id, currency)
    references treasury.accounts (id, currency)
);

comment on table public.treasury_ledger is
  'Treasury: the postings of the double-entry ledger, one row per account a transaction touches. amount is in '
  'minor units, debits positive and credits negative; each transaction sums to zero per currency (checked at '
  'commit). Append-only for every role. Written by treasury_private.post().';
comment on column public.treasury_ledger.amount is 'Minor units: debit > 0, credit < 0, never 0.';
comment on column public.treasury_ledger.created_at is 'When it was posted (the transaction''s start): treasury.balance_at reads up to a moment.';

create index treasury_ledger_txn_idx on public.treasury_ledger (txn_id);
create index treasury_ledger_account_idx on public.treasury_ledger (account_id, created_at);

create trigger ledger_transactions_append_only
  before update or delete or truncate on treasury.ledger_transactions
  for each statement execute function treasury_private.refuse_change();
alter table treasury.ledger_transactions enable always trigger ledger_transactions_append_only;
create trigger treasury_ledger_append_only
  before update or delete or truncate on public.treasury_ledger
  for each statement execute function treasury_private.refuse_change();
alter table public.treasury_ledger enable always trigger treasury_ledger_append_only;

-- At commit (deferred), every transaction a new posting belongs to must sum
-- to zero in the posting's currency, however the rows were inserted.
-- Security definer: the check runs at COMMIT as whoever committed, and under
-- row level security a payee (a payout request through the API) would see
-- only their own side of the transaction.
create function treasury_private.check_balanced()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  imbalance numeric;
begin
  select sum(l.amount) into imbalance
  from public.treasury_ledger as l
  where l.txn_id = new.txn_id and l.currency = new.currency;
  if imbalance <> 0 then
    raise exception using
      errcode = '23514',
      message = format('ledger transaction %s (%s %s) does not balance in %s: debits exceed credits by %s',
                       new.txn_id, new.kind, new.reference, new.currency, imbalance),
      hint = 'The postings of a transaction must sum to zero per currency (debits positive, credits negative).';
  end if;
  return null;
end
$$;

create constraint trigger treasury_ledger_balanced
  after insert on public.treasury_ledger
  deferrable initially deferred
  for each row execute function treasury_private.check_balanced();
alter table public.treasury_ledger enable always trigger treasury_ledger_balanced;

create table treasury.account_balances (
  account_id bigint primary key,
  currency char(3) not null,
  balance bigint not null,
  entries bigint not null,
  updated_at timestamptz not null,
  constraint account_balances_account_fkey foreign key (account_id, currency)
    references treasury.accounts (id, currency)
);

comment on table treasury.account_balances is
  'The current balance of every account with postings: the sum of its amounts (debits positive) and their '
  'count, kept in the same transaction by the ledger''s own trigger. Read treasury.balances for the normal side.';

-- Keeps account_balances for every INSERT into the ledger, whoever makes it:
-- one upsert per statement, in account order, under the currencies' locks.
create function treasury_private.apply_to_balances()
returns trigger
language plpgsql
as $$
begin
  perform treasury_private.lock_currency(c.currency)
  from (select distinct n.currency from new_postings as n order by n.currency) as c;

  insert into treasury.account_balances as b (account_id, currency, balance, entries, updated_at)
  select n.account_id, n.currency, sum(n.amount)::bigint, count(*), now()
  from new_postings as n
  group by n.account_id, n.currency
  order by n.account_id
  on conflict (account_id) do update
    set balance = b.balance + excluded.balance,
        entries = b.entries + excluded.entries,
        updated_at = excluded.updated_at;
  return null;
end
$$;

create trigger treasury_ledger_balances
  after insert on public.treasury_ledger
  referencing new table as new_postings
  for each statement execute function treasury_private.apply_to_balances();
alter table public.treasury_ledger enable always trigger treasury_ledger_balances;

-- Only the ledger's trigger writes balances (it runs one trigger level down).
create function treasury_private.guard_balances()
returns trigger
language plpgsql
as $$
begin
  if pg_catalog.pg_trigger_depth() > 1 then
    return null;
  end if;
  raise exception using
    errcode = '42501',
    message = format('account_balances is kept by the ledger: %s is refused', tg_op),
    hint = 'Post a ledger transaction; the balances follow.';
end
$$;

create trigger account_balances_kept_by_ledger
  before insert or update or delete or truncate on treasury.account_balances
  for each statement execute function treasury_private.guard_balances();

create view treasury.balances
with (security_invoker = true)
as
select
  a.id as account_id,
  a.owner_id,
  a.purpose,
  a.currency,
  a.normal_side,
  coalesce(b.balance, 0) as balance,
  case a.normal_side when 'debit' then coalesce(b.balance, 0) else -coalesce(b.balance, 0) end as normal_balance
from treasury.accounts as a
left join treasury.account_balances as b on b.account_id = a.id;

comment on view treasury.balances is
  'Every account with its current balance: balance as stored (debits positive), normal_balance positive when '
  'the account is on its normal side (a payee''s payable of 700 reads 700). Row level security of the accounts applies.';

-- Posts one balanced ledger transaction: lines is a JSON array of
-- {"account_id": n, "amount": n} (debit > 0, credit < 0; zero lines are
-- dropped). Checks everything before inserting, in one statement, so a bad
-- call leaves nothing behind. Returns the transaction id.
create function treasury_private.post(kind text, reference text, lines jsonb, stripe_event_id text default null)
returns bigint
language plpgsql
volatile
as $$
declare
  problem text;
  account_ids bigint[];
  amounts bigint[];
  txn bigint;
begin
  if kind is null or kind !~ '^[a-z][a-z_]{0,49}$' then
    raise exception using errcode = '22023',
      message = format('kind must be 1 to 50 lower-case letters or _, got %s', coalesce(kind, 'null'));
  end if;
  if reference is null or char_length(reference) not between 1 and 255 then
    raise exception using errcode = '22023', message = 'reference must be a string of 1 to 255 characters';
  end if;
  if jsonb_typeof(lines) is distinct from 'array' then
    raise exception using errcode = '22023', message = 'lines must be a JSON array of {"account_id": n, "amount": n}';
  end if;

  select format('lines[%s] %s', l.idx - 1, case
      when jsonb_typeof(l.line) <> 'object' then 'must be an object {"account_id": n, "amount": n}'
      when treasury_private.json_bigint(l.line -> 'account_id') is null then 'account_id must be an integer'
      when treasury_private.json_bigint(l.line -> 'amount') is null then 'amount must be an integer (minor units)'
      else 'amount is out of range'
    end)
  into problem
  from jsonb_array_elements(lines) with ordinality as l(line, idx)
  where jsonb_typeof(l.line) <> 'object'
     or treasury_private.json_bigint(l.line -> 'account_id') is null
     or treasury_private.json_bigint(l.line -> 'amount') is null
     or treasury_private.json_bigint(l.line -> 'amount') = -9223372036854775808
  order by l.idx
  limit 1;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  select array_agg(treasury_private.json_bigint(l.line -> 'account_id') order by l.idx),
         array_agg(treasury_private.json_bigint(l.line -> 'amount') order by l.idx)
  into account_ids, amounts
  from jsonb_array_elements(lines) with ordinality as l(line, idx)
  where treasury_private.json_bigint(l.line -> 'amount') <> 0;
  if account_ids is null then
    raise exception using errcode = '22023', message = format('ledger transaction %s %s has no non-zero line', kind, reference);
  end if;

  select format('account %s does not exist', u.account_id) into problem
  from unnest(account_ids) with ordinality as u(account_id, idx)
  where not exists (select 1 from treasury.accounts as a where a.id = u.account_id)
  order by u.idx
  limit 1;
  if problem is not null then
    raise exception using errcode = 'P0002', message = problem;
  end if;

  select format('ledger transaction %s %s does not balance in %s: debits exceed credits by %s',
                kind, reference, a.currency, sum(u.amount))
  into problem
  from unnest(account_ids, amounts) as u(account_id, amount)
  join treasury.accounts as a on a.id = u.account_id
  group by a.currency
  having sum(u.amount) <> 0
  order by a.currency
  limit 1;
  if problem is not null then
    raise exception using errcode = '23514', message = problem,
      hint = 'The lines must sum to zero per currency (debits positive, credits negative).';
  end if;

  insert into treasury.ledger_transactions as t (kind, reference, stripe_event_id)
  values (post.kind, post.reference, post.stripe_event_id)
  on conflict on constraint ledger_transactions_kind_reference_key do nothing
  returning t.id into txn;
  if txn is null then
    raise exception using
      errcode = '23505',
      message = format('ledger transaction %s %s is posted already', kind, reference),
      hint = 'A fact is posted once; post a new transaction with its own reference to correct it.';
  end if;

  insert into public.treasury_ledger (txn_id, kind, reference, account_id, currency, amount)
  select txn, post.kind, post.reference, u.account_id, a.currency, u.amount
  from unnest(account_ids, amounts) with ordinality as u(account_id, amount, idx)
  join treasury.accounts as a on a.id = u.account_id
  order by u.idx;
  return txn;
end
$$;

comment on function treasury_private.post(text, text, jsonb, text) is
  'Posts one balanced ledger transaction from [{"account_id", "amount"}] (debit > 0, credit < 0); returns its id. '
  '22023 bad argument, P0002 unknown account, 23514 unbalanced, 23505 (kind, reference) posted already.';

-- An account's balance (debits positive) from its postings up to and
-- including at. Security invoker: the caller sees only the accounts row level
-- security lets them see.
create function treasury.balance_at(account_id bigint, at timestamptz)
returns bigint
language plpgsql
stable
set search_path = ''
as $$
declare
  total numeric;
begin
  if account_id is null then
    raise exception using errcode = '22023', message = 'account_id is required';
  end if;
  if at is null then
    raise exception using errcode = '22023', message = 'at is required: the moment to read the balance at';
  end if;
  if not exists (select 1 from treasury.accounts as a where a.id = balance_at.account_id) then
    raise exception using errcode = 'P0002', message = format('account %s not found', account_id);
  end if;
  select sum(l.amount) into total
  from public.treasury_ledger as l
  where l.account_id = balance_at.account_id and l.created_at <= balance_at.at;
  return coalesce(total, 0)::bigint;
end
$$;

comment on function treasury.balance_at(bigint, timestamptz) is
  'The balance of an account (debits positive) from its postings up to and including at. P0002 for an account '
  'the caller cannot see; 22023 when an argument is null.';

------------------------------------------------------------------------------
-- What is sold and how it is split
------------------------------------------------------------------------------

create table treasury.split_rules (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

comment on table treasury.split_rules is
  'How the money of a sale is shared: the parties of split_rule_parties, in position order, with shares '
  'summing to 10,000 basis points (checked at commit). A payment keeps the shares it was split by.';

create table treasury.split_rule_parties (
  rule_id uuid not null references treasury.split_rules (id) on delete cascade,
  position smallint not null check (position between 1 and 100),
  party_id uuid,
  role text not null check (role in ('artist', 'host', 'platform', 'other')),
  share_bp int not null check (share_bp between 0 and 10000),
  primary key (rule_id, position),
  constraint split_rule_parties_party_role_key unique nulls not distinct (rule_id, party_id, role),
  constraint split_rule_parties_platform_check check ((role = 'platform') = (party_id is null))
);

comment on table treasury.split_rule_parties is
  'The parties of a split rule: a user (party_id) as artist, host or other, or the platform (party_id null, '
  'role platform), with a share in basis points. Position orders the parties; the split engine breaks ties of '
  'equal remainders towards the lower position.';

create index split_rule_parties_party_idx on treasury.split_rule_parties (party_id);

-- At commit, every rule touched has at least one party and shares summing to
-- exactly 10,000 basis points.
create function treasury_private.check_split_rule()
returns trigger
language plpgsql
as $$
declare
  rule uuid;
  total bigint;
begin
  for rule in
    select distinct r.id
    from (values ((to_jsonb(new) ->> case tg_table_name when 'split_rules' then 'id' else 'rule_id' end)::uuid),
                 ((to_jsonb(old) ->> 'rule_id')::uuid)) as r(id)
    where r.id is not null
  loop
    continue when not exists (select 1 from treasury.split_rules as r where r.id = rule);
    select sum(p.share_bp) into total from treasury.split_rule_parties as p where p.rule_id = rule;
    if total is distinct from 10000 then
      raise exception using
        errcode = '23514',
        message = format('the shares of split rule %s sum to %s basis points, not 10000', rule, coalesce(total, 0)),
        hint = 'Give the rule parties whose share_bp add up to exactly 10000.';
    end if;
  end loop;
  return null;
end
$$;

create constraint trigger split_rules_complete
  after insert on treasury.split_rules
  deferrable initially deferred
  for each row execute function treasury_private.check_split_rule();
create constraint trigger split_rule_parties_sum
  after insert or update or delete on treasury.split_rule_parties
  deferrable initially deferred
  for each row execute function treasury_private.check_split_rule();

create table treasury.products (
  id uuid primary key default gen_random_uuid(),
  type text not null check (type in ('ticket', 'membership', 'drop', 'merch', 'tip')),
  title text not null check (char_length(title) between 1 and 500),
  artist_id uuid,
  host_id uuid,
  price_minor bigint check (price_minor >= 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  split_rule_id uuid not null references treasury.split_rules (id),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  constraint products_owner_check check (artist_id is not null or host_id is not null)
);

comment on table treasury.products is
  'What the platform sells (ticket tiers, memberships, drops, merch, tips), owned by an artist and/or a host, '
  'each with the split rule its payments are shared by. price_minor null: the buyer chooses (tips). '
  'Managed by service_role; readable by everybody.';

create index products_artist_idx on treasury.products (artist_id);
create index products_host_idx on treasury.products (host_id);

-- Creates a split rule from [{"party_id": uuid | null, "role": text,
-- "share_bp": int}, ...] in position order. Checks what the constraints
-- would, with messages that name the party.
create function treasury.define_split_rule(name text, parties jsonb)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  problem text;
  rule uuid;
begin
  if name is null or char_length(name) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'name must be a string of 1 to 200 characters';
  end if;
  if jsonb_typeof(parties) is distinct from 'array' or jsonb_array_length(parties) not between 1 and 100 then
    raise exception using errcode = '22023',
      message = 'parties must be a JSON array of 1 to 100 {"party_id", "role", "share_bp"} objects';
  end if;

  select format('parties[%s] %s', p.idx - 1, case
      when jsonb_typeof(p.party) <> 'object' then 'must be an object {"party_id", "role", "share_bp"}'
      when p.party ->> 'role' is null or p.party ->> 'role' not in ('artist', 'host', 'platform', 'other') then
        'role must be one of artist, host, platform, other'
      when p.party ->> 'role' = 'platform' and coalesce(jsonb_typeof(p.party -> 'party_id'), 'null') <> 'null' then
        'party_id must be null for the platform'
      when p.party ->> 'role' <> 'platform' and treasury_private.as_uuid(p.party ->> 'party_id') is null then
        'party_id must be a user''s UUID'
      when treasury_private.json_bigint(p.party -> 'share_bp') is null
           or treasury_private.json_bigint(p.party -> 'share_bp') not between 0 and 10000 then
        'share_bp must be an integer from 0 to 10000'
    end)
  into problem
  from jsonb_array_elements(parties) with ordinality as p(party, idx)
  where jsonb_typeof(p.party) <> 'object'
     or p.party ->> 'role' is null
     or p.party ->> 'role' not in ('artist', 'host', 'platform', 'other')
     or (p.party ->> 'role' = 'platform' and coalesce(jsonb_typeof(p.party -> 'party_id'), 'null') <> 'null')
     or (p.party ->> 'role' <> 'platform' and treasury_private.as_uuid(p.party ->> 'party_id') is null)
     or treasury_private.json_bigint(p.party -> 'share_bp') is null
     or treasury_private.json_bigint(p.party -> 'share_bp') not between 0 and 10000
  order by p.idx
  limit 1;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  select format('the shares sum to %s basis points, not 10000', sum((p.party ->> 'share_bp')::bigint))
  into problem
  from jsonb_array_elements(parties) as p(party)
  having sum((p.party ->> 'share_bp')::bigint) <> 10000;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  select format('%s appears twice as %s', coalesce(p.party ->> 'party_id', 'the platform'), p.party ->> 'role')
  into problem
  from jsonb_array_elements(parties) as p(party)
  group by p.party ->> 'party_id', p.party ->> 'role'
  having count(*) > 1
  limit 1;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  insert into treasury.split_rules as r (name) values (define_split_rule.name) returning r.id into rule;
  insert into treasury.split_rule_parties (rule_id, position, party_id, role, share_bp)
  select rule, p.idx, (p.party ->> 'party_id')::uuid, p.party ->> 'role', (p.party ->> 'share_bp')::int
  from jsonb_array_elements(parties) with ordinality as p(party, idx);
  return rule;
end
$$;

comment on function treasury.define_split_rule(text, jsonb) is
  'Creates a split rule from [{"party_id": uuid | null, "role": "artist"|"host"|"platform"|"other", "share_bp": n}] '
  '(positions in array order, shares summing to 10000); returns its id. 22023 names the first problem.';

------------------------------------------------------------------------------
-- Payments, realised splits, disputes
------------------------------------------------------------------------------

create table treasury.payments (
  id text primary key check (id ~ '^pi_[A-Za-z0-9_]{1,250}$'),
  checkout_session_id text unique,
  charge_id text unique,
  product_id uuid not null references treasury.products (id),
  product_type text not null,
  buyer_id uuid not null,
  artist_id uuid,
  host_id uuid,
  event_id uuid,
  tier_id uuid,
  quantity int not null check (quantity >= 1),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  fee_minor bigint check (fee_minor >= 0),
  refunded_minor bigint not null default 0,
  dispute_lost_minor bigint not null default 0,
  dispute_state text check (dispute_state in ('open', 'won', 'lost')),
  split_rule_id uuid not null references treasury.split_rules (id),
  party_ids uuid[] not null,
  party_roles text[] not null,
  shares_bp int[] not null,
  livemode boolean not null,
  paid_at timestamptz not null,
  recorded_at timestamptz not null default now(),
  stripe_event_id text not null,
  constraint payments_reversed_check
    check (refunded_minor >= 0 and dispute_lost_minor >= 0 and refunded_minor + dispute_lost_minor <= amount_minor),
  constraint payments_parties_check
    check (cardinality(shares_bp) between 1 and 100
           and cardinality(party_ids) = cardinality(shares_bp)
           and cardinality(party_roles) = cardinality(shares_bp))
);

comment on table treasury.payments is
  'One row per Stripe PaymentIntent that paid for a product, with the parties and shares it was split by '
  '(a snapshot of the split rule). refunded_minor is Stripe''s cumulative amount_refunded; dispute_lost_minor '
  'what lost disputes took back. Written only by the Stripe event functions.';
comment on column treasury.payments.paid_at is 'Stripe''s created time of the event that recorded the payment.';
comment on column treasury.payments.fee_minor is 'The Stripe processing fee, when an event carried it (null: not known).';

create index payments_buyer_idx on treasury.payments (buyer_id, paid_at desc);
create index payments_artist_idx on treasury.payments (artist_id, paid_at desc);
create index payments_product_idx on treasury.payments (product_id);

-- What was recorded of a payment never changes; only what Stripe tells later
-- may be added: a charge or session id and the fee once, refunds and lost
-- disputes growing, the dispute state.
create function treasury_private.guard_payments()
returns trigger
language plpgsql
as $$
declare
  unchanged treasury.payments;
begin
  if tg_op = 'UPDATE' then
    unchanged := new;
    unchanged.checkout_session_id := old.checkout_session_id;
    unchanged.charge_id := old.charge_id;
    unchanged.fee_minor := old.fee_minor;
    unchanged.refunded_minor := old.refunded_minor;
    unchanged.dispute_lost_minor := old.dispute_lost_minor;
    unchanged.dispute_state := old.dispute_state;
    if unchanged is not distinct from old
       and (old.checkout_session_id is null or new.checkout_session_id is not distinct from old.checkout_session_id)
       and (old.charge_id is null or new.charge_id is not distinct from old.charge_id)
       and (old.fee_minor is null or new.fee_minor is not distinct from old.fee_minor)
       and new.refunded_minor >= old.refunded_minor
       and new.dispute_lost_minor >= old.dispute_lost_minor then
      return new;
    end if;
  end if;
  raise exception using
    errcode = '42501',
    message = format('payments are kept as recorded: %s is refused', tg_op),
    hint = 'Only the charge and session ids and the fee may be added, refunds and lost disputes may grow.';
end
$$;

create trigger payments_kept_update
  before update on treasury.payments
  for each row execute function treasury_private.guard_payments();
create trigger payments_kept_delete
  before delete or truncate on treasury.payments
  for each statement execute function treasury_private.guard_payments();
alter table treasury.payments enable always trigger payments_kept_update;
alter table treasury.payments enable always trigger payments_kept_delete;

create table public.treasury_splits (
  id bigint generated always as identity primary key,
  payment_id text not null references treasury.payments (id),
  reason text not null check (reason in ('payment', 'refund', 'dispute')),
  reference text not null,
  party_index smallint not null check (party_index >= 1),
  party_id uuid,
  role text not null,
  amount_minor bigint not null,
  currency char(3) not null,
  created_at timestamptz not null default now(),
  constraint treasury_splits_line_key unique (payment_id, reason, reference, party_index)
);

comment on table public.treasury_splits is
  'Treasury: the realised split lines of every payment (reason payment, amounts >= 0 summing to the payment), '
  'refund (reason refund, the reversal as negative amounts) and lost dispute (reason dispute, negative). '
  'party_index is the party''s position in the payment''s shares; party_id null is the platform. Append-only.';
comment on column public.treasury_splits.reference is 'The reference of the ledger transaction that posted the line.';

create index treasury_splits_party_idx on public.treasury_splits (party_id, created_at);
create trigger treasury_splits_append_only
  before update or delete or truncate on public.treasury_splits
  for each statement execute function treasury_private.refuse_change();
alter table public.treasury_splits enable always trigger treasury_splits_append_only;

create table treasury.disputes (
  id text primary key check (char_length(id) between 1 and 255),
  payment_id text not null references treasury.payments (id),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  reason text,
  status text not null,
  outcome text check (outcome in ('won', 'lost')),
  hold_lines bigint[] not null,
  fee_minor bigint not null default 0,
  opened_at timestamptz not null,
  closed_at timestamptz,
  recorded_at timestamptz not null default now(),
  constraint disputes_closed_check check ((outcome is null) = (closed_at is null))
);

comment on table treasury.disputes is
  'Stripe disputes of recorded payments. hold_lines: per party of the payment (same order), what moved from '
  'payable to held while the dispute is open; released when won, written off when lost. outcome null: open. '
  'fee_minor: the dispute fees Stripe''s balance transactions showed, net.';

create index disputes_payment_idx on treasury.disputes (payment_id);
create index disputes_open_idx on treasury.disputes (opened_at) where outcome is null;

create trigger disputes_kept
  before delete or truncate on treasury.disputes
  for each statement execute function treasury_private.refuse_change();
alter table treasury.disputes enable always trigger disputes_kept;

------------------------------------------------------------------------------
-- Stripe events and webhook rejections
------------------------------------------------------------------------------

create table treasury.stripe_events (
  event_id text not null check (char_length(event_id) between 1 and 255),
  type text not null check (char_length(type) between 1 and 255),
  livemode boolean not null,
  api_version text,
  stripe_created timestamptz not null,
  payment_intent_id text,
  charge_id text,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  -- 'received' exists only inside the transaction that inserts the row.
  status text not null check (status in ('received', 'applied', 'ignored', 'deferred', 'failed')),
  note text,
  applied_at timestamptz,
  attempts int not null default 1,
  constraint stripe_events_pkey primary key (event_id)
);

comment on table treasury.stripe_events is
  'Every Stripe event received, by its id (the exactly-once gate: a redelivery finds its row and is answered as a '
  'duplicate). status: applied, ignored (nothing to do), deferred (waits for its payment), failed (see note; '
  'retry with treasury.retry_stripe_event). payload is the event as received.';
comment on column treasury.stripe_events.stripe_created is 'The event''s created time at Stripe; deferred events apply in this order.';
comment on column treasury.stripe_events.payment_intent_id is 'The PaymentIntent the event concerns, when it names one.';
comment on column treasury.stripe_events.charge_id is 'The charge the event concerns, when it names one.';

create index stripe_events_deferred_pi_idx on treasury.stripe_events (payment_intent_id) where status = 'deferred';
create index stripe_events_deferred_charge_idx on treasury.stripe_events (charge_id) where status = 'deferred';
create index stripe_events_attention_idx on treasury.stripe_events (received_at) where status in ('failed', 'deferred');

-- The event as received never changes; what became of it may.
create function treasury_private.guard_stripe_events()
returns trigger
language plpgsql
as $$
declare
  unchanged treasury.stripe_events;
begin
  if tg_op = 'UPDATE' then
    unchanged := new;
    unchanged.status := old.status;
    unchanged.note := old.note;
    unchanged.applied_at := old.applied_at;
    unchanged.attempts := old.attempts;
    if unchanged is not distinct from old then
      return new;
    end if;
  end if;
  raise exception using
    errcode = '42501',
    message = format('stripe_events keeps every event as received: %s is refused', tg_op),
    hint = 'Only status, note, applied_at and attempts change.';
end
$$;

create trigger stripe_events_kept_update
  before update on treasury.stripe_events
  for each row execute function treasury_private.guard_stripe_events();
create trigger stripe_events_kept_delete
  before delete or truncate on treasury.stripe_events
  for each statement execute function treasury_private.guard_stripe_events();
alter table treasury.stripe_events enable always trigger stripe_events_kept_update;
alter table treasury.stripe_events enable always trigger stripe_events_kept_delete;

create view treasury.stripe_event_problems
with (security_invoker = true)
as
select e.event_id, e.type, e.status, e.note, e.payment_intent_id, e.charge_id, e.stripe_created, e.received_at, e.attempts
from treasury.stripe_events as e
where e.status in ('failed', 'deferred');

comment on view treasury.stripe_event_problems is
  'Stripe events that need an admin: failed ones (note says why) and deferred ones still waiting for their payment.';

create table treasury.webhook_rejections (
  id bigint generated always as identity primary key,
  rejected_at timestamptz not null default now(),
  code text not null,
  message text not null,
  detail jsonb not null default '{}'
);

comment on table treasury.webhook_rejections is
  'Requests the stripe-webhook function refused (bad signature and the like), with what it could tell. Kept '
  '30 days and at most 100,000 rows (pg_cron job treasury-prune-webhook-rejections).';

create index webhook_rejections_rejected_at_idx on treasury.webhook_rejections (rejected_at);

create function treasury.log_webhook_rejection(code text, message text, detail jsonb default '{}')
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  stored bigint;
begin
  if code is null or code !~ '^[a-z][a-z_]{0,49}$' then
    raise exception using errcode = '22023',
      message = format('code must be 1 to 50 lower-case letters or _, got %s', coalesce(code, 'null'));
  end if;
  if message is null then
    raise exception using errcode = '22023', message = 'message is required';
  end if;
  if detail is not null and jsonb_typeof(detail) <> 'object' then
    raise exception using errcode = '22023', message = 'detail must be a JSON object';
  end if;
  insert into treasury.webhook_rejections as r (code, message, detail)
  values (code, left(message, 1000),
          case when octet_length(coalesce(detail, '{}')::text) > 8192
            then jsonb_build_object('truncated', true, 'bytes', octet_length(detail::text))
            else coalesce(detail, '{}') end)
  returning r.id into stored;
  return stored;
end
$$;

comment on function treasury.log_webhook_rejection(text, text, jsonb) is
  'Records a request the webhook refused: a stable code, a message (cut to 1000 characters) and a detail object '
  '(replaced by {"truncated": true} above 8 KB). Returns the row id.';

create function treasury_private.prune_webhook_rejections(
  max_age interval default interval '30 days',
  max_rows bigint default 100000
)
returns bigint
language plpgsql
as $$
declare
  too_old bigint;
  too_many bigint;
begin
  delete from treasury.webhook_rejections as r where r.rejected_at < now() - max_age;
  get diagnostics too_old = row_count;

  delete from treasury.webhook_rejections as r
  where r.id <= (select k.id from treasury.webhook_rejections as k order by k.id desc offset max_rows limit 1);
  get diagnostics too_many = row_count;

  return too_old + too_many;
end
$$;

select cron.schedule(
  'treasury-prune-webhook-rejections',
  '*/10 * * * *',
  'select treasury_private.prune_webhook_rejections()'
);

------------------------------------------------------------------------------
-- Applying Stripe events
------------------------------------------------------------------------------

create function treasury_private.outcome(status text, note text default null)
returns jsonb
language sql
immutable
as $$
  select jsonb_strip_nulls(jsonb_build_object('status', status, 'note', note))
$$;

-- The payment a PaymentIntent id or, without one, a charge id names.
create function treasury_private.find_payment(payment_intent text, charge text)
returns treasury.payments
language plpgsql
stable
as $$
declare
  pay treasury.payments;
begin
  if payment_intent is not null then
    select * into pay from treasury.payments as p where p.id = payment_intent;
  elsif charge is not null then
    select * into pay from treasury.payments as p where p.charge_id = charge;
  end if;
  return pay;
end
$$;

-- The fee of a charge when its balance transaction is expanded in the event
-- and counts in the payment's currency; else null.
create function treasury_private.charge_fee(charge jsonb, currency text)
returns bigint
language sql
immutable
as $$
  select case
    when jsonb_typeof(charge -> 'balance_transaction') = 'object'
         and coalesce(treasury_private.currency_of(charge -> 'balance_transaction' -> 'currency'), currency) = currency
         and treasury_private.json_bigint(charge -> 'balance_transaction' -> 'fee') >= 0
      then treasury_private.json_bigint(charge -> 'balance_transaction' -> 'fee')
  end
$$;

-- Applies, in Stripe's created order, the deferred events that wait for a
-- payment (by its PaymentIntent, or by its charge when they name no
-- PaymentIntent). Returns [{"event_id", "status"}] of those it tried.
create function treasury_private.apply_deferred(payment_id text)
returns jsonb
language plpgsql
volatile
as $$
declare
  tried text[] := '{}'::text[];
  done jsonb := '[]'::jsonb;
  charge text;
  waiting treasury.stripe_events;
  result jsonb;
begin
  -- One pass applies everything that waited, in Stripe's order, and reports
  -- it: an event applied by this loop that would start a pass of its own (a
  -- refund that teaches the payment its charge id) leaves it to this one.
  if current_setting('treasury.applying_deferred', true) = 'on' then
    return '[]'::jsonb;
  end if;
  perform set_config('treasury.applying_deferred', 'on', true);
  loop
    select p.charge_id into charge from treasury.payments as p where p.id = payment_id;
    select * into waiting
    from treasury.stripe_events as e
    where e.status = 'deferred'
      and (e.payment_intent_id = payment_id or (charge is not null and e.payment_intent_id is null and e.charge_id = charge))
      and e.event_id <> all (tried)
    order by e.stripe_created, e.event_id
    limit 1
    for update;
    exit when not found;

    tried := tried || waiting.event_id;
    result := treasury_private.apply_event(waiting.payload);
    update treasury.stripe_events as e
    set status = result ->> 'status',
        note = result ->> 'note',
        applied_at = case when result ->> 'status' = 'applied' then now() end,
        attempts = e.attempts + 1
    where e.event_id = waiting.event_id;
    done := done || jsonb_build_object('event_id', waiting.event_id, 'status', result ->> 'status');
  end loop;
  perform set_config('treasury.applying_deferred', 'off', true);
  return done;
end
$$;

-- A fact about a recorded payment that an event adds: the charge id and the
-- session id (once), the processing fee (posted once). A newly known charge
-- releases the deferred events that name only the charge.
create function treasury_private.complete_payment(
  pay treasury.payments,
  event_id text,
  checkout_session text,
  charge text,
  fee bigint
)
returns jsonb
language plpgsql
volatile
as $$
declare
  released jsonb := '[]'::jsonb;
begin
  if (pay.checkout_session_id is null and checkout_session is not null)
     or (pay.charge_id is null and charge is not null)
     or (pay.fee_minor is null and fee is not null) then
    update treasury.payments as p
    set checkout_session_id = coalesce(p.checkout_session_id, checkout_session),
        charge_id = coalesce(p.charge_id, charge),
        fee_minor = coalesce(p.fee_minor, fee)
    where p.id = pay.id;
  end if;
  if pay.fee_minor is null and fee > 0 then
    perform treasury_private.post('processing_fee', pay.id, jsonb_build_array(
      jsonb_build_object('account_id', treasury_private.account(null, 'processing_fees', pay.currency), 'amount', fee),
      jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', pay.currency), 'amount', -fee)),
      event_id);
  end if;
  if pay.charge_id is null and charge is not null then
    released := treasury_private.apply_deferred(pay.id);
  end if;
  return released;
end
$$;

-- Hooks for the modules that sell through Treasury (Concierto issues tickets):
-- called inside the event's transaction, after a new payment is recorded
-- (before the events that waited for it) and after a refund total grows. They
-- do nothing here; 20261122001000_concierto.sql replaces them. A hook must
-- not raise for a problem with the data (that would make Stripe retry
-- forever): it records the problem and returns.
create function treasury_private.after_payment(payment_id text)
returns void
language plpgsql
volatile
as $$
begin
end
$$;

create function treasury_private.after_refund(payment_id text, refunded_total bigint)
returns void
language plpgsql
volatile
as $$
begin
end
$$;

comment on function treasury_private.after_payment(text) is
  'Hook: runs after a new payment is recorded, in its transaction. Does nothing here; replaced by Concierto.';
comment on function treasury_private.after_refund(text, bigint) is
  'Hook: runs after a payment''s refunded total grows to refunded_total, in its transaction. Does nothing here; '
  'replaced by Concierto.';

-- Records the payment of a PaymentIntent: the payment row with its shares,
-- the realised split, the ledger transaction, the fee when known, the
-- Passport events; then applies what waited for it. The second event of a
-- payment (checkout session and PaymentIntent both arrive) only completes it.
create function treasury_private.apply_payment(
  event_id text,
  paid_at timestamptz,
  livemode boolean,
  payment_intent text,
  checkout_session text,
  amount bigint,
  currency text,
  metadata jsonb,
  charge text,
  fee bigint
)
returns jsonb
language plpgsql
volatile
as $$
declare
  pay treasury.payments;
  item treasury.products;
  problem text;
  released jsonb;
  buyer uuid;
  artist uuid;
  parties uuid[];
  roles text[];
  shares int[];
  lines bigint[];
begin
  if payment_intent is null or payment_intent !~ '^pi_[A-Za-z0-9_]{1,250}$' then
    return treasury_private.outcome('failed', format('payment_intent must be a PaymentIntent id, got %s', coalesce(payment_intent, 'null')));
  end if;
  if currency is null then
    return treasury_private.outcome('failed', 'currency must be a 3-letter ISO 4217 code');
  end if;
  if amount is null or amount <= 0 then
    return treasury_private.outcome('failed', 'the amount paid must be an integer > 0 (minor units)');
  end if;

  perform treasury_private.lock_currency(currency);
  pay := treasury_private.find_payment(payment_intent, null);
  if pay.id is not null then
    if pay.currency <> currency then
      return treasury_private.outcome('failed', format('payment %s is recorded in %s, this event says %s', pay.id, pay.currency, currency));
    end if;
    released := treasury_private.complete_payment(pay, event_id, checkout_session, charge, fee);
    return treasury_private.outcome('applied', 'already_recorded')
      || jsonb_build_object('payment_id', pay.id)
      || case when released <> '[]' then jsonb_build_object('deferred_events', released) else '{}' end;
  end if;

  -- The metadata contract (docs/treasury-ledger.md). Stripe metadata values
  -- are strings; an empty one counts as absent.
  metadata := coalesce(metadata, '{}');
  problem := case
    when jsonb_typeof(metadata) <> 'object' then 'metadata must be an object'
    when nullif(metadata ->> 'product_id', '') is null then 'metadata.product_id is required'
    when treasury_private.as_uuid(metadata ->> 'product_id') is null then 'metadata.product_id must be a UUID'
    when nullif(metadata ->> 'buyer_id', '') is null then 'metadata.buyer_id is required'
    when treasury_private.as_uuid(metadata ->> 'buyer_id') is null then 'metadata.buyer_id must be a UUID'
    when nullif(metadata ->> 'quantity', '') !~ '^[1-9][0-9]{0,8}$' then 'metadata.quantity must be an integer >= 1'
    when nullif(metadata ->> 'artist_id', '') is not null and treasury_private.as_uuid(metadata ->> 'artist_id') is null then
      'metadata.artist_id must be a UUID'
    when nullif(metadata ->> 'event_id', '') is not null and treasury_private.as_uuid(metadata ->> 'event_id') is null then
      'metadata.event_id must be a UUID'
    when nullif(metadata ->> 'tier_id', '') is not null and treasury_private.as_uuid(metadata ->> 'tier_id') is null then
      'metadata.tier_id must be a UUID'
  end;
  if problem is null then
    select * into item from treasury.products as p where p.id = (metadata ->> 'product_id')::uuid;
    if not found then
      problem := format('metadata.product_id %s is not a product', metadata ->> 'product_id');
    end if;
  end if;
  if problem is null then
    artist := treasury_private.as_uuid(metadata ->> 'artist_id');
    if artist is not null and item.artist_id is not null and artist <> item.artist_id then
      problem := format('metadata.artist_id %s is not the artist of product %s (%s)', artist, item.id, item.artist_id);
    end if;
  end if;
  if problem is not null then
    return treasury_private.outcome('failed', problem);
  end if;

  buyer := (metadata ->> 'buyer_id')::uuid;
  artist := coalesce(item.artist_id, artist);
  select array_agg(r.party_id order by r.position), array_agg(r.role order by r.position), array_agg(r.share_bp order by r.position)
  into parties, roles, shares
  from treasury.split_rule_parties as r
  where r.rule_id = item.split_rule_id;
  lines := coliseum.allocate_split(amount, shares);

  insert into treasury.payments (
    id, checkout_session_id, charge_id, product_id, product_type, buyer_id, artist_id, host_id, event_id, tier_id,
    quantity, amount_minor, currency, fee_minor, split_rule_id, party_ids, party_roles, shares_bp, livemode, paid_at,
    stripe_event_id)
  values (
    payment_intent, checkout_session, charge, item.id, item.type, buyer, artist, item.host_id,
    treasury_private.as_uuid(metadata ->> 'event_id'), treasury_private.as_uuid(metadata ->> 'tier_id'),
    coalesce(nullif(metadata ->> 'quantity', '')::int, 1), amount, currency, fee, item.split_rule_id,
    parties, roles, shares, livemode, paid_at, apply_payment.event_id)
  returning * into pay;

  insert into public.treasury_splits (payment_id, reason, reference, party_index, party_id, role, amount_minor, currency)
  select pay.id, 'payment', pay.id, i, parties[i], roles[i], lines[i], currency
  from generate_subscripts(lines, 1) as i;

  perform treasury_private.post('payment', pay.id,
    jsonb_build_array(jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', currency), 'amount', amount))
    || (select jsonb_agg(jsonb_build_object('account_id', treasury_private.party_account(parties[i], 'payable', currency),
                                            'amount', -lines[i]) order by i)
        from generate_subscripts(lines, 1) as i),
    event_id);
  if fee > 0 then
    perform treasury_private.post('processing_fee', pay.id, jsonb_build_array(
      jsonb_build_object('account_id', treasury_private.account(null, 'processing_fees', currency), 'amount', fee),
      jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', currency), 'amount', -fee)),
      event_id);
  end if;

  -- Passport refuses times ahead of its clock; Stripe's may be, a little.
  perform passport.log(buyer, 'treasury.money_spent', 'stripe:' || pay.id || ':spent',
    jsonb_build_object('payment_id', pay.id, 'amount_minor', amount, 'currency', currency, 'product_type', item.type),
    artist, least(paid_at, now()), 'treasury');
  -- The payee's share is no fan activity of an artist: logged without one.
  perform passport.log(parties[i], 'treasury.money_earned', 'stripe:' || pay.id || ':earned:' || roles[i],
    jsonb_build_object('payment_id', pay.id, 'amount_minor', lines[i], 'currency', currency, 'role', roles[i]),
    null, least(paid_at, now()), 'treasury')
  from generate_subscripts(lines, 1) as i
  where parties[i] is not null and lines[i] > 0;

  perform treasury_private.after_payment(pay.id);
  released := treasury_private.apply_deferred(pay.id);
  return treasury_private.outcome('applied')
    || jsonb_build_object('payment_id', pay.id)
    || case when released <> '[]' then jsonb_build_object('deferred_events', released) else '{}' end;
end
$$;

-- charge.refunded: amount_refunded is Stripe's cumulative total. What is new
-- since the last recorded total is reversed by allocating the cumulative
-- reversal (refunds and lost disputes) and subtracting what was reversed
-- before, so a full refund in any steps leaves every party at zero.
create function treasury_private.apply_refund(event_id text, occurred timestamptz, charge jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  payment_intent text := treasury_private.stripe_id(charge -> 'payment_intent');
  charge_ref text := treasury_private.stripe_id(charge -> 'id');
  total bigint := treasury_private.json_bigint(charge -> 'amount_refunded');
  refund_currency text := treasury_private.currency_of(charge -> 'currency');
  pay treasury.payments;
  released jsonb;
  reversed bigint;
  open_disputes bigint;
  delta bigint;
  lines bigint[];
  ref text;
begin
  if payment_intent is null and charge_ref is null then
    return treasury_private.outcome('failed', 'the charge names neither a payment_intent nor an id');
  end if;
  if total is null or total < 0 then
    return treasury_private.outcome('failed', 'data.object.amount_refunded must be an integer >= 0');
  end if;
  if refund_currency is null then
    return treasury_private.outcome('failed', 'data.object.currency must be a 3-letter ISO 4217 code');
  end if;

  perform treasury_private.lock_currency(refund_currency);
  pay := treasury_private.find_payment(payment_intent, charge_ref);
  if pay.id is null then
    return treasury_private.outcome('deferred', format('waiting for payment %s', coalesce(payment_intent, 'of charge ' || charge_ref)));
  end if;
  if pay.currency <> refund_currency then
    return treasury_private.outcome('failed', format('payment %s is recorded in %s, this event says %s', pay.id, pay.currency, refund_currency));
  end if;
  released := treasury_private.complete_payment(pay, event_id, null, charge_ref, null);
  -- Read again: the events that waited for the charge may have moved it on.
  pay := treasury_private.find_payment(pay.id, null);
  if total <= pay.refunded_minor then
    return treasury_private.outcome('applied', 'already_recorded')
      || jsonb_build_object('payment_id', pay.id)
      || case when released <> '[]' then jsonb_build_object('deferred_events', released) else '{}' end;
  end if;

  delta := total - pay.refunded_minor;
  reversed := pay.refunded_minor + pay.dispute_lost_minor;
  select coalesce(sum(d.amount_minor), 0)::bigint into open_disputes
  from treasury.disputes as d where d.payment_id = pay.id and d.outcome is null;
  if reversed + delta + open_disputes > pay.amount_minor then
    return treasury_private.outcome('failed', format(
      'refunded total %s with %s lost and %s in open disputes exceeds payment %s of %s',
      total, pay.dispute_lost_minor, open_disputes, pay.id, pay.amount_minor));
  end if;

  lines := coliseum.allocate_refund(pay.amount_minor, pay.shares_bp, reversed, reversed + delta);
  ref := pay.id || ':refunded:' || total;
  insert into public.treasury_splits (payment_id, reason, reference, party_index, party_id, role, amount_minor, currency)
  select pay.id, 'refund', ref, i, pay.party_ids[i], pay.party_roles[i], -lines[i], pay.currency
  from generate_subscripts(lines, 1) as i;
  perform treasury_private.post('refund', ref,
    (select jsonb_agg(jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'payable', pay.currency),
                                         'amount', lines[i]) order by i)
     from generate_subscripts(lines, 1) as i)
    || jsonb_build_array(jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', pay.currency), 'amount', -delta)),
    event_id);
  update treasury.payments as p set refunded_minor = total where p.id = pay.id;
  perform treasury_private.after_refund(pay.id, total);

  perform passport.log(pay.buyer_id, 'treasury.refund', 'stripe:' || pay.id || ':refund:' || total,
    jsonb_build_object('payment_id', pay.id, 'amount_minor', delta, 'currency', pay.currency),
    pay.artist_id, least(occurred, now()), 'treasury');

  return treasury_private.outcome('applied')
    || jsonb_build_object('payment_id', pay.id, 'refunded_minor', total)
    || case when released <> '[]' then jsonb_build_object('deferred_events', released) else '{}' end;
end
$$;

-- charge.dispute.created / charge.dispute.closed. Opening holds each party's
-- share of the disputed amount (payable -> held; the platform's revenue ->
-- dispute_reserve). Won (or an inquiry closed) releases it; lost writes the
-- held shares off against the Stripe balance, like a refund. A closed event
-- for a dispute never seen opens it first. Dispute fees come from the
-- dispute's balance_transactions when the event carries them.
create function treasury_private.apply_dispute(event_id text, occurred timestamptz, event_type text, dispute jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  dispute_ref text := treasury_private.stripe_id(dispute -> 'id');
  payment_intent text := treasury_private.stripe_id(dispute -> 'payment_intent');
  charge_ref text := treasury_private.stripe_id(dispute -> 'charge');
  disputed bigint := treasury_private.json_bigint(dispute -> 'amount');
  dispute_currency text := treasury_private.currency_of(dispute -> 'currency');
  stripe_status text := left(dispute ->> 'status', 50);
  closing boolean := event_type = 'charge.dispute.closed';
  pay treasury.payments;
  held treasury.disputes;
  note text;
  reversed bigint;
  open_disputes bigint;
  fees bigint;
  hold bigint[];
begin
  if dispute_ref is null then
    return treasury_private.outcome('failed', 'data.object.id (the dispute id) is required');
  end if;
  if payment_intent is null and charge_ref is null then
    return treasury_private.outcome('failed', 'the dispute names neither a payment_intent nor a charge');
  end if;
  if disputed is null or disputed <= 0 then
    return treasury_private.outcome('failed', 'data.object.amount must be an integer > 0');
  end if;
  if dispute_currency is null then
    return treasury_private.outcome('failed', 'data.object.currency must be a 3-letter ISO 4217 code');
  end if;
  if closing and (stripe_status is null or stripe_status not in ('won', 'lost', 'warning_closed')) then
    return treasury_private.outcome('failed', format('a closed dispute must be won, lost or warning_closed, got %s', coalesce(stripe_status, 'null')));
  end if;

  perform treasury_private.lock_currency(dispute_currency);
  pay := treasury_private.find_payment(payment_intent, charge_ref);
  if pay.id is null then
    return treasury_private.outcome('deferred', format('waiting for payment %s', coalesce(payment_intent, 'of charge ' || charge_ref)));
  end if;
  if pay.currency <> dispute_currency then
    return treasury_private.outcome('failed', format('payment %s is recorded in %s, this event says %s', pay.id, pay.currency, dispute_currency));
  end if;
  perform treasury_private.complete_payment(pay, event_id, null, charge_ref, null);
  pay := treasury_private.find_payment(pay.id, null);

  select * into held from treasury.disputes as d where d.id = dispute_ref for update;
  if not found then
    reversed := pay.refunded_minor + pay.dispute_lost_minor;
    select coalesce(sum(d.amount_minor), 0)::bigint into open_disputes
    from treasury.disputes as d where d.payment_id = pay.id and d.outcome is null;
    if reversed + open_disputes + disputed > pay.amount_minor then
      return treasury_private.outcome('failed', format(
        'dispute %s of %s exceeds what is left of payment %s (%s, of which %s refunded or lost and %s disputed)',
        dispute_ref, disputed, pay.id, pay.amount_minor, reversed, open_disputes));
    end if;
    -- The disputed amount is allocated after everything reversed or held
    -- before it, like one more refund.
    hold := coliseum.allocate_refund(pay.amount_minor, pay.shares_bp, reversed + open_disputes, reversed + open_disputes + disputed);
    insert into treasury.disputes (id, payment_id, amount_minor, currency, reason, status, hold_lines, opened_at)
    values (dispute_ref, pay.id, disputed, dispute_currency, left(dispute ->> 'reason', 200), coalesce(stripe_status, 'unknown'), hold,
            coalesce(to_timestamp(treasury_private.json_bigint(dispute -> 'created')), occurred))
    returning * into held;
    perform treasury_private.post('dispute_hold', dispute_ref,
      (select jsonb_agg(x.line order by x.i, x.side)
       from generate_subscripts(hold, 1) as i
       cross join lateral (values
         (i, 1, jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'payable', dispute_currency), 'amount', hold[i])),
         (i, 2, jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'held', dispute_currency), 'amount', -hold[i]))
       ) as x(i, side, line)),
      event_id);
    update treasury.payments as p set dispute_state = 'open' where p.id = pay.id;
  else
    note := 'already_recorded';
  end if;

  -- Fees: the net of the fees of the dispute's balance transactions in the
  -- payment's currency, against what is recorded.
  if jsonb_typeof(dispute -> 'balance_transactions') = 'array' then
    select coalesce(sum(treasury_private.json_bigint(b.tx -> 'fee')), 0)::bigint into fees
    from jsonb_array_elements(dispute -> 'balance_transactions') as b(tx)
    where coalesce(treasury_private.currency_of(b.tx -> 'currency'), dispute_currency) = dispute_currency;
    if fees <> held.fee_minor then
      perform treasury_private.post('dispute_fee', dispute_ref || ':fees:' || fees, jsonb_build_array(
        jsonb_build_object('account_id', treasury_private.account(null, 'dispute_losses', dispute_currency), 'amount', fees - held.fee_minor),
        jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', dispute_currency), 'amount', held.fee_minor - fees)),
        event_id);
      update treasury.disputes as d set fee_minor = fees where d.id = dispute_ref;
      note := null;
    end if;
  end if;

  if closing and held.outcome is null then
    note := null;
    if stripe_status = 'lost' then
      perform treasury_private.post('dispute_loss', dispute_ref,
        (select jsonb_agg(jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'held', dispute_currency),
                                             'amount', held.hold_lines[i]) order by i)
         from generate_subscripts(held.hold_lines, 1) as i)
        || jsonb_build_array(jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', dispute_currency),
                                                'amount', -held.amount_minor)),
        event_id);
      insert into public.treasury_splits (payment_id, reason, reference, party_index, party_id, role, amount_minor, currency)
      select pay.id, 'dispute', dispute_ref, i, pay.party_ids[i], pay.party_roles[i], -held.hold_lines[i], dispute_currency
      from generate_subscripts(held.hold_lines, 1) as i;
      update treasury.payments as p
      set dispute_lost_minor = p.dispute_lost_minor + held.amount_minor, dispute_state = 'lost'
      where p.id = pay.id;
      -- A chargeback gives the buyer the money back.
      perform passport.log(pay.buyer_id, 'treasury.refund', 'stripe:' || dispute_ref || ':lost',
        jsonb_build_object('payment_id', pay.id, 'amount_minor', held.amount_minor, 'currency', dispute_currency),
        pay.artist_id, least(occurred, now()), 'treasury');
    else
      perform treasury_private.post('dispute_release', dispute_ref,
        (select jsonb_agg(x.line order by x.i, x.side)
         from generate_subscripts(held.hold_lines, 1) as i
         cross join lateral (values
           (i, 1, jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'held', dispute_currency), 'amount', held.hold_lines[i])),
           (i, 2, jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'payable', dispute_currency), 'amount', -held.hold_lines[i]))
         ) as x(i, side, line)),
        event_id);
      update treasury.payments as p set dispute_state = 'won' where p.id = pay.id;
    end if;
    update treasury.disputes as d
    set outcome = case when stripe_status = 'lost' then 'lost' else 'won' end, status = stripe_status, closed_at = occurred
    where d.id = dispute_ref;
  elsif stripe_status is distinct from held.status and held.outcome is null and stripe_status is not null then
    update treasury.disputes as d set status = stripe_status where d.id = dispute_ref;
  end if;

  return treasury_private.outcome('applied', note) || jsonb_build_object('payment_id', pay.id, 'dispute_id', dispute_ref);
end
$$;

-- What the payouts module (20261122000900_treasury_payouts.sql) does with
-- payout.* and transfer.* events. It replaces this function; until then such
-- events are recorded as ignored. Contract: called inside the event's
-- transaction with the whole event; returns {"status": applied | ignored |
-- deferred | failed, "note"?: text, ...}; takes treasury_private.lock_currency
-- before it creates accounts or posts.
create function treasury_private.apply_payout_event(event jsonb)
returns jsonb
language sql
volatile
as $$
  select treasury_private.outcome('ignored', format('%s: no payouts module is installed', event ->> 'type'))
$$;

comment on function treasury_private.apply_payout_event(jsonb) is
  'Applies a payout.* or transfer.* event; replaced by the payouts module. Returns {"status", "note"?}.';

-- Dispatches a (shape-checked) event by type. Returns {"status", "note"?,
-- "payment_id"?, ...}.
create function treasury_private.apply_event(event jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  event_type text := event ->> 'type';
  obj jsonb := event -> 'data' -> 'object';
  evt_id text := event ->> 'id';
  occurred timestamptz := to_timestamp(treasury_private.json_bigint(event -> 'created'));
  live boolean := coalesce((event ->> 'livemode')::boolean, false);
  paid_currency text := treasury_private.currency_of(obj -> 'currency');
  result jsonb;
begin
  if event_type in ('checkout.session.completed', 'checkout.session.async_payment_succeeded') then
    if obj ->> 'mode' is distinct from 'payment' then
      return treasury_private.outcome('ignored', format('checkout mode %s: only one-off payments are recorded', coalesce(obj ->> 'mode', 'null')));
    end if;
    if obj ->> 'payment_status' is distinct from 'paid' then
      return treasury_private.outcome('ignored', format(
        'payment_status %s: the payment is recorded when it is paid (checkout.session.async_payment_succeeded or payment_intent.succeeded)',
        coalesce(obj ->> 'payment_status', 'null')));
    end if;
    if treasury_private.stripe_id(obj -> 'payment_intent') is null then
      return treasury_private.outcome('ignored', 'the session has no PaymentIntent: nothing was charged');
    end if;
    return treasury_private.apply_payment(evt_id, occurred, live,
      treasury_private.stripe_id(obj -> 'payment_intent'), treasury_private.stripe_id(obj -> 'id'),
      treasury_private.json_bigint(obj -> 'amount_total'), paid_currency, obj -> 'metadata', null, null);
  elsif event_type = 'payment_intent.succeeded' then
    return treasury_private.apply_payment(evt_id, occurred, live,
      treasury_private.stripe_id(obj -> 'id'), null,
      treasury_private.json_bigint(obj -> 'amount_received'), paid_currency, obj -> 'metadata',
      treasury_private.stripe_id(obj -> 'latest_charge'), treasury_private.charge_fee(obj -> 'latest_charge', paid_currency));
  elsif event_type = 'charge.refunded' then
    return treasury_private.apply_refund(evt_id, occurred, obj);
  elsif event_type in ('charge.dispute.created', 'charge.dispute.closed') then
    return treasury_private.apply_dispute(evt_id, occurred, event_type, obj);
  elsif event_type like 'payout.%' or event_type like 'transfer.%' then
    result := treasury_private.apply_payout_event(event);
    if result ->> 'status' is null or result ->> 'status' not in ('applied', 'ignored', 'deferred', 'failed') then
      raise exception using
        errcode = '22023',
        message = format('treasury_private.apply_payout_event returned status %s for %s', coalesce(result ->> 'status', 'null'), evt_id),
        hint = 'It must return {"status": "applied" | "ignored" | "deferred" | "failed", ...}.';
    end if;
    return result;
  end if;
  return treasury_private.outcome('ignored', format('%s is not handled', event_type));
end
$$;

-- The shape every event must have before it is recorded; null when it has it.
create function treasury_private.event_problem(event jsonb)
returns text
language sql
immutable
as $$
  select case
    when jsonb_typeof(event) is distinct from 'object' then 'a Stripe event must be a JSON object'
    when jsonb_typeof(event -> 'id') is distinct from 'string' or char_length(event ->> 'id') not between 1 and 255 then
      'event.id must be a string of 1 to 255 characters'
    when jsonb_typeof(event -> 'type') is distinct from 'string' or char_length(event ->> 'type') not between 1 and 255 then
      'event.type must be a string of 1 to 255 characters'
    when treasury_private.json_bigint(event -> 'created') is null
         or treasury_private.json_bigint(event -> 'created') not between 0 and 253402300799 then
      'event.created must be a Unix time in seconds'
    when coalesce(jsonb_typeof(event -> 'livemode'), 'null') not in ('boolean', 'null') then
      'event.livemode must be true or false'
    when jsonb_typeof(event -> 'data' -> 'object') is distinct from 'object' then
      'event.data.object must be an object'
  end
$$;

-- Records a verified Stripe event and applies it, in one transaction. The
-- INSERT is the exactly-once gate: a redelivery (also one that arrives while
-- the first is still being applied: it waits on the unique index) finds the
-- row and is answered as a duplicate, never applied again.
create function treasury.receive_stripe_event(event jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  problem text := treasury_private.event_problem(event);
  evt_id text := event ->> 'id';
  event_type text := event ->> 'type';
  obj jsonb := event -> 'data' -> 'object';
  recorded text;
  result jsonb;
begin
  if problem is not null then
    raise exception using
      errcode = '22023',
      message = problem,
      hint = 'Pass the event exactly as Stripe sent it: {"id", "type", "created", "livemode", "data": {"object": {...}}}.';
  end if;

  insert into treasury.stripe_events
    (event_id, type, livemode, api_version, stripe_created, payment_intent_id, charge_id, payload, status)
  values (
    evt_id,
    event_type,
    coalesce((event ->> 'livemode')::boolean, false),
    left(event ->> 'api_version', 50),
    to_timestamp(treasury_private.json_bigint(event -> 'created')),
    case when event_type like 'payment\_intent.%' then treasury_private.stripe_id(obj -> 'id')
         else treasury_private.stripe_id(obj -> 'payment_intent') end,
    case when event_type like 'charge.%' and event_type not like 'charge.dispute.%' then treasury_private.stripe_id(obj -> 'id')
         else treasury_private.stripe_id(obj -> 'charge') end,
    event,
    'received')
  on conflict on constraint stripe_events_pkey do nothing;
  if not found then
    select e.status into recorded from treasury.stripe_events as e where e.event_id = evt_id;
    return jsonb_build_object('received', true, 'status', 'duplicate', 'event_id', evt_id, 'recorded_status', recorded);
  end if;

  result := treasury_private.apply_event(event);
  update treasury.stripe_events as e
  set status = result ->> 'status',
      note = result ->> 'note',
      applied_at = case when result ->> 'status' = 'applied' then now() end
  where e.event_id = evt_id;
  return jsonb_build_object('received', true, 'event_id', evt_id, 'type', event_type) || result;
end
$$;

comment on function treasury.receive_stripe_event(jsonb) is
  'Records and applies one verified Stripe event in one transaction; returns {"received": true, "status": '
  'applied|ignored|deferred|failed|duplicate, "event_id", "note"?, "payment_id"?, ...}. A redelivered event id is '
  'a duplicate and changes nothing. 22023 when the event lacks id, type, created or data.object.';

create function treasury.retry_stripe_event(event_id text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  stored treasury.stripe_events;
  result jsonb;
begin
  select * into stored from treasury.stripe_events as e where e.event_id = retry_stripe_event.event_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('Stripe event %s not found', coalesce(event_id, 'null'));
  end if;
  if stored.status not in ('deferred', 'failed') then
    raise exception using
      errcode = '55000',
      message = format('Stripe event %s is %s: only deferred or failed events are retried', event_id, stored.status);
  end if;
  result := treasury_private.apply_event(stored.payload);
  update treasury.stripe_events as e
  set status = result ->> 'status',
      note = result ->> 'note',
      applied_at = case when result ->> 'status' = 'applied' then now() end,
      attempts = e.attempts + 1
  where e.event_id = retry_stripe_event.event_id;
  return jsonb_build_object('received', true, 'event_id', event_id, 'type', stored.type, 'retried', true) || result;
end
$$;

comment on function treasury.retry_stripe_event(text) is
  'Applies a deferred or failed Stripe event again (after its product or payment exists); returns what '
  'receive_stripe_event would. P0002 unknown event, 55000 when it is applied or ignored already.';

------------------------------------------------------------------------------
-- Invariants
------------------------------------------------------------------------------

create function treasury.check_invariants()
returns table (invariant text, reference text, detail text)
language sql
stable
security definer
set search_path = ''
as $$
  with sums as (
    select l.account_id, sum(l.amount) as total from public.treasury_ledger as l group by l.account_id
  ),
  balances_now as (
    select a.id, a.owner_id, a.purpose, a.currency, coalesce(b.balance, 0) as balance
    from treasury.accounts as a
    left join treasury.account_balances as b on b.account_id = a.id
  ),
  held_expected as (
    select p.party_ids[i] as owner_id, d.currency, sum(d.hold_lines[i]) as amount
    from treasury.disputes as d
    join treasury.payments as p on p.id = d.payment_id
    cross join lateral generate_subscripts(d.hold_lines, 1) as i
    where d.outcome is null
    group by 1, 2
  ),
  held_actual as (
    select c.owner_id, c.currency, -sum(c.balance) as amount
    from balances_now as c
    where c.purpose in ('held', 'dispute_reserve')
    group by 1, 2
  )
  select v.invariant, v.reference, v.detail
  from (
    select 'unbalanced_transaction' as invariant, l.txn_id::text as reference,
           format('%s: debits exceed credits by %s', l.currency, sum(l.amount)) as detail
    from public.treasury_ledger as l
    group by l.txn_id, l.currency
    having sum(l.amount) <> 0
    union all
    select 'empty_transaction', t.id::text, format('%s %s has no postings', t.kind, t.reference)
    from treasury.ledger_transactions as t
    where not exists (select 1 from public.treasury_ledger as l where l.txn_id = t.id)
    union all
    select 'balance_mismatch', c.id::text,
           format('account_balances holds %s, the postings sum to %s', c.balance, coalesce(s.total, 0))
    from balances_now as c
    left join sums as s on s.account_id = c.id
    where c.balance <> coalesce(s.total, 0)
    union all
    select 'currency_mismatch', l.id::text, format('posting in %s to account %s in %s', l.currency, a.id, a.currency)
    from public.treasury_ledger as l
    join treasury.accounts as a on a.id = l.account_id
    where l.currency <> a.currency
    union all
    select 'split_mismatch', p.id, format('%s lines sum to %s, expected %s', r.reason, coalesce(s.total, 0), r.expected)
    from treasury.payments as p
    cross join lateral (values ('payment', p.amount_minor), ('refund', -p.refunded_minor), ('dispute', -p.dispute_lost_minor))
      as r(reason, expected)
    left join lateral (
      select sum(x.amount_minor) as total from public.treasury_splits as x where x.payment_id = p.id and x.reason = r.reason
    ) as s on true
    where coalesce(s.total, 0) <> r.expected
    union all
    select 'payment_not_posted', p.id, 'no payment ledger transaction'
    from treasury.payments as p
    where not exists (select 1 from treasury.ledger_transactions as t where t.kind = 'payment' and t.reference = p.id)
    union all
    select 'negative_payable', c.owner_id::text || ' ' || c.currency,
           format('payable %s + held %s is below zero', -sum(c.balance) filter (where c.purpose = 'payable'),
                  coalesce(-sum(c.balance) filter (where c.purpose = 'held'), 0))
    from balances_now as c
    where c.purpose in ('payable', 'held')
    group by c.owner_id, c.currency
    having sum(c.balance) > 0
    union all
    select 'held_mismatch', coalesce(e.owner_id, h.owner_id)::text || ' ' || coalesce(e.currency, h.currency),
           format('open disputes hold %s, the held accounts say %s', coalesce(e.amount, 0), coalesce(h.amount, 0))
    from held_expected as e
    full join held_actual as h
      on h.owner_id is not distinct from e.owner_id and h.currency = e.currency
    where coalesce(e.amount, 0) <> coalesce(h.amount, 0)
  ) as v
  order by v.invariant, v.reference
$$;

comment on function treasury.check_invariants() is
  'One row per violated ledger invariant, none when all is well: unbalanced_transaction, empty_transaction, '
  'balance_mismatch (account_balances vs postings), currency_mismatch, split_mismatch (a payment''s, refunds'' or '
  'lost disputes'' lines vs the payment), payment_not_posted, negative_payable (payable + held < 0), '
  'held_mismatch (held accounts vs open disputes). Reads everything: for checks and tests, not hot paths.';

------------------------------------------------------------------------------
-- Who may read and call what. Money moves only through the functions above;
-- the API roles read under row level security: a user sees their own money,
-- admins (treasury.admins) see all, service_role bypasses RLS.
------------------------------------------------------------------------------

alter table treasury.admins enable row level security;
alter table treasury.account_purposes enable row level security;
alter table treasury.accounts enable row level security;
alter table treasury.ledger_transactions enable row level security;
alter table public.treasury_ledger enable row level security;
alter table treasury.account_balances enable row level security;
alter table treasury.split_rules enable row level security;
alter table treasury.split_rule_parties enable row level security;
alter table treasury.products enable row level security;
alter table treasury.payments enable row level security;
alter table public.treasury_splits enable row level security;
alter table treasury.disputes enable row level security;
alter table treasury.stripe_events enable row level security;
alter table treasury.webhook_rejections enable row level security;

-- Supabase grants the API roles everything on new tables in public.
revoke all on public.treasury_ledger, public.treasury_splits from anon, authenticated, service_role;
revoke all on sequence public.treasury_ledger_id_seq, public.treasury_splits_id_seq from anon, authenticated, service_role;

grant select on treasury.account_purposes, treasury.products to anon, authenticated, service_role;
create policy account_purposes_are_public on treasury.account_purposes
  for select to anon, authenticated using (true);
create policy products_are_public on treasury.products
  for select to anon, authenticated using (true);

grant select on
  treasury.admins, treasury.accounts, treasury.ledger_transactions, public.treasury_ledger, treasury.account_balances,
  treasury.split_rules, treasury.split_rule_parties, treasury.payments, public.treasury_splits, treasury.disputes,
  treasury.stripe_events, treasury.webhook_rejections, treasury.balances, treasury.stripe_event_problems
  to authenticated, service_role;

-- service_role manages admins and what is sold.
grant insert, update, delete on treasury.admins, treasury.products, treasury.split_rules, treasury.split_rule_parties
  to service_role;

create policy admins_read on treasury.admins
  for select to authenticated using (user_id = (select auth.uid()) or (select treasury.is_admin()));
create policy accounts_owner_reads on treasury.accounts
  for select to authenticated using (owner_id = (select auth.uid()) or (select treasury.is_admin()));
create policy account_balances_owner_reads on treasury.account_balances
  for select to authenticated using (
    (select treasury.is_admin())
    or exists (select 1 from treasury.accounts as a where a.id = account_id and a.owner_id = (select auth.uid())));
create policy treasury_ledger_owner_reads on public.treasury_ledger
  for select to authenticated using (
    (select treasury.is_admin())
    or exists (select 1 from treasury.accounts as a where a.id = account_id and a.owner_id = (select auth.uid())));
create policy ledger_transactions_admin_reads on treasury.ledger_transactions
  for select to authenticated using ((select treasury.is_admin()));
create policy split_rules_admin_reads on treasury.split_rules
  for select to authenticated using ((select treasury.is_admin()));
create policy split_rule_parties_party_reads on treasury.split_rule_parties
  for select to authenticated using (party_id = (select auth.uid()) or (select treasury.is_admin()));
create policy payments_buyer_reads on treasury.payments
  for select to authenticated using (buyer_id = (select auth.uid()) or (select treasury.is_admin()));
create policy treasury_splits_party_reads on public.treasury_splits
  for select to authenticated using (party_id = (select auth.uid()) or (select treasury.is_admin()));
create policy disputes_admin_reads on treasury.disputes
  for select to authenticated using ((select treasury.is_admin()));
create policy stripe_events_admin_reads on treasury.stripe_events
  for select to authenticated using ((select treasury.is_admin()));
create policy webhook_rejections_admin_reads on treasury.webhook_rejections
  for select to authenticated using ((select treasury.is_admin()));

-- Functions in this schema start with no grant (foundation migration).
grant execute on function treasury.is_admin() to anon, authenticated, service_role;
grant execute on function treasury.balance_at(bigint, timestamptz) to authenticated, service_role;
grant execute on function treasury.define_split_rule(text, jsonb) to service_role;
grant execute on function treasury.receive_stripe_event(jsonb) to service_role;
grant execute on function treasury.retry_stripe_event(text) to service_role;
grant execute on function treasury.log_webhook_rejection(text, text, jsonb) to service_role;
grant execute on function treasury.check_invariants() to service_role;
