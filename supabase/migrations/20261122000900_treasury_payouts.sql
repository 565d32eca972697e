-- Treasury: wallets, the payout queue with its fraud checks, and what people read of their money
-- (docs/treasury-payouts.md). Builds on 20261122000800_treasury_ledger.sql.
--
--   treasury.payout_settings        minimum, retry limit and backoff, per currency ('*' for the rest)
--   treasury.wallets                one per payable user: a check-digit wallet id, the Stripe connected
--                                   account, the verification state
--   treasury.payouts                one per requested payout: held | pending | processing | paid | failed | cancelled
--   treasury.payout_attempts        what the queue asked Stripe for, once per attempt (idempotency keys)
--   treasury.payout_transitions     every state change of a payout with the ledger transaction that moved its money
--
--   treasury.wallet_id_valid / wallet_id_normalize       the wallet id's check digit (Damm over GF(32))
--   treasury.my_wallet, link_stripe_account, set_wallet_verification
--   treasury.request_payout, cancel_payout, release_payout, process_payouts, fail_payout_attempt
--   treasury_private.apply_payout_event                  transfer.* and payout.* Stripe events
--   treasury.check_payout_invariants                     one row per violated payout invariant
--   reads: fan_total_spent, fan_transactions, receipt; earnings_summary, revenue_by_source, payout_history,
--          top_fans; trial_balance, trial_balance_totals, platform_revenue, open_disputes, held_payouts
--
-- Where a payout's money is, by state (every transition posts Dr <from> / Cr <to>):
--   (requested) payee's payable -> held: platform payouts_held | pending: platform payouts_queued
--   processing: payouts_in_transit | paid: out of stripe_balance | failed, retrying: payouts_queued
--   failed for good, cancelled: back in the payee's payable.
-- Errors: 22023 bad argument, 23505 duplicate, 42501 privilege, P0002 not found, 55000 wrong state.

------------------------------------------------------------------------------
-- Settings
------------------------------------------------------------------------------

create table treasury.payout_settings (
  currency text primary key check (currency ~ '^([A-Z]{3}|\*)$'),
  minimum_minor bigint not null check (minimum_minor >= 1),
  max_attempts int not null check (max_attempts between 1 and 20),
  retry_base interval not null check (retry_base > interval '0'),
  retry_max interval not null,
  updated_at timestamptz not null default now(),
  constraint payout_settings_retry_check check (retry_max >= retry_base)
);

comment on table treasury.payout_settings is
  'Payout rules per currency; the row ''*'' applies to currencies without their own. minimum_minor: the smallest '
  'payout; max_attempts: sends before a failure is final; attempt n failing is retried after '
  'least(retry_max, retry_base * 2^(n-1)). Managed by service_role; readable by everybody.';

insert into treasury.payout_settings (currency, minimum_minor, max_attempts, retry_base, retry_max)
values ('*', 1000, 5, interval '5 minutes', interval '6 hours');

-- The settings that apply to a currency.
create function treasury_private.payout_settings_for(currency text)
returns treasury.payout_settings
language sql
stable
as $$
  select s.* from treasury.payout_settings as s
  where s.currency in (payout_settings_for.currency, '*')
  order by s.currency = '*'
  limit 1
$$;

------------------------------------------------------------------------------
-- Who is calling
------------------------------------------------------------------------------

-- Roles that read every money table anyway: superusers, BYPASSRLS roles
-- (service_role) and members of the tables' owner. The caller is the role
-- the session switched to with SET ROLE (PostgREST does so per request): the
-- `role` setting stays the caller's inside security definer functions.
create function treasury_private.caller_is_privileged()
returns boolean
language sql
stable
as $$
  select passport_private.caller_is_privileged('treasury.accounts')
$$;

-- A Treasury admin (treasury.admins) or a privileged role.
create function treasury_private.caller_is_staff()
returns boolean
language sql
stable
as $$
  select treasury_private.caller_is_privileged() or treasury.is_admin()
$$;

-- The user whose money a read is about: for_user, or the signed-in user when
-- it is null. Only staff read another user's money.
create function treasury_private.reader(for_user uuid)
returns uuid
language plpgsql
stable
as $$
declare
  me uuid := auth.uid();
begin
  if for_user is null then
    if me is not null then
      return me;
    end if;
    if treasury_private.caller_is_privileged() then
      raise exception using errcode = '22023', message = 'for_user is required when the caller is not a signed-in user';
    end if;
    raise exception using errcode = '42501', message = 'sign in to read your money', hint = 'Call with a user''s access token.';
  end if;
  if for_user = me or treasury_private.caller_is_staff() then
    return for_user;
  end if;
  raise exception using
    errcode = '42501',
    message = 'you can only read your own money',
    hint = 'Leave for_user null to read yours; Treasury admins read anyone''s.';
end
$$;

create function treasury_private.require_staff(what text)
returns void
language plpgsql
stable
as $$
begin
  if not treasury_private.caller_is_staff() then
    raise exception using
      errcode = '42501',
      message = format('%s is for Treasury admins', what),
      hint = 'An admin is a row of treasury.admins, set by service_role.';
  end if;
end
$$;

create function treasury_private.check_page_size(page_size int)
returns void
language plpgsql
immutable
as $$
begin
  if page_size is null or page_size not between 1 and 200 then
    raise exception using errcode = '22023',
      message = format('page_size must be between 1 and 200, got %s', coalesce(page_size::text, 'null'));
  end if;
end
$$;

create function treasury_private.check_range(from_at timestamptz, to_at timestamptz)
returns void
language plpgsql
immutable
as $$
begin
  if from_at is not null and to_at is not null and to_at < from_at then
    raise exception using errcode = '22023', message = format('to_at %s is before from_at %s', to_at, from_at);
  end if;
end
$$;

-- A filter argument: every element one of the allowed values (null: no filter).
create function treasury_private.check_members(argument text, items text[], allowed text[])
returns void
language plpgsql
immutable
as $$
declare
  unknown text;
begin
  select t into unknown from unnest(items) as t where t is null or t <> all (allowed) limit 1;
  if found then
    raise exception using errcode = '22023',
      message = format('%s may hold %s; got %s', argument, array_to_string(allowed, ', '), coalesce(unknown, 'null'));
  end if;
end
$$;

-- Keyset pagination: the last row's time and id come together, or neither.
create function treasury_private.check_keyset(before_at timestamptz, before_id text)
returns void
language plpgsql
immutable
as $$
begin
  if (before_at is null) <> (before_id is null) then
    raise exception using errcode = '22023', message = 'before_at and before_id go together',
      hint = 'Pass both from the last row of the previous page, or neither for the first page.';
  end if;
end
$$;

-- A currency argument: null stays null, else three letters, upper-cased.
create function treasury_private.currency_arg(currency text)
returns text
language plpgsql
immutable
as $$
begin
  if currency is null then
    return null;
  end if;
  if currency !~ '^[A-Za-z]{3}$' then
    raise exception using errcode = '22023',
      message = format('currency must be a 3-letter ISO 4217 code, got %s', currency);
  end if;
  return upper(currency);
end
$$;

------------------------------------------------------------------------------
-- Wallet ids: BKT-XXXX-XXXX-C
--
-- Eight symbols of Crockford's base32 (0-9 A-Z without I L O U: nothing to
-- confuse) carry 40 random bits; the ninth is a Damm check symbol over the
-- quasigroup x * d = 2x + d in GF(32) (polynomial x^5 + x^2 + 1, + is XOR).
-- It is totally anti-symmetric because 2 - 1 = 3 is invertible, so every
-- single-symbol error and every transposition of adjacent symbols, check
-- symbol included, leaves a non-zero result: the id is refused.
------------------------------------------------------------------------------

create function treasury_private.wallet_alphabet()
returns text
language sql
immutable
parallel safe
as $$
  select '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
$$;

-- One step of the Damm fold: interim * digit = 2 * interim XOR digit in GF(32).
create function treasury_private.wallet_damm_step(interim int, digit int)
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

-- The fold over a string of alphabet symbols; null when one is not in it.
create function treasury_private.wallet_damm_fold(symbols text)
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

-- The check symbol of a body: the c with fold(body) * c = 0, i.e. 2 * fold(body).
create function treasury_private.wallet_check_symbol(body text)
returns text
language sql
immutable
strict
parallel safe
as $$
  select substr(treasury_private.wallet_alphabet(),
                treasury_private.wallet_damm_step(treasury_private.wallet_damm_fold(body), 0) + 1, 1)
$$;

create function treasury.wallet_id_valid(wallet_id text)
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

create function treasury.wallet_id_normalize(input text)
returns text
language sql
immutable
parallel safe
security definer
set search_path = ''
as $$
  with cleaned as (
    select translate(upper(regexp_replace(coalesce(input, ''), '[\s-]', '', 'g')), 'OIL', '011') as s
  ),
  body as (
    select case when char_length(c.s) = 12 and left(c.s, 3) = 'BKT' then substr(c.s, 4) else c.s end as s
    from cleaned as c
  )
  select case when b.s ~ '^[0-9A-HJKMNP-TV-Z]{9}$'
    then 'BKT-' || substr(b.s, 1, 4) || '-' || substr(b.s, 5, 4) || '-' || substr(b.s, 9, 1) end
  from body as b
$$;

comment on function treasury.wallet_id_normalize(text) is
  'A wallet id as a person typed it (any case, spaces or dashes, O for 0, I or L for 1, with or without BKT) in '
  'its canonical form BKT-XXXX-XXXX-C; null when it is not nine base32 symbols. Check it with wallet_id_valid.';

-- A fresh wallet id: 40 random bits as eight symbols, and the check symbol.
create function treasury_private.new_wallet_id()
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

------------------------------------------------------------------------------
-- Wallets
------------------------------------------------------------------------------

create table treasury.wallets (
  user_id uuid primary key,
  wallet_id text not null unique check (treasury.wallet_id_valid(wallet_id)),
  stripe_account_id text unique check (stripe_account_id ~ '^acct_[A-Za-z0-9]{1,250}$'),
  verification text not null default 'unverified' check (verification in ('unverified', 'verified')),
  verified_at timestamptz,
  verification_note text check (char_length(verification_note) <= 500),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wallets_verified_check check ((verification = 'verified') = (verified_at is not null)),
  constraint wallets_verified_account_check check (verification = 'unverified' or stripe_account_id is not null)
);

comment on table treasury.wallets is
  'One wallet per user who can be paid (made with their first payable account, or on demand): a stable, '
  'human-safe wallet id with a check symbol, the Stripe connected account payouts go to, and whether it is '
  'verified. Changed only through link_stripe_account and set_wallet_verification (service_role).';
comment on column treasury.wallets.wallet_id is 'BKT-XXXX-XXXX-C: never changes; treasury.wallet_id_valid checks it.';
comment on column treasury.wallets.verification is
  'unverified (payouts are held) or verified (payouts go out). Linking another Stripe account resets it.';

-- The ids never change, and wallets are never deleted.
create function treasury_private.guard_wallets()
returns trigger
language plpgsql
as $$
begin
  if tg_op = 'UPDATE' and new.user_id = old.user_id and new.wallet_id = old.wallet_id
     and new.created_at = old.created_at then
    return new;
  end if;
  raise exception using
    errcode = '42501',
    message = format('wallets keep their ids forever: %s is refused', tg_op),
    hint = 'Only the Stripe account and the verification change.';
end
$$;

create trigger wallets_kept_update
  before update on treasury.wallets
  for each row execute function treasury_private.guard_wallets();
create trigger wallets_kept_delete
  before delete or truncate on treasury.wallets
  for each statement execute function treasury_private.guard_wallets();
alter table treasury.wallets enable always trigger wallets_kept_update;
alter table treasury.wallets enable always trigger wallets_kept_delete;

-- The wallet of a user, created when missing (another fresh id on the
-- unlikely collision of 40 random bits).
create function treasury_private.ensure_wallet(owner uuid)
returns treasury.wallets
language plpgsql
volatile
as $$
declare
  w treasury.wallets;
begin
  loop
    select * into w from treasury.wallets as x where x.user_id = owner;
    if found then
      return w;
    end if;
    insert into treasury.wallets as x (user_id, wallet_id)
    values (owner, treasury_private.new_wallet_id())
    on conflict do nothing
    returning * into w;
    if w.user_id is not null then
      return w;
    end if;
  end loop;
end
$$;

-- Every user who gets a payable account gets a wallet.
create function treasury_private.wallet_for_payee()
returns trigger
language plpgsql
as $$
begin
  perform treasury_private.ensure_wallet(new.owner_id);
  return null;
end
$$;

create trigger accounts_payee_wallet
  after insert on treasury.accounts
  for each row
  when (new.purpose = 'payable' and new.owner_id is not null)
  execute function treasury_private.wallet_for_payee();

-- Payees who earned before this migration get theirs now.
do $$
begin
  perform treasury_private.ensure_wallet(a.owner_id)
  from (select distinct x.owner_id from treasury.accounts as x where x.purpose = 'payable' and x.owner_id is not null) as a;
end
$$;

create function treasury.my_wallet()
returns treasury.wallets
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if auth.uid() is null then
    raise exception using errcode = '42501', message = 'sign in to read your wallet', hint = 'Call with a user''s access token.';
  end if;
  return treasury_private.ensure_wallet(auth.uid());
end
$$;

comment on function treasury.my_wallet() is
  'The signed-in user''s wallet (wallet id, Stripe account, verification), created on first call when the user '
  'has none yet. 42501 when not signed in.';

create function treasury.link_stripe_account(for_user uuid, stripe_account_id text)
returns treasury.wallets
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  w treasury.wallets;
begin
  if for_user is null then
    raise exception using errcode = '22023', message = 'for_user is required';
  end if;
  if stripe_account_id is null or stripe_account_id !~ '^acct_[A-Za-z0-9]{1,250}$' then
    raise exception using errcode = '22023',
      message = format('stripe_account_id must be a Stripe connected account id (acct_...), got %s', coalesce(stripe_account_id, 'null'));
  end if;
  if exists (select 1 from treasury.wallets as x
             where x.stripe_account_id = link_stripe_account.stripe_account_id and x.user_id <> for_user) then
    raise exception using errcode = '23505',
      message = format('Stripe account %s is linked to another wallet', stripe_account_id);
  end if;
  w := treasury_private.ensure_wallet(for_user);
  if w.stripe_account_id is distinct from link_stripe_account.stripe_account_id then
    -- A new destination is verified again before money goes there.
    update treasury.wallets as x
    set stripe_account_id = link_stripe_account.stripe_account_id,
        verification = 'unverified',
        verified_at = null,
        verification_note = case when w.stripe_account_id is null then null
                                 else format('Stripe account changed from %s', w.stripe_account_id) end,
        updated_at = now()
    where x.user_id = for_user
    returning * into w;
  end if;
  return w;
end
$$;

comment on function treasury.link_stripe_account(uuid, text) is
  'Links a user''s wallet (created when missing) to their Stripe connected account; a different account than '
  'before resets the wallet to unverified. 22023 bad id, 23505 the account belongs to another wallet. service_role.';

------------------------------------------------------------------------------
-- Payouts: where the money is, by state
------------------------------------------------------------------------------

insert into treasury.account_purposes (purpose, owner_kind, normal_side, description) values
  ('payouts_held', 'platform', 'credit',
   'Payouts requested and held by the payout checks (unverified wallet, untraced earnings): owed, not to be sent.'),
  ('payouts_queued', 'platform', 'credit',
   'Payouts waiting to be sent to Stripe: new ones and failed ones waiting for their retry (owed to payees).');

create table treasury.payouts (
  id uuid primary key default gen_random_uuid(),
  payee_id uuid not null,
  wallet_id text not null,
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  state text not null check (state in ('held', 'pending', 'processing', 'paid', 'failed', 'cancelled')),
  hold_reasons text[] not null default '{}'
    check (hold_reasons <@ array['wallet_unverified', 'untraced_earnings']::text[]),
  hold_detail text,
  due_at timestamptz,
  attempts int not null default 0 check (attempts >= 0),
  failure_code text,
  failure_message text,
  client_request_id text check (char_length(client_request_id) between 1 and 200),
  transitions int not null default 0,
  requested_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  paid_at timestamptz,
  released_by uuid,
  released_at timestamptz,
  release_note text,
  cancelled_by uuid,
  cancel_note text,
  constraint payouts_client_request_key unique (payee_id, client_request_id),
  constraint payouts_held_check check (state <> 'held' or cardinality(hold_reasons) > 0),
  constraint payouts_due_check check (
    (state = 'pending' and due_at is not null) or state = 'failed' or due_at is null)
);

comment on table treasury.payouts is
  'Payouts payees asked for. state: held (checks failed: hold_reasons, hold_detail; an admin releases it), '
  'pending (queued, sent from due_at), processing (attempt n asked of Stripe), paid, failed (due_at set: retried '
  'then; null: for good, the money is back in payable), cancelled. Changed only by the payout functions.';
comment on column treasury.payouts.hold_reasons is
  'Why it was held (kept after a release): wallet_unverified, untraced_earnings.';
comment on column treasury.payouts.due_at is 'When the queue sends it: pending ones, and failed ones that will be retried.';
comment on column treasury.payouts.transitions is 'How many transitions it went through (the last seq of payout_transitions).';

create index payouts_payee_idx on treasury.payouts (payee_id, requested_at desc, id desc);
create index payouts_due_idx on treasury.payouts (due_at, id) where due_at is not null;
create index payouts_held_idx on treasury.payouts (requested_at) where state = 'held';

create table treasury.payout_attempts (
  payout_id uuid not null references treasury.payouts (id),
  attempt int not null check (attempt >= 1),
  idempotency_key text not null unique,
  operation text not null check (operation in ('transfer', 'payout')),
  stripe_account_id text not null,
  amount_minor bigint not null,
  currency char(3) not null,
  request jsonb not null,
  status text not null default 'open' check (status in ('open', 'transferred', 'paid', 'failed')),
  transfer_id text,
  transfer_reversed_at timestamptz,
  stripe_payout_id text unique,
  failed_by text check (failed_by in ('transfer', 'payout', 'worker')),
  failure_code text,
  failure_message text,
  started_at timestamptz not null,
  finished_at timestamptz,
  primary key (payout_id, attempt)
);

comment on table treasury.payout_attempts is
  'Each time the queue sends a payout: what the Stripe worker must ask for (request, with idempotency keys), '
  'and what Stripe answered. operation transfer: a transfer to the connected account, then a payout there; '
  'payout: only the payout, the transfer of a previous attempt still stands (transfer_id; transfer_reversed_at '
  'null). status open -> transferred -> paid | failed.';

create index payout_attempts_transfer_idx on treasury.payout_attempts (transfer_id);
create index payout_attempts_open_idx on treasury.payout_attempts (stripe_account_id, started_at) where status in ('open', 'transferred');

create table treasury.payout_transitions (
  id bigint generated always as identity primary key,
  payout_id uuid not null references treasury.payouts (id),
  seq int not null check (seq >= 1),
  from_state text,
  to_state text not null,
  retrying boolean not null default false,
  attempt int,
  actor text not null check (actor in ('payee', 'admin', 'queue', 'stripe', 'service')),
  actor_id uuid,
  stripe_event_id text,
  ledger_txn_id bigint not null references treasury.ledger_transactions (id),
  reason text,
  occurred_at timestamptz not null,
  recorded_at timestamptz not null default now(),
  constraint payout_transitions_seq_key unique (payout_id, seq)
);

comment on table treasury.payout_transitions is
  'Every state change of every payout, in order (seq), with who made it, why, and the ledger transaction that '
  'moved its money (kind payout_request | payout_<to_state>, reference <payout id>:<seq>). Append-only.';
comment on column treasury.payout_transitions.retrying is 'For to_state failed: whether it will be retried.';

create trigger payout_transitions_append_only
  before update or delete or truncate on treasury.payout_transitions
  for each statement execute function treasury_private.refuse_change();
alter table treasury.payout_transitions enable always trigger payout_transitions_append_only;

create trigger payouts_kept
  before delete or truncate on treasury.payouts
  for each statement execute function treasury_private.refuse_change();
alter table treasury.payouts enable always trigger payouts_kept;

create trigger payout_attempts_kept
  before delete or truncate on treasury.payout_attempts
  for each statement execute function treasury_private.refuse_change();
alter table treasury.payout_attempts enable always trigger payout_attempts_kept;

-- The account that holds a payout's money in a state (null state: not yet
-- requested, the money is in payable).
create function treasury_private.payout_location(state text, due_at timestamptz)
returns text
language sql
immutable
as $$
  select case state
    when 'held' then 'payouts_held'
    when 'pending' then 'payouts_queued'
    when 'processing' then 'payouts_in_transit'
    when 'paid' then 'stripe_balance'
    when 'failed' then case when due_at is null then 'payable' else 'payouts_queued' end
    else 'payable'
  end
$$;

-- Whether the money of a payout in this state is out of the payee's payable.
create function treasury_private.payout_outstanding(state text, due_at timestamptz)
returns boolean
language sql
immutable
as $$
  select treasury_private.payout_location(state, due_at) <> 'payable'
$$;

-- Moves a (locked) payout to another state: posts its money from where the
-- old state keeps it to where the new one does, logs the transition, updates
-- the row. The caller holds lock_currency.
create function treasury_private.payout_transition(
  pay treasury.payouts,
  to_state text,
  to_due timestamptz,
  actor text,
  actor_id uuid,
  occurred timestamptz,
  reason text default null,
  event_id text default null
)
returns treasury.payouts
language plpgsql
volatile
as $$
declare
  -- A new payout's row already has its first state: it comes from payable.
  old_location text := case when pay.transitions = 0 then 'payable' else treasury_private.payout_location(pay.state, pay.due_at) end;
  new_location text := treasury_private.payout_location(to_state, to_due);
  seq int := pay.transitions + 1;
  txn bigint;
begin
  if old_location = new_location then
    raise exception using errcode = '55000',
      message = format('payout %s: %s -> %s moves no money', pay.id, pay.state, to_state);
  end if;
  txn := treasury_private.post(
    case when pay.transitions = 0 then 'payout_request' else 'payout_' || to_state end,
    pay.id || ':' || seq,
    jsonb_build_array(
      jsonb_build_object('account_id', treasury_private.account(case when old_location = 'payable' then pay.payee_id end,
                                                                old_location, pay.currency),
                         'amount', pay.amount_minor),
      jsonb_build_object('account_id', treasury_private.account(case when new_location = 'payable' then pay.payee_id end,
                                                                new_location, pay.currency),
                         'amount', -pay.amount_minor)),
    event_id);
  insert into treasury.payout_transitions
    (payout_id, seq, from_state, to_state, retrying, attempt, actor, actor_id, stripe_event_id, ledger_txn_id, reason, occurred_at)
  values (pay.id, seq, case when pay.transitions = 0 then null else pay.state end, to_state,
          to_state = 'failed' and to_due is not null, nullif(pay.attempts, 0), actor, actor_id, event_id, txn, reason, occurred);
  update treasury.payouts as p
  set state = to_state, due_at = to_due, transitions = seq, updated_at = now()
  where p.id = pay.id
  returning * into pay;
  return pay;
end
$$;

-- How much of a payee's payable is explained by what was recorded: their
-- split lines (payments, less refunds and lost disputes), less what open
-- disputes hold, less the payouts whose money left payable.
create function treasury_private.payee_trace(
  payee uuid,
  currency text,
  out payable bigint,
  out split_lines bigint,
  out held bigint,
  out outstanding bigint,
  out untraced bigint
)
language sql
stable
as $$
  select t.payable, t.split_lines, t.held, t.outstanding, t.payable - (t.split_lines - t.held - t.outstanding)
  from (select
    coalesce((select -b.balance from treasury.accounts as a join treasury.account_balances as b on b.account_id = a.id
              where a.owner_id = payee and a.purpose = 'payable' and a.currency = payee_trace.currency), 0) as payable,
    coalesce((select sum(s.amount_minor) from public.treasury_splits as s
              where s.party_id = payee and s.currency = payee_trace.currency), 0)::bigint as split_lines,
    coalesce((select -b.balance from treasury.accounts as a join treasury.account_balances as b on b.account_id = a.id
              where a.owner_id = payee and a.purpose = 'held' and a.currency = payee_trace.currency), 0) as held,
    coalesce((select sum(p.amount_minor) from treasury.payouts as p
              where p.payee_id = payee and p.currency = payee_trace.currency
                and treasury_private.payout_outstanding(p.state, p.due_at)), 0)::bigint as outstanding
  ) as t
$$;

comment on function treasury_private.payee_trace(uuid, text) is
  'A payee''s payable against what recorded payments explain: split lines - held - outstanding payouts. '
  'untraced > 0: money in payable that no recorded payment put there.';

------------------------------------------------------------------------------
-- Requesting, holding, releasing, cancelling
------------------------------------------------------------------------------

-- Why a payout of a payee must be held now: reasons and a sentence for the
-- payee and the admins. wallet_unverified: no verified Stripe account;
-- untraced_earnings: payable holds more than recorded payments explain.
create function treasury_private.payout_checks(
  payee uuid,
  currency text,
  out reasons text[],
  out detail text
)
language plpgsql
stable
as $$
declare
  w treasury.wallets;
  trace record;
  notes text[] := '{}'::text[];
begin
  reasons := '{}';
  select * into w from treasury.wallets as x where x.user_id = payee;
  if w.user_id is null or w.verification <> 'verified' then
    reasons := reasons || 'wallet_unverified'::text;
    notes := notes || case when w.stripe_account_id is null
      then 'the wallet has no Stripe account linked yet'
      else format('the wallet''s Stripe account %s is not verified yet', w.stripe_account_id) end;
  end if;
  select * into trace from treasury_private.payee_trace(payee, currency);
  if trace.untraced > 0 then
    reasons := reasons || 'untraced_earnings'::text;
    notes := notes || format(
      '%s %s of the payable balance of %s cannot be traced to recorded payments (split lines %s, held by disputes %s, payouts %s)',
      trace.untraced, currency, trace.payable, trace.split_lines, trace.held, trace.outstanding);
  end if;
  detail := case when cardinality(notes) > 0 then 'Held: ' || array_to_string(notes, '; ') || '.' end;
end
$$;

create function treasury.request_payout(amount_minor bigint, currency text, client_request_id text default null)
returns treasury.payouts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  payee uuid := auth.uid();
  cur text;
  rules treasury.payout_settings;
  earlier treasury.payouts;
  w treasury.wallets;
  available bigint;
  checks record;
  pay treasury.payouts;
begin
  if payee is null then
    raise exception using errcode = '42501', message = 'sign in to request a payout', hint = 'Call with the payee''s access token.';
  end if;
  if request_payout.amount_minor is null or request_payout.amount_minor <= 0 then
    raise exception using errcode = '22023', detail = 'invalid_amount',
      message = format('amount_minor must be an integer > 0 (minor units), got %s', coalesce(request_payout.amount_minor::text, 'null'));
  end if;
  if request_payout.currency is null then
    raise exception using errcode = '22023', detail = 'invalid_currency', message = 'currency is required (ISO 4217, e.g. EUR)';
  end if;
  cur := treasury_private.currency_arg(request_payout.currency);
  if request_payout.client_request_id is not null and char_length(request_payout.client_request_id) not between 1 and 200 then
    raise exception using errcode = '22023', detail = 'invalid_client_request_id',
      message = 'client_request_id must be a string of 1 to 200 characters';
  end if;
  rules := treasury_private.payout_settings_for(cur);
  if request_payout.amount_minor < rules.minimum_minor then
    raise exception using errcode = '22023', detail = 'below_minimum',
      message = format('the minimum payout is %s %s, requested %s', rules.minimum_minor, cur, request_payout.amount_minor);
  end if;

  perform treasury_private.lock_currency(cur);
  if request_payout.client_request_id is not null then
    select * into earlier from treasury.payouts as p
    where p.payee_id = payee and p.client_request_id = request_payout.client_request_id;
    if found then
      if earlier.amount_minor <> request_payout.amount_minor or earlier.currency <> cur then
        raise exception using errcode = '22023', detail = 'client_request_id_reused',
          message = format('client_request_id %s was used for a payout of %s %s', request_payout.client_request_id,
                           earlier.amount_minor, earlier.currency);
      end if;
      return earlier;
    end if;
  end if;

  select -b.balance into available
  from treasury.accounts as a
  join treasury.account_balances as b on b.account_id = a.id
  where a.owner_id = payee and a.purpose = 'payable' and a.currency = cur;
  available := coalesce(available, 0);
  if request_payout.amount_minor > available then
    raise exception using errcode = '55000', detail = 'insufficient_funds',
      message = format('the available balance is %s %s, requested %s', available, cur, request_payout.amount_minor),
      hint = 'Funds held by disputes and payouts already requested are not available.';
  end if;

  w := treasury_private.ensure_wallet(payee);
  select * into checks from treasury_private.payout_checks(payee, cur);
  insert into treasury.payouts as p
    (payee_id, wallet_id, amount_minor, currency, state, hold_reasons, hold_detail, due_at, client_request_id)
  values (payee, w.wallet_id, request_payout.amount_minor, cur,
          case when cardinality(checks.reasons) > 0 then 'held' else 'pending' end,
          checks.reasons, checks.detail,
          case when cardinality(checks.reasons) = 0 then now() end,
          request_payout.client_request_id)
  returning * into pay;
  pay := treasury_private.payout_transition(pay, pay.state, pay.due_at, 'payee', payee, now(), checks.detail);

  perform passport.log(payee, 'treasury.payout_requested', 'payout:' || pay.id || ':requested',
    jsonb_build_object('payout_id', pay.id, 'amount_minor', pay.amount_minor, 'currency', pay.currency),
    null, now(), 'treasury');
  return pay;
end
$$;

comment on function treasury.request_payout(bigint, text, text) is
  'The signed-in payee asks for amount_minor of their available balance (payable: disputes'' holds and earlier '
  'payouts excluded) in currency. Returns the payout: pending, or held with hold_reasons and hold_detail when the '
  'wallet is unverified or the earnings cannot be traced to recorded payments. The same client_request_id returns '
  'the same payout. 42501 not signed in; 22023 bad amount or currency, below the minimum (detail below_minimum); '
  '55000 more than available (detail insufficient_funds).';

-- A payout locked for a change, after its currency's lock (the order every
-- writer follows). P0002 when it does not exist.
create function treasury_private.lock_payout(payout_id uuid)
returns treasury.payouts
language plpgsql
volatile
as $$
declare
  cur text;
  pay treasury.payouts;
begin
  select p.currency into cur from treasury.payouts as p where p.id = payout_id;
  if cur is null then
    raise exception using errcode = 'P0002', message = format('payout %s not found', coalesce(payout_id::text, 'null'));
  end if;
  perform treasury_private.lock_currency(cur);
  select * into pay from treasury.payouts as p where p.id = payout_id for update;
  return pay;
end
$$;

create function treasury.release_payout(payout_id uuid, note text default null)
returns treasury.payouts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  pay treasury.payouts;
  w treasury.wallets;
begin
  perform treasury_private.require_staff('releasing a held payout');
  if payout_id is null then
    raise exception using errcode = '22023', message = 'payout_id is required';
  end if;
  pay := treasury_private.lock_payout(payout_id);
  if pay.state <> 'held' then
    raise exception using errcode = '55000', message = format('payout %s is %s: only held payouts are released', pay.id, pay.state);
  end if;
  select * into w from treasury.wallets as x where x.user_id = pay.payee_id;
  if w.verification is distinct from 'verified' then
    raise exception using errcode = '55000',
      message = format('the wallet %s of payout %s is not verified', coalesce(w.wallet_id, '(none)'), pay.id),
      hint = 'Verify the wallet (treasury.set_wallet_verification) first; its held payouts are then released by themselves.';
  end if;
  update treasury.payouts as p
  set released_by = auth.uid(), released_at = now(), release_note = left(note, 500)
  where p.id = pay.id
  returning * into pay;
  return treasury_private.payout_transition(pay, 'pending', now(),
    case when auth.uid() is null then 'service' else 'admin' end, auth.uid(), now(),
    coalesce(left(note, 500), 'released'));
end
$$;

comment on function treasury.release_payout(uuid, text) is
  'An admin releases a held payout after review: it is queued (pending) and sent by the next run of the queue. '
  'The wallet must be verified. 42501 not an admin; P0002 unknown payout; 55000 not held, or the wallet unverified.';

create function treasury.cancel_payout(payout_id uuid, note text default null)
returns treasury.payouts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  pay treasury.payouts;
  staff boolean := treasury_private.caller_is_staff();
begin
  if payout_id is null then
    raise exception using errcode = '22023', message = 'payout_id is required';
  end if;
  if auth.uid() is null and not staff then
    raise exception using errcode = '42501', message = 'sign in to cancel a payout';
  end if;
  if not staff and not exists (select 1 from treasury.payouts as p where p.id = payout_id and p.payee_id = auth.uid()) then
    if exists (select 1 from treasury.payouts as p where p.id = payout_id) then
      raise exception using errcode = '42501', message = format('payout %s is not yours', payout_id);
    end if;
  end if;
  pay := treasury_private.lock_payout(payout_id);
  if not (pay.state in ('held', 'pending') or (pay.state = 'failed' and pay.due_at is not null)) then
    raise exception using errcode = '55000',
      message = format('payout %s is %s: only held, pending or retrying payouts are cancelled', pay.id,
                       case when pay.state = 'failed' then 'failed for good' else pay.state end);
  end if;
  update treasury.payouts as p
  set cancelled_by = auth.uid(), cancel_note = left(note, 500)
  where p.id = pay.id
  returning * into pay;
  return treasury_private.payout_transition(pay, 'cancelled', null,
    case when auth.uid() = pay.payee_id then 'payee' when auth.uid() is not null then 'admin' else 'service' end,
    auth.uid(), now(), coalesce(left(note, 500), 'cancelled'));
end
$$;

comment on function treasury.cancel_payout(uuid, text) is
  'Cancels a payout that is held, pending or waiting for a retry; its money returns to the payee''s available '
  'balance. The payee cancels their own, admins any. 42501 not yours; P0002 unknown; 55000 already sent or over.';

create function treasury.set_wallet_verification(for_user uuid, verified boolean, note text default null)
returns treasury.wallets
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  w treasury.wallets;
  held record;
  pay treasury.payouts;
begin
  if for_user is null or verified is null then
    raise exception using errcode = '22023', message = 'for_user and verified are required';
  end if;
  select * into w from treasury.wallets as x where x.user_id = for_user for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('user %s has no wallet', for_user),
      hint = 'Link their Stripe account first (treasury.link_stripe_account).';
  end if;
  if verified and w.stripe_account_id is null then
    raise exception using errcode = '55000', message = format('wallet %s has no Stripe account to verify', w.wallet_id),
      hint = 'Link the Stripe account first (treasury.link_stripe_account).';
  end if;
  update treasury.wallets as x
  set verification = case when verified then 'verified' else 'unverified' end,
      verified_at = case when not verified then null when x.verification = 'verified' then x.verified_at else now() end,
      verification_note = coalesce(left(note, 500), x.verification_note),
      updated_at = now()
  where x.user_id = for_user
  returning * into w;

  -- Payouts held only because the wallet was unverified go out now.
  if verified then
    for held in
      select p.id from treasury.payouts as p
      where p.payee_id = for_user and p.state = 'held' and p.hold_reasons = array['wallet_unverified']
      order by p.currency, p.requested_at, p.id
    loop
      pay := treasury_private.lock_payout(held.id);
      continue when pay.state <> 'held';
      perform treasury_private.payout_transition(pay, 'pending', now(), 'service', null, now(), 'wallet verified');
    end loop;
  end if;
  return w;
end
$$;

comment on function treasury.set_wallet_verification(uuid, boolean, text) is
  'Marks a user''s wallet verified or unverified (service_role, e.g. when Stripe reports the connected account '
  'payouts_enabled). Verifying releases the payouts held only because the wallet was unverified. P0002 no wallet; '
  '55000 verifying a wallet without a Stripe account.';

------------------------------------------------------------------------------
-- The queue
------------------------------------------------------------------------------

-- What the Stripe worker asks for on attempt n (docs/treasury-payouts.md).
create function treasury_private.attempt_request(
  pay treasury.payouts,
  attempt int,
  operation text,
  stripe_account text,
  standing_transfer text
)
returns jsonb
language sql
immutable
as $$
  with k as (
    select 'buckets_payout_' || pay.id || '_' || attempt as key,
           jsonb_build_object('payout_id', pay.id::text, 'payout_attempt', attempt::text, 'wallet_id', pay.wallet_id) as metadata
  )
  select jsonb_build_object(
    'idempotency_key', k.key,
    'transfer', case when operation = 'transfer' then jsonb_build_object(
      'idempotency_key', k.key || '_transfer',
      'amount', pay.amount_minor, 'currency', lower(pay.currency), 'destination', stripe_account,
      'transfer_group', 'payout_' || pay.id, 'metadata', k.metadata) end,
    'standing_transfer', standing_transfer,
    'payout', jsonb_build_object(
      'idempotency_key', k.key || '_payout', 'stripe_account', stripe_account,
      'amount', pay.amount_minor, 'currency', lower(pay.currency), 'metadata', k.metadata))
  from k
$$;

create function treasury.process_payouts(at timestamptz default now(), batch_size int default 100)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  due record;
  pay treasury.payouts;
  w treasury.wallets;
  previous treasury.payout_attempts;
  operation text;
  stripe_account text;
  was text;
  sent int := 0;
  retried int := 0;
  held int := 0;
begin
  if at is null then
    raise exception using errcode = '22023', message = 'at is required: the moment the queue runs at';
  end if;
  if batch_size is null or batch_size not between 1 and 10000 then
    raise exception using errcode = '22023',
      message = format('batch_size must be between 1 and 10000, got %s', coalesce(batch_size::text, 'null'));
  end if;

  -- The batch is the longest due; it is worked through currency by currency,
  -- so that concurrent runs take the currencies' locks in the same order.
  for due in
    select b.id, b.currency
    from (select p.id, p.currency, p.due_at from treasury.payouts as p
          where p.due_at <= process_payouts.at and p.state in ('pending', 'failed')
          order by p.due_at, p.id
          limit batch_size) as b
    order by b.currency, b.due_at, b.id
  loop
    perform treasury_private.lock_currency(due.currency);
    select * into pay from treasury.payouts as p
    where p.id = due.id and p.due_at <= process_payouts.at and p.state in ('pending', 'failed')
    for update skip locked;
    continue when not found;

    select * into w from treasury.wallets as x where x.user_id = pay.payee_id;
    if w.verification is distinct from 'verified' then
      update treasury.payouts as p
      set hold_reasons = array['wallet_unverified'],
          hold_detail = 'Held: the wallet''s Stripe account is not verified (checked when the payout was to be sent).'
      where p.id = pay.id
      returning * into pay;
      perform treasury_private.payout_transition(pay, 'held', null, 'queue', null, process_payouts.at, pay.hold_detail);
      held := held + 1;
      continue;
    end if;

    -- A previous attempt whose transfer stands (it was not reversed: the bank
    -- payout or the call after the transfer failed) is retried with a payout
    -- on that connected account, never with a second transfer.
    select * into previous from treasury.payout_attempts as a where a.payout_id = pay.id and a.attempt = pay.attempts;
    if previous.transfer_id is not null and previous.transfer_reversed_at is null then
      operation := 'payout';
      stripe_account := previous.stripe_account_id;
    else
      operation := 'transfer';
      stripe_account := w.stripe_account_id;
    end if;
    was := pay.state;
    update treasury.payouts as p set attempts = p.attempts + 1 where p.id = pay.id returning * into pay;
    insert into treasury.payout_attempts
      (payout_id, attempt, idempotency_key, operation, stripe_account_id, amount_minor, currency, request, transfer_id, started_at)
    values (pay.id, pay.attempts, 'buckets_payout_' || pay.id || '_' || pay.attempts, operation, stripe_account,
            pay.amount_minor, pay.currency,
            treasury_private.attempt_request(pay, pay.attempts, operation, stripe_account,
                                             case when operation = 'payout' then previous.transfer_id end),
            case when operation = 'payout' then previous.transfer_id end,
            process_payouts.at);
    perform treasury_private.payout_transition(pay, 'processing', null, 'queue', null, process_payouts.at,
      format('attempt %s: %s', pay.attempts, case operation when 'transfer' then 'transfer and payout' else 'payout of the standing transfer' end));
    if was = 'failed' then
      retried := retried + 1;
    else
      sent := sent + 1;
    end if;
  end loop;
  return jsonb_build_object('sent', sent, 'retried', retried, 'held', held);
end
$$;

comment on function treasury.process_payouts(timestamptz, int) is
  'The payout queue (pg_cron job treasury-process-payouts, every minute): moves up to batch_size payouts due at '
  '`at` (pending ones, and failed ones whose backoff has elapsed) to processing, recording for each attempt what '
  'the Stripe worker must ask for (treasury.payout_attempts, with idempotency keys); a payout whose wallet is no '
  'longer verified is held instead. Returns {"sent", "retried", "held"}. Concurrent runs skip each other''s rows.';

-- Stripe failure codes that no retry will fix: the failure is final at once.
create function treasury_private.payout_failure_is_final(code text)
returns boolean
language sql
immutable
as $$
  select coalesce(code in ('account_closed', 'account_frozen', 'bank_account_restricted', 'bank_ownership_changed',
                           'invalid_account_number', 'invalid_currency', 'no_account'), false)
$$;

-- Attempt n of a (locked) payout failed: retried after the backoff while
-- attempts remain, else the payout fails for good and its money returns to
-- the payee's payable. From processing, or from paid (the bank returned it).
create function treasury_private.payout_attempt_failed(
  pay treasury.payouts,
  attempt treasury.payout_attempts,
  failed_by text,
  code text,
  message text,
  occurred timestamptz,
  actor text,
  event_id text
)
returns treasury.payouts
language plpgsql
volatile
as $$
declare
  rules treasury.payout_settings := treasury_private.payout_settings_for(pay.currency);
  is_final boolean := pay.attempts >= rules.max_attempts or treasury_private.payout_failure_is_final(code);
  retry_at timestamptz;
begin
  update treasury.payout_attempts as a
  set status = 'failed', failed_by = payout_attempt_failed.failed_by, failure_code = left(code, 100),
      failure_message = left(message, 1000), finished_at = occurred
  where a.payout_id = attempt.payout_id and a.attempt = attempt.attempt;
  if not is_final then
    retry_at := occurred + least(rules.retry_max, rules.retry_base * power(2, least(pay.attempts - 1, 30)));
  end if;
  update treasury.payouts as p
  set failure_code = left(code, 100), failure_message = left(message, 1000), paid_at = null
  where p.id = pay.id
  returning * into pay;
  pay := treasury_private.payout_transition(pay, 'failed', retry_at, actor, null, occurred,
    format('attempt %s failed (%s)%s', attempt.attempt, coalesce(code, 'no code'),
           case when is_final then ': final, the money is back in the available balance'
                else format(': retried at %s', retry_at) end),
    event_id);
  if is_final then
    perform passport.log(pay.payee_id, 'treasury.payout_failed', 'payout:' || pay.id || ':failed',
      jsonb_strip_nulls(jsonb_build_object('payout_id', pay.id, 'reason', coalesce(message, code))),
      null, least(occurred, now()), 'treasury');
  end if;
  return pay;
end
$$;

create function treasury.fail_payout_attempt(
  payout_id uuid,
  attempt int,
  code text,
  message text default null,
  transfer_id text default null,
  at timestamptz default now()
)
returns treasury.payouts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  pay treasury.payouts;
  tried treasury.payout_attempts;
begin
  if payout_id is null or attempt is null or code is null or at is null then
    raise exception using errcode = '22023', message = 'payout_id, attempt, code and at are required';
  end if;
  if transfer_id is not null and transfer_id !~ '^tr_[A-Za-z0-9_]{1,250}$' then
    raise exception using errcode = '22023', message = format('transfer_id must be a Stripe transfer id (tr_...), got %s', transfer_id);
  end if;
  pay := treasury_private.lock_payout(payout_id);
  select * into tried from treasury.payout_attempts as a
  where a.payout_id = fail_payout_attempt.payout_id and a.attempt = fail_payout_attempt.attempt for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('payout %s has no attempt %s', payout_id, attempt);
  end if;
  if tried.status = 'failed' then
    return pay;
  end if;
  if tried.attempt <> pay.attempts or pay.state <> 'processing' or tried.status not in ('open', 'transferred') then
    raise exception using errcode = '55000',
      message = format('attempt %s of payout %s is %s and the payout %s: only the unfinished current attempt fails this way',
                       attempt, payout_id, tried.status, pay.state),
      hint = 'Once Stripe paid or failed it, its events decide (payout.failed, transfer.reversed).';
  end if;
  if tried.transfer_id is not null and transfer_id is not null and tried.transfer_id <> transfer_id then
    raise exception using errcode = '22023',
      message = format('attempt %s of payout %s has transfer %s, not %s', attempt, payout_id, tried.transfer_id, transfer_id);
  end if;
  if tried.transfer_id is null and transfer_id is not null then
    update treasury.payout_attempts as a set transfer_id = fail_payout_attempt.transfer_id
    where a.payout_id = tried.payout_id and a.attempt = tried.attempt
    returning * into tried;
  end if;
  return treasury_private.payout_attempt_failed(pay, tried, 'worker', code, message, at, 'service', null);
end
$$;

comment on function treasury.fail_payout_attempt(uuid, int, text, text, text, timestamptz) is
  'The Stripe worker reports that a call of attempt n failed (an API error: code, message), with the transfer it '
  'had created before, if any (the retry then pays out that transfer instead of transferring again). The payout '
  'is retried after the backoff, or fails for good. Repeating it changes nothing. service_role. 22023 bad argument; '
  'P0002 unknown payout or attempt; 55000 the attempt is over or not the current one.';

------------------------------------------------------------------------------
-- Stripe events: transfer.* and payout.*
------------------------------------------------------------------------------

-- Replaces the ledger migration's placeholder. transfer.created confirms an
-- attempt, payout.created notes the payout id, payout.paid pays the payout,
-- transfer.reversed / payout.failed / payout.canceled fail the attempt. The
-- attempt is found by metadata.payout_id (+ payout_attempt), else by the
-- transfer or payout id recorded before, else (payouts of a connected account)
-- by the account, amount and currency of an unfinished attempt. Events that
-- concern no Buckets payout are ignored; inconsistent ones fail with a note
-- (treasury.stripe_event_problems) and change nothing.
create or replace function treasury_private.apply_payout_event(event jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  event_type text := event ->> 'type';
  evt_id text := event ->> 'id';
  obj jsonb := event -> 'data' -> 'object';
  occurred timestamptz := to_timestamp(treasury_private.json_bigint(event -> 'created'));
  connected text := case when jsonb_typeof(event -> 'account') = 'string' then event ->> 'account' end;
  object_id text := treasury_private.stripe_id(obj -> 'id');
  meta_payout uuid := treasury_private.as_uuid(obj -> 'metadata' ->> 'payout_id');
  meta_attempt int := case when obj -> 'metadata' ->> 'payout_attempt' ~ '^[1-9][0-9]{0,5}$'
                           then (obj -> 'metadata' ->> 'payout_attempt')::int end;
  amount bigint := treasury_private.json_bigint(obj -> 'amount');
  obj_currency text := treasury_private.currency_of(obj -> 'currency');
  is_transfer boolean := event_type like 'transfer.%';
  target treasury.payout_attempts;
  pay treasury.payouts;
  found_attempt int;
  ids jsonb;
begin
  if event_type not in ('transfer.created', 'transfer.reversed', 'payout.created', 'payout.paid', 'payout.failed', 'payout.canceled') then
    return treasury_private.outcome('ignored', format('%s changes no payout', event_type));
  end if;
  if object_id is null then
    return treasury_private.outcome('failed', 'data.object.id is required');
  end if;

  if meta_payout is not null then
    select a.attempt into found_attempt from treasury.payout_attempts as a
    where a.payout_id = meta_payout
      and (a.attempt = meta_attempt
           or (meta_attempt is null and (case when is_transfer then a.transfer_id else a.stripe_payout_id end) = object_id))
    order by a.attempt desc limit 1;
    if found_attempt is null and meta_attempt is null then
      select p.attempts into found_attempt from treasury.payouts as p where p.id = meta_payout and p.attempts > 0;
    end if;
    if found_attempt is null then
      return treasury_private.outcome('failed', format('metadata.payout_id %s: no such payout or attempt %s', meta_payout,
                                                       coalesce(meta_attempt::text, '(current)')));
    end if;
    target.payout_id := meta_payout;
  elsif is_transfer then
    select a.payout_id, a.attempt into target.payout_id, found_attempt from treasury.payout_attempts as a
    where a.transfer_id = object_id order by a.attempt desc limit 1;
  else
    select a.payout_id, a.attempt into target.payout_id, found_attempt from treasury.payout_attempts as a
    where a.stripe_payout_id = object_id;
    if target.payout_id is null and connected is not null then
      select a.payout_id, a.attempt into target.payout_id, found_attempt from treasury.payout_attempts as a
      where a.stripe_account_id = connected and a.status in ('open', 'transferred') and a.stripe_payout_id is null
        and a.amount_minor = amount and a.currency = obj_currency
      order by a.started_at, a.payout_id limit 1;
    end if;
  end if;
  if target.payout_id is null then
    return treasury_private.outcome('ignored', format('%s %s is not a Buckets payout (no metadata.payout_id, nothing recorded matches)',
                                                      case when is_transfer then 'transfer' else 'payout' end, object_id));
  end if;

  pay := treasury_private.lock_payout(target.payout_id);
  select * into target from treasury.payout_attempts as a
  where a.payout_id = pay.id and a.attempt = found_attempt for update;
  ids := jsonb_build_object('payout_id', pay.id, 'attempt', target.attempt);

  if amount is distinct from target.amount_minor or obj_currency is distinct from target.currency then
    return treasury_private.outcome('failed', format('%s %s is %s %s, attempt %s of payout %s is %s %s', event_type, object_id,
      coalesce(amount::text, 'null'), coalesce(obj_currency, 'null'), target.attempt, pay.id, target.amount_minor, target.currency)) || ids;
  end if;
  if is_transfer and treasury_private.stripe_id(obj -> 'destination') is distinct from target.stripe_account_id then
    return treasury_private.outcome('failed', format('transfer %s goes to %s, attempt %s of payout %s to %s', object_id,
      coalesce(treasury_private.stripe_id(obj -> 'destination'), 'null'), target.attempt, pay.id, target.stripe_account_id)) || ids;
  end if;
  if not is_transfer and connected is not null and connected <> target.stripe_account_id then
    return treasury_private.outcome('failed', format('payout %s is of account %s, attempt %s of payout %s pays %s', object_id,
      connected, target.attempt, pay.id, target.stripe_account_id)) || ids;
  end if;
  if is_transfer and target.transfer_id is not null and target.transfer_id <> object_id then
    return treasury_private.outcome('failed', format('attempt %s of payout %s has transfer %s, not %s', target.attempt, pay.id,
      target.transfer_id, object_id)) || ids;
  end if;
  if not is_transfer and target.stripe_payout_id is not null and target.stripe_payout_id <> object_id then
    return treasury_private.outcome('failed', format('attempt %s of payout %s has Stripe payout %s, not %s', target.attempt, pay.id,
      target.stripe_payout_id, object_id)) || ids;
  end if;

  -- Whatever the event, what it tells of the attempt's Stripe objects is kept.
  if (is_transfer and target.transfer_id is null) or (not is_transfer and target.stripe_payout_id is null) then
    update treasury.payout_attempts as a
    set transfer_id = case when is_transfer then object_id else a.transfer_id end,
        stripe_payout_id = case when is_transfer then a.stripe_payout_id else object_id end,
        status = case when a.status = 'open' and is_transfer then 'transferred' else a.status end
    where a.payout_id = target.payout_id and a.attempt = target.attempt
    returning * into target;
    if event_type in ('transfer.created', 'payout.created') then
      return treasury_private.outcome('applied') || ids;
    end if;
  end if;
  if event_type in ('transfer.created', 'payout.created') then
    if event_type = 'transfer.created' and target.status = 'open' then
      update treasury.payout_attempts as a set status = 'transferred'
      where a.payout_id = target.payout_id and a.attempt = target.attempt;
      return treasury_private.outcome('applied') || ids;
    end if;
    return treasury_private.outcome('applied', 'already_recorded') || ids;
  end if;

  if event_type = 'payout.paid' then
    if target.status = 'paid' then
      return treasury_private.outcome('applied', 'already_recorded') || ids;
    end if;
    if target.status = 'failed' and target.failed_by = 'payout' then
      -- A payout that failed after it was paid: its failure is the later fact.
      return treasury_private.outcome('applied', 'superseded: the payout failed after it was paid') || ids;
    end if;
    if target.status = 'failed' or target.attempt <> pay.attempts or pay.state <> 'processing' then
      return treasury_private.outcome('failed', format('payout.paid for attempt %s (%s) of payout %s, which is %s at attempt %s',
        target.attempt, target.status, pay.id, pay.state, pay.attempts)) || ids;
    end if;
    update treasury.payout_attempts as a set status = 'paid', finished_at = occurred
    where a.payout_id = target.payout_id and a.attempt = target.attempt;
    update treasury.payouts as p set paid_at = occurred, failure_code = null, failure_message = null
    where p.id = pay.id returning * into pay;
    pay := treasury_private.payout_transition(pay, 'paid', null, 'stripe', null, occurred,
      format('Stripe payout %s paid', object_id), evt_id);
    perform passport.log(pay.payee_id, 'treasury.payout_completed', 'payout:' || pay.id || ':completed:' || target.attempt,
      jsonb_build_object('payout_id', pay.id, 'amount_minor', pay.amount_minor, 'currency', pay.currency),
      null, least(occurred, now()), 'treasury');
    return treasury_private.outcome('applied') || ids || jsonb_build_object('state', pay.state);
  end if;

  -- transfer.reversed, payout.failed, payout.canceled
  if event_type = 'transfer.reversed'
     and treasury_private.json_bigint(obj -> 'amount_reversed') is distinct from target.amount_minor then
    return treasury_private.outcome('failed', format('transfer %s reversed %s of %s: a partial reversal needs an admin',
      object_id, coalesce(treasury_private.json_bigint(obj -> 'amount_reversed')::text, 'null'), target.amount_minor)) || ids;
  end if;
  if event_type = 'transfer.reversed' then
    -- The transfer no longer stands for any attempt that would pay it out.
    update treasury.payout_attempts as a set transfer_reversed_at = coalesce(a.transfer_reversed_at, occurred)
    where a.transfer_id = object_id;
  end if;
  if target.status = 'failed' then
    return treasury_private.outcome('applied', 'already_recorded') || ids;
  end if;
  if target.attempt <> pay.attempts or pay.state not in ('processing', 'paid') then
    return treasury_private.outcome('failed', format('%s for attempt %s (%s) of payout %s, which is %s at attempt %s',
      event_type, target.attempt, target.status, pay.id, pay.state, pay.attempts)) || ids;
  end if;
  pay := treasury_private.payout_attempt_failed(pay, target,
    case when is_transfer then 'transfer' else 'payout' end,
    case event_type when 'transfer.reversed' then 'transfer_reversed' when 'payout.canceled' then 'payout_canceled'
                    else coalesce(nullif(left(obj ->> 'failure_code', 100), ''), 'payout_failed') end,
    nullif(left(obj ->> 'failure_message', 1000), ''),
    occurred, 'stripe', evt_id);
  return treasury_private.outcome('applied') || ids
    || jsonb_build_object('state', pay.state, 'retry_at', pay.due_at);
end
$$;

comment on function treasury_private.apply_payout_event(jsonb) is
  'Applies transfer.created/reversed and payout.created/paid/failed/canceled to the payout attempt they concern; '
  'returns {"status", "note"?, "payout_id"?, "attempt"?, "state"?}. Other payout/transfer events are ignored.';

-- The catch-all settings row stays: every currency needs rules.
create function treasury_private.keep_default_payout_settings()
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

create trigger payout_settings_keep_default
  before update or delete on treasury.payout_settings
  for each row execute function treasury_private.keep_default_payout_settings();

------------------------------------------------------------------------------
-- Invariants of the payouts
------------------------------------------------------------------------------

create function treasury.check_payout_invariants()
returns table (invariant text, reference text, detail text)
language sql
stable
security definer
set search_path = ''
as $$
  with located as (
    select p.id, p.payee_id, p.currency, p.amount_minor, p.state, p.transitions,
           treasury_private.payout_location(p.state, p.due_at) as location
    from treasury.payouts as p
  ),
  expected as (
    select l.currency, l.location as purpose, sum(l.amount_minor) as amount
    from located as l
    where l.location in ('payouts_held', 'payouts_queued', 'payouts_in_transit')
    group by 1, 2
  ),
  actual as (
    select a.currency, a.purpose, -coalesce(b.balance, 0) as amount
    from treasury.accounts as a
    left join treasury.account_balances as b on b.account_id = a.id
    where a.owner_id is null and a.purpose in ('payouts_held', 'payouts_queued', 'payouts_in_transit')
  ),
  moved as (
    select t.payout_id, count(*) as transitions, max(t.seq) as last_seq,
           sum((select coalesce(sum(l.amount), 0) from public.treasury_ledger as l
                join treasury.accounts as a on a.id = l.account_id
                where l.txn_id = t.ledger_txn_id and a.purpose = 'payable')) as out_of_payable
    from treasury.payout_transitions as t
    group by t.payout_id
  ),
  last_state as (
    select distinct on (t.payout_id) t.payout_id, t.to_state
    from treasury.payout_transitions as t
    order by t.payout_id, t.seq desc
  ),
  payees as (
    select distinct a.owner_id, a.currency from treasury.accounts as a where a.purpose = 'payable' and a.owner_id is not null
  )
  select v.invariant, v.reference, v.detail
  from (
    select 'payout_account_mismatch' as invariant, coalesce(e.purpose, x.purpose) || ' ' || coalesce(e.currency, x.currency) as reference,
           format('the payouts kept there sum to %s, the account holds %s', coalesce(e.amount, 0), coalesce(x.amount, 0)) as detail
    from expected as e
    full join actual as x on x.currency = e.currency and x.purpose = e.purpose
    where coalesce(e.amount, 0) <> coalesce(x.amount, 0)
    union all
    select 'payout_posting_mismatch', l.id::text,
           format('%s: its transactions took %s out of payable, expected %s', l.state, coalesce(m.out_of_payable, 0),
                  case when l.location = 'payable' then 0 else l.amount_minor end)
    from located as l
    left join moved as m on m.payout_id = l.id
    where coalesce(m.out_of_payable, 0) <> case when l.location = 'payable' then 0 else l.amount_minor end
    union all
    select 'payout_transition_chain', l.id::text,
           format('state %s after %s transitions; logged: %s transitions, the last to %s', l.state, l.transitions,
                  coalesce(m.transitions, 0), coalesce(s.to_state, 'none'))
    from located as l
    left join moved as m on m.payout_id = l.id
    left join last_state as s on s.payout_id = l.id
    where m.transitions is distinct from l.transitions::bigint or m.last_seq is distinct from l.transitions
       or s.to_state is distinct from l.state
    union all
    select 'untraced_payable', p.owner_id::text || ' ' || p.currency,
           format('payable %s, explained by recorded payments %s (split lines %s - held %s - payouts %s)', t.payable,
                  t.payable - t.untraced, t.split_lines, t.held, t.outstanding)
    from payees as p
    cross join lateral treasury_private.payee_trace(p.owner_id, p.currency) as t
    where t.untraced <> 0
  ) as v
  order by v.invariant, v.reference
$$;

comment on function treasury.check_payout_invariants() is
  'One row per violated payout invariant, none when all is well: payout_account_mismatch (payouts_held, '
  'payouts_queued, payouts_in_transit vs the payouts in those states), payout_posting_mismatch (a payout''s '
  'transactions vs its state), payout_transition_chain (the log vs the row), untraced_payable (a payee''s payable '
  'vs split lines - held - outstanding payouts). For checks and tests, next to treasury.check_invariants().';

------------------------------------------------------------------------------
-- What fans read
------------------------------------------------------------------------------

-- The split lines of a party (null: the platform) with the product type of
-- their payment and when they happened: the Stripe time of the event that
-- posted them (the booking time when no event did).
create function treasury_private.party_lines(party uuid)
returns table (
  payment_id text,
  reason text,
  reference text,
  product_type text,
  amount_minor bigint,
  currency text,
  occurred_at timestamptz
)
language sql
stable
as $$
  select s.payment_id, s.reason, s.reference, p.product_type, s.amount_minor, s.currency::text,
         coalesce(e.stripe_created, s.created_at)
  from public.treasury_splits as s
  join treasury.payments as p on p.id = s.payment_id
  left join treasury.ledger_transactions as t
    on t.kind = case s.reason when 'payment' then 'payment' when 'refund' then 'refund' else 'dispute_loss' end
   and t.reference = s.reference
  left join treasury.stripe_events as e on e.event_id = t.stripe_event_id
  where s.party_id = party or (party is null and s.party_id is null)
$$;

create function treasury.fan_total_spent(for_user uuid default null, for_currency text default null)
returns table (
  currency text,
  payments bigint,
  spent_minor bigint,
  refunded_minor bigint,
  charged_back_minor bigint,
  net_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  fan uuid := treasury_private.reader(for_user);
  cur text := treasury_private.currency_arg(for_currency);
begin
  return query
    select p.currency::text, count(*), sum(p.amount_minor)::bigint, sum(p.refunded_minor)::bigint,
           sum(p.dispute_lost_minor)::bigint, sum(p.amount_minor - p.refunded_minor - p.dispute_lost_minor)::bigint
    from treasury.payments as p
    where p.buyer_id = fan and (cur is null or p.currency = cur)
    group by p.currency
    order by p.currency;
end
$$;

comment on function treasury.fan_total_spent(uuid, text) is
  'What a fan spent, per currency: payments, their total, refunded, charged back, net. for_user null: the caller; '
  'another user''s is for admins (42501). 22023 bad currency.';

create function treasury.fan_transactions(
  for_user uuid default null,
  from_at timestamptz default null,
  to_at timestamptz default null,
  types text[] default null,
  product_types text[] default null,
  page_size int default 50,
  before_at timestamptz default null,
  before_id text default null
)
returns table (
  id text,
  type text,
  occurred_at timestamptz,
  payment_id text,
  product_id uuid,
  product_type text,
  product_title text,
  artist_id uuid,
  amount_minor bigint,
  currency text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  fan uuid := treasury_private.reader(for_user);
begin
  perform treasury_private.check_page_size(page_size);
  perform treasury_private.check_range(from_at, to_at);
  perform treasury_private.check_members('types', types, '{payment,refund,chargeback}');
  perform treasury_private.check_members('product_types', product_types, '{ticket,membership,drop,merch,tip}');
  perform treasury_private.check_keyset(before_at, before_id);

  return query
    with mine as (
      select p.id, p.paid_at, p.product_id, p.product_type, p.artist_id, p.amount_minor, p.currency
      from treasury.payments as p
      where p.buyer_id = fan and (product_types is null or p.product_type = any (product_types))
    ),
    moves as (
      select m.id as row_id, 'payment'::text as row_type, m.paid_at as at, m.id as pay_id, m.amount_minor as amount, m.product_id,
             m.product_type, m.artist_id, m.currency
      from mine as m
      where types is null or 'payment' = any (types)
      union all
      select r.reference, case r.reason when 'refund' then 'refund' else 'chargeback' end,
             coalesce(e.stripe_created, r.first_at), m.id, r.total, m.product_id, m.product_type, m.artist_id, m.currency
      from mine as m
      cross join lateral (
        select s.reason, s.reference, sum(s.amount_minor)::bigint as total, min(s.created_at) as first_at
        from public.treasury_splits as s
        where s.payment_id = m.id and s.reason in ('refund', 'dispute')
        group by s.reason, s.reference
      ) as r
      left join treasury.ledger_transactions as t
        on t.kind = case r.reason when 'refund' then 'refund' else 'dispute_loss' end and t.reference = r.reference
      left join treasury.stripe_events as e on e.event_id = t.stripe_event_id
      where types is null or (case r.reason when 'refund' then 'refund' else 'chargeback' end) = any (types)
    )
    select x.row_id, x.row_type, x.at, x.pay_id, x.product_id, x.product_type, pr.title, x.artist_id, x.amount, x.currency::text
    from moves as x
    left join treasury.products as pr on pr.id = x.product_id
    where (from_at is null or x.at >= from_at)
      and (to_at is null or x.at < to_at)
      and (before_at is null or (x.at, x.row_id) < (before_at, before_id))
    order by x.at desc, x.row_id desc
    limit page_size;
end
$$;

comment on function treasury.fan_transactions(uuid, timestamptz, timestamptz, text[], text[], int, timestamptz, text) is
  'A fan''s money history, newest first: payments (amount > 0), refunds and chargebacks (amount < 0). Filters: '
  'occurred_at in [from_at, to_at), types (payment, refund, chargeback), product_types. Keyset pagination: pass the '
  'last row''s occurred_at and id as before_at and before_id. 42501 another user''s (unless admin); 22023 bad filters.';

create function treasury.receipt(payment_id text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  pay treasury.payments;
  item treasury.products;
begin
  if payment_id is null then
    raise exception using errcode = '22023', message = 'payment_id is required';
  end if;
  if auth.uid() is null and not treasury_private.caller_is_staff() then
    raise exception using errcode = '42501', message = 'sign in to read a receipt';
  end if;
  select * into pay from treasury.payments as p where p.id = receipt.payment_id;
  if not found then
    raise exception using errcode = 'P0002', message = format('payment %s not found', payment_id);
  end if;
  if pay.buyer_id is distinct from auth.uid() and not treasury_private.caller_is_staff() then
    raise exception using errcode = '42501', message = format('payment %s is not yours', payment_id),
      hint = 'A receipt is for its buyer (and Treasury admins).';
  end if;
  select * into item from treasury.products as p where p.id = pay.product_id;
  return jsonb_build_object(
    'payment_id', pay.id,
    'paid_at', pay.paid_at,
    'buyer_id', pay.buyer_id,
    'product', jsonb_build_object('id', item.id, 'type', item.type, 'title', item.title),
    'artist_id', pay.artist_id,
    'host_id', pay.host_id,
    'event_id', pay.event_id,
    'tier_id', pay.tier_id,
    'quantity', pay.quantity,
    'amount_minor', pay.amount_minor,
    'currency', pay.currency,
    'refunded_minor', pay.refunded_minor,
    'charged_back_minor', pay.dispute_lost_minor,
    'net_minor', pay.amount_minor - pay.refunded_minor - pay.dispute_lost_minor,
    'status', case
      when pay.dispute_state = 'open' then 'disputed'
      when pay.dispute_lost_minor > 0 then 'charged_back'
      when pay.refunded_minor = pay.amount_minor then 'refunded'
      when pay.refunded_minor > 0 then 'partially_refunded'
      else 'paid' end,
    'refunds', coalesce((
      select jsonb_agg(jsonb_build_object('id', r.reference, 'amount_minor', -r.total, 'at', r.at) order by r.at, r.reference)
      from (select s.reference, sum(s.amount_minor) as total, min(s.created_at) as at
            from public.treasury_splits as s
            where s.payment_id = pay.id and s.reason = 'refund'
            group by s.reference) as r), '[]'::jsonb),
    'checkout_session_id', pay.checkout_session_id,
    'charge_id', pay.charge_id,
    'livemode', pay.livemode);
end
$$;

comment on function treasury.receipt(text) is
  'Receipt data for a payment (PaymentIntent id): product, parties of the sale, amounts, refunds, status. Only for '
  'its buyer and Treasury admins: 42501 otherwise; P0002 unknown payment.';

------------------------------------------------------------------------------
-- What artists and hosts read
------------------------------------------------------------------------------

create function treasury.earnings_summary(for_user uuid default null, time_zone text default 'UTC')
returns table (
  currency text,
  revenue_this_month_minor bigint,
  revenue_all_time_minor bigint,
  available_minor bigint,
  on_hold_minor bigint,
  in_payout_minor bigint,
  pending_minor bigint,
  paid_out_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  payee uuid := treasury_private.reader(for_user);
  month_start timestamptz;
begin
  if time_zone is null then
    raise exception using errcode = '22023', message = 'time_zone is required (an IANA name such as Europe/Paris, or UTC)';
  end if;
  month_start := date_trunc('month', now(), time_zone);
  return query
    with currencies as (
      select a.currency::text as cur from treasury.accounts as a where a.owner_id = payee and a.purpose in ('payable', 'held')
      union
      select s.currency::text from public.treasury_splits as s where s.party_id = payee
      union
      select p.currency::text from treasury.payouts as p where p.payee_id = payee
    ),
    lines as (
      select l.currency, l.amount_minor, l.occurred_at from treasury_private.party_lines(payee) as l
    ),
    figures as (
      select c.cur,
        coalesce((select sum(l.amount_minor) from lines as l where l.currency = c.cur and l.occurred_at >= month_start), 0)::bigint as month,
        coalesce((select sum(l.amount_minor) from lines as l where l.currency = c.cur), 0)::bigint as all_time,
        coalesce((select -b.balance from treasury.accounts as a join treasury.account_balances as b on b.account_id = a.id
                  where a.owner_id = payee and a.purpose = 'payable' and a.currency = c.cur), 0) as available,
        coalesce((select -b.balance from treasury.accounts as a join treasury.account_balances as b on b.account_id = a.id
                  where a.owner_id = payee and a.purpose = 'held' and a.currency = c.cur), 0) as on_hold,
        coalesce((select sum(p.amount_minor) from treasury.payouts as p
                  where p.payee_id = payee and p.currency = c.cur and p.state <> 'paid'
                    and treasury_private.payout_outstanding(p.state, p.due_at)), 0)::bigint as in_payout,
        coalesce((select sum(p.amount_minor) from treasury.payouts as p
                  where p.payee_id = payee and p.currency = c.cur and p.state = 'paid'), 0)::bigint as paid_out
      from currencies as c
    )
    select f.cur, f.month, f.all_time, f.available, f.on_hold, f.in_payout, f.on_hold + f.in_payout, f.paid_out
    from figures as f
    order by f.cur;
end
$$;

comment on function treasury.earnings_summary(uuid, text) is
  'A payee''s money per currency: revenue this month (in time_zone, by Stripe''s time of each line) and all time '
  '(their split lines, net of refunds and lost disputes), available (can be paid out), on hold (disputes), in payout (requested, not yet paid), '
  'pending (on hold + in payout), paid out. 42501 another user''s (unless admin); 22023 unknown time zone.';

create function treasury.revenue_by_source(
  for_user uuid default null,
  from_at timestamptz default null,
  to_at timestamptz default null
)
returns table (
  source text,
  currency text,
  payments bigint,
  gross_minor bigint,
  reversed_minor bigint,
  net_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  payee uuid := treasury_private.reader(for_user);
begin
  perform treasury_private.check_range(from_at, to_at);
  return query
    with lines as (
      select l.product_type, l.currency as cur, l.reason, l.amount_minor, l.payment_id
      from treasury_private.party_lines(payee) as l
      where (from_at is null or l.occurred_at >= from_at)
        and (to_at is null or l.occurred_at < to_at)
    ),
    currencies as (select distinct l.cur from lines as l)
    select t.kind, c.cur,
           count(distinct l.payment_id) filter (where l.reason = 'payment'),
           coalesce(sum(l.amount_minor) filter (where l.reason = 'payment'), 0)::bigint,
           coalesce(-sum(l.amount_minor) filter (where l.reason <> 'payment'), 0)::bigint,
           coalesce(sum(l.amount_minor), 0)::bigint
    from unnest(array['ticket', 'membership', 'drop', 'merch', 'tip']) with ordinality as t(kind, n)
    cross join currencies as c
    left join lines as l on l.product_type = t.kind and l.cur = c.cur
    group by t.kind, t.n, c.cur
    order by c.cur, t.n;
end
$$;

comment on function treasury.revenue_by_source(uuid, timestamptz, timestamptz) is
  'A payee''s revenue per source (ticket, membership, drop, merch, tip: every one, zeros included) and currency, '
  'from their split lines that happened (Stripe''s time) in [from_at, to_at): payments, gross share, reversed '
  '(refunds, lost disputes), net. '
  '42501 another user''s (unless admin); 22023 bad range.';

create function treasury.payout_history(
  for_user uuid default null,
  states text[] default null,
  page_size int default 50,
  before_at timestamptz default null,
  before_id uuid default null
)
returns table (
  payout_id uuid,
  wallet_id text,
  amount_minor bigint,
  currency text,
  state text,
  will_retry boolean,
  retry_at timestamptz,
  attempts int,
  hold_reasons text[],
  hold_detail text,
  failure_code text,
  failure_message text,
  requested_at timestamptz,
  updated_at timestamptz,
  paid_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  payee uuid := treasury_private.reader(for_user);
begin
  perform treasury_private.check_page_size(page_size);
  perform treasury_private.check_members('states', states, '{held,pending,processing,paid,failed,cancelled}');
  perform treasury_private.check_keyset(before_at, before_id::text);
  return query
    select p.id, p.wallet_id, p.amount_minor, p.currency::text, p.state, p.state = 'failed' and p.due_at is not null,
           case when p.state = 'failed' then p.due_at end, p.attempts, p.hold_reasons, p.hold_detail, p.failure_code,
           p.failure_message, p.requested_at, p.updated_at, p.paid_at
    from treasury.payouts as p
    where p.payee_id = payee
      and (states is null or p.state = any (states))
      and (before_at is null or (p.requested_at, p.id) < (before_at, before_id))
    order by p.requested_at desc, p.id desc
    limit page_size;
end
$$;

comment on function treasury.payout_history(uuid, text[], int, timestamptz, uuid) is
  'A payee''s payouts, newest first, with state, retry time, hold reasons and failure. Keyset pagination: pass the '
  'last row''s requested_at and payout_id as before_at and before_id. 42501 another user''s (unless admin).';

create function treasury.top_fans(
  for_user uuid default null,
  for_currency text default null,
  lim int default 10,
  from_at timestamptz default null,
  to_at timestamptz default null
)
returns table (
  fan_id uuid,
  currency text,
  payments bigint,
  spent_minor bigint,
  rank bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  payee uuid := treasury_private.reader(for_user);
  cur text := treasury_private.currency_arg(for_currency);
begin
  if lim is null or lim not between 1 and 100 then
    raise exception using errcode = '22023', message = format('lim must be between 1 and 100, got %s', coalesce(lim::text, 'null'));
  end if;
  perform treasury_private.check_range(from_at, to_at);
  return query
    with sold as (
      select distinct s.payment_id from public.treasury_splits as s where s.party_id = payee and s.reason = 'payment'
    ),
    spend as (
      select p.buyer_id, p.currency::text as cur, count(*) as n,
             sum(p.amount_minor - p.refunded_minor - p.dispute_lost_minor)::bigint as net
      from sold as x
      join treasury.payments as p on p.id = x.payment_id
      where (cur is null or p.currency = cur)
        and (from_at is null or p.paid_at >= from_at)
        and (to_at is null or p.paid_at < to_at)
      group by p.buyer_id, p.currency
    ),
    ranked as (
      select s.buyer_id, s.cur, s.n, s.net, row_number() over (partition by s.cur order by s.net desc, s.buyer_id) as r
      from spend as s
    )
    select r.buyer_id, r.cur, r.n, r.net, r.r
    from ranked as r
    where r.r <= lim
    order by r.cur, r.r;
end
$$;

comment on function treasury.top_fans(uuid, text, int, timestamptz, timestamptz) is
  'The fans who spent most (net of refunds and chargebacks) on sales a payee shares in, per currency, top lim '
  '(1..100), paid in [from_at, to_at). 42501 another user''s (unless admin); 22023 bad arguments.';

------------------------------------------------------------------------------
-- What admins read
------------------------------------------------------------------------------

create function treasury.trial_balance(for_currency text default null, at timestamptz default null)
returns table (
  account_id bigint,
  owner_id uuid,
  purpose text,
  currency text,
  normal_side text,
  debit_minor bigint,
  credit_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  cur text := treasury_private.currency_arg(for_currency);
begin
  perform treasury_private.require_staff('the trial balance');
  return query
    select a.id, a.owner_id, a.purpose, a.currency::text, a.normal_side, greatest(x.balance, 0), greatest(-x.balance, 0)
    from treasury.accounts as a
    cross join lateral (
      select case when trial_balance.at is null
        then coalesce((select b.balance from treasury.account_balances as b where b.account_id = a.id), 0)
        else coalesce((select sum(l.amount) from public.treasury_ledger as l
                       where l.account_id = a.id and l.created_at <= trial_balance.at), 0)::bigint
      end as balance
    ) as x
    where cur is null or a.currency = cur
    order by a.currency, a.owner_id nulls first, a.purpose, a.id;
end
$$;

comment on function treasury.trial_balance(text, timestamptz) is
  'Every account''s balance in the debit or the credit column, now or at a past moment; per currency the columns '
  'sum to the same (treasury.trial_balance_totals). Treasury admins (42501 otherwise).';

create function treasury.trial_balance_totals(for_currency text default null, at timestamptz default null)
returns table (
  currency text,
  accounts bigint,
  debit_minor bigint,
  credit_minor bigint,
  balanced boolean
)
language sql
stable
security definer
set search_path = ''
as $$
  select t.currency, count(*), sum(t.debit_minor)::bigint, sum(t.credit_minor)::bigint, sum(t.debit_minor) = sum(t.credit_minor)
  from treasury.trial_balance(for_currency, at) as t
  group by t.currency
  order by t.currency
$$;

comment on function treasury.trial_balance_totals(text, timestamptz) is
  'The trial balance''s totals per currency: debits, credits, and whether they are equal. Treasury admins.';

create function treasury.platform_revenue(
  from_at timestamptz default null,
  to_at timestamptz default null,
  for_currency text default null
)
returns table (
  currency text,
  gross_minor bigint,
  reversed_minor bigint,
  net_minor bigint,
  processing_fees_minor bigint,
  dispute_fees_minor bigint,
  after_fees_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  cur text := treasury_private.currency_arg(for_currency);
begin
  perform treasury_private.require_staff('platform revenue');
  perform treasury_private.check_range(from_at, to_at);
  return query
    with lines as (
      select l.currency as c, l.reason, l.amount_minor
      from treasury_private.party_lines(null) as l
      where (cur is null or l.currency = cur)
        and (from_at is null or l.occurred_at >= from_at) and (to_at is null or l.occurred_at < to_at)
    ),
    fee_postings as (
      select l.currency::text as c, a.purpose, l.amount, coalesce(e.stripe_created, l.created_at) as occurred_at
      from public.treasury_ledger as l
      join treasury.accounts as a on a.id = l.account_id
      join treasury.ledger_transactions as t on t.id = l.txn_id
      left join treasury.stripe_events as e on e.event_id = t.stripe_event_id
      where a.owner_id is null and a.purpose in ('processing_fees', 'dispute_losses') and (cur is null or l.currency = cur)
    ),
    fees as (
      select f.c, f.purpose, sum(f.amount) as amount
      from fee_postings as f
      where (from_at is null or f.occurred_at >= from_at) and (to_at is null or f.occurred_at < to_at)
      group by 1, 2
    ),
    currencies as (select l.c from lines as l union select f.c from fees as f),
    figures as (
      select k.c,
        coalesce((select sum(l.amount_minor) from lines as l where l.c = k.c and l.reason = 'payment'), 0)::bigint as gross,
        coalesce((select -sum(l.amount_minor) from lines as l where l.c = k.c and l.reason <> 'payment'), 0)::bigint as reversed,
        coalesce((select f.amount from fees as f where f.c = k.c and f.purpose = 'processing_fees'), 0)::bigint as processing,
        coalesce((select f.amount from fees as f where f.c = k.c and f.purpose = 'dispute_losses'), 0)::bigint as disputes
      from currencies as k
    )
    select f.c, f.gross, f.reversed, f.gross - f.reversed, f.processing, f.disputes, f.gross - f.reversed - f.processing - f.disputes
    from figures as f
    order by f.c;
end
$$;

comment on function treasury.platform_revenue(timestamptz, timestamptz, text) is
  'The platform''s revenue per currency in [from_at, to_at): its shares of payments (gross), of refunds and lost '
  'disputes (reversed), net, Stripe processing fees, dispute fees, and what is left after fees. Treasury admins.';

create function treasury.open_disputes()
returns table (
  dispute_id text,
  payment_id text,
  buyer_id uuid,
  artist_id uuid,
  product_id uuid,
  product_type text,
  amount_minor bigint,
  currency text,
  reason text,
  status text,
  opened_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform treasury_private.require_staff('open disputes');
  return query
    select d.id, d.payment_id, p.buyer_id, p.artist_id, p.product_id, p.product_type, d.amount_minor, d.currency::text,
           d.reason, d.status, d.opened_at
    from treasury.disputes as d
    join treasury.payments as p on p.id = d.payment_id
    where d.outcome is null
    order by d.opened_at, d.id;
end
$$;

comment on function treasury.open_disputes() is 'Disputes not closed yet, oldest first, with their payment. Treasury admins.';

create function treasury.held_payouts()
returns table (
  payout_id uuid,
  payee_id uuid,
  wallet_id text,
  wallet_verification text,
  stripe_account_id text,
  amount_minor bigint,
  currency text,
  hold_reasons text[],
  hold_detail text,
  untraced_minor bigint,
  requested_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform treasury_private.require_staff('held payouts');
  return query
    select p.id, p.payee_id, p.wallet_id, w.verification, w.stripe_account_id, p.amount_minor, p.currency::text,
           p.hold_reasons, p.hold_detail, t.untraced, p.requested_at
    from treasury.payouts as p
    left join treasury.wallets as w on w.user_id = p.payee_id
    cross join lateral treasury_private.payee_trace(p.payee_id, p.currency) as t
    where p.state = 'held'
    order by p.requested_at, p.id;
end
$$;

comment on function treasury.held_payouts() is
  'Payouts waiting for an admin, oldest first: why (hold_reasons, hold_detail), the wallet, and how much of the '
  'payee''s payable is untraced now. Treasury admins.';

------------------------------------------------------------------------------
-- Who may read and call what. Money moves only through the functions above;
-- users read their own wallet and payouts, admins everything, service_role
-- bypasses row level security.
------------------------------------------------------------------------------

alter table treasury.payout_settings enable row level security;
alter table treasury.wallets enable row level security;
alter table treasury.payouts enable row level security;
alter table treasury.payout_attempts enable row level security;
alter table treasury.payout_transitions enable row level security;

grant select on treasury.payout_settings to anon, authenticated, service_role;
grant insert, update, delete on treasury.payout_settings to service_role;
create policy payout_settings_are_public on treasury.payout_settings
  for select to anon, authenticated using (true);

grant select on treasury.wallets, treasury.payouts, treasury.payout_attempts, treasury.payout_transitions
  to authenticated, service_role;
create policy wallets_owner_reads on treasury.wallets
  for select to authenticated using (user_id = (select auth.uid()) or (select treasury.is_admin()));
create policy payouts_payee_reads on treasury.payouts
  for select to authenticated using (payee_id = (select auth.uid()) or (select treasury.is_admin()));
create policy payout_transitions_payee_reads on treasury.payout_transitions
  for select to authenticated using (
    (select treasury.is_admin())
    or exists (select 1 from treasury.payouts as p where p.id = payout_id and p.payee_id = (select auth.uid())));
create policy payout_attempts_admin_reads on treasury.payout_attempts
  for select to authenticated using ((select treasury.is_admin()));

grant execute on function treasury.wallet_id_valid(text) to anon, authenticated, service_role;
grant execute on function treasury.wallet_id_normalize(text) to anon, authenticated, service_role;
grant execute on function treasury.my_wallet() to authenticated, service_role;
grant execute on function treasury.link_stripe_account(uuid, text) to service_role;
grant execute on function treasury.set_wallet_verification(uuid, boolean, text) to service_role;
grant execute on function treasury.request_payout(bigint, text, text) to authenticated, service_role;
grant execute on function treasury.cancel_payout(uuid, text) to authenticated, service_role;
grant execute on function treasury.release_payout(uuid, text) to authenticated, service_role;
grant execute on function treasury.process_payouts(timestamptz, int) to service_role;
grant execute on function treasury.fail_payout_attempt(uuid, int, text, text, text, timestamptz) to service_role;
grant execute on function treasury.check_payout_invariants() to service_role;
grant execute on function treasury.fan_total_spent(uuid, text) to authenticated, service_role;
grant execute on function treasury.fan_transactions(uuid, timestamptz, timestamptz, text[], text[], int, timestamptz, text)
  to authenticated, service_role;
grant execute on function treasury.receipt(text) to authenticated, service_role;
grant execute on function treasury.earnings_summary(uuid, text) to authenticated, service_role;
grant execute on function treasury.revenue_by_source(uuid, timestamptz, timestamptz) to authenticated, service_role;
grant execute on function treasury.payout_history(uuid, text[], int, timestamptz, uuid) to authenticated, service_role;
grant execute on function treasury.top_fans(uuid, text, int, timestamptz, timestamptz) to authenticated, service_role;
grant execute on function treasury.trial_balance(text, timestamptz) to authenticated, service_role;
grant execute on function treasury.trial_balance_totals(text, timestamptz) to authenticated, service_role;
grant execute on function treasury.platform_revenue(timestamptz, timestamptz, text) to authenticated, service_role;
grant execute on function treasury.open_disputes() to authenticated, service_role;
grant execute on function treasury.held_payouts() to authenticated, service_role;

-- The queue: pending payouts go out, failed ones are retried once their
-- backoff has elapsed. The Stripe calls themselves are the worker's
-- (docs/treasury-payouts.md).
select cron.schedule(
  'treasury-process-payouts',
  '* * * * *',
  'select treasury.process_payouts()'
);
