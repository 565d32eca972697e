-- Treasury ledger: tables, row level security, privileges, security definer functions, the
-- append-only triggers, the payouts hook, and the webhook rejection log with its pruning job.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(31);

-- Tables ---------------------------------------------------------------------------------------------

select is(
  (select array_agg(t order by t) from unnest(array[
     'treasury.admins', 'treasury.account_purposes', 'treasury.accounts', 'treasury.ledger_transactions',
     'public.treasury_ledger', 'treasury.account_balances', 'treasury.split_rules', 'treasury.split_rule_parties',
     'treasury.products', 'treasury.payments', 'public.treasury_splits', 'treasury.disputes', 'treasury.stripe_events',
     'treasury.webhook_rejections']) as t
   where to_regclass(t) is null),
  null,
  'every Treasury table exists'
);
select is(
  (select array_agg(c.oid::regclass::text order by c.oid::regclass::text)
   from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
   where c.relkind = 'r' and (n.nspname = 'treasury' or c.relname in ('treasury_ledger', 'treasury_splits'))
     and not c.relrowsecurity),
  null,
  'row level security is enabled on every Treasury table'
);
select is(
  (select array_agg(c.oid::regclass::text order by c.oid::regclass::text)
   from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
   where c.relkind in ('r', 'v') and (n.nspname = 'treasury' or c.relname in ('treasury_ledger', 'treasury_splits'))
     and obj_description(c.oid, 'pg_class') is null),
  null,
  'every Treasury table and view has a comment'
);
select results_eq(
  $$select column_name::text collate "default", data_type::text collate "default", is_nullable::text collate "default"
    from information_schema.columns where table_schema = 'public' and table_name = 'treasury_ledger' order by ordinal_position$$,
  $$values ('id', 'bigint', 'NO'), ('txn_id', 'bigint', 'NO'), ('kind', 'text', 'NO'), ('reference', 'text', 'NO'),
           ('account_id', 'bigint', 'NO'), ('currency', 'character', 'NO'), ('amount', 'bigint', 'NO'),
           ('created_at', 'timestamp with time zone', 'NO')$$,
  'treasury_ledger: one posting per row, signed integer minor units'
);
select results_eq(
  $$select column_name::text collate "default", data_type::text collate "default", is_nullable::text collate "default"
    from information_schema.columns where table_schema = 'public' and table_name = 'treasury_splits' order by ordinal_position$$,
  $$values ('id', 'bigint', 'NO'), ('payment_id', 'text', 'NO'), ('reason', 'text', 'NO'), ('reference', 'text', 'NO'),
           ('party_index', 'smallint', 'NO'), ('party_id', 'uuid', 'YES'), ('role', 'text', 'NO'),
           ('amount_minor', 'bigint', 'NO'), ('currency', 'character', 'NO'), ('created_at', 'timestamp with time zone', 'NO')$$,
  'treasury_splits: realised lines per payment, refund and lost dispute'
);
select col_is_pk('treasury', 'stripe_events', 'event_id', 'a Stripe event id is stored once');
select has_index('treasury', 'ledger_transactions', 'ledger_transactions_kind_reference_key', array['kind', 'reference'],
                 'a ledger fact is posted once');
select results_eq(
  $$select purpose, owner_kind, normal_side from treasury.account_purposes
    where purpose not like 'payouts\_%' or purpose = 'payouts_in_transit' order by purpose$$,
  $$values ('dispute_losses', 'platform', 'debit'), ('dispute_reserve', 'platform', 'credit'), ('held', 'user', 'credit'),
           ('payable', 'user', 'credit'), ('payouts_in_transit', 'platform', 'credit'), ('platform_revenue', 'platform', 'credit'),
           ('processing_fees', 'platform', 'debit'), ('stripe_balance', 'platform', 'debit')$$,
  'the ledger''s account purposes and their normal sides (the payouts module adds its own)'
);

-- Triggers ---------------------------------------------------------------------------------------------

select is(
  (select array_agg(tgrelid::regclass::text || '.' || tgname order by 1) from pg_trigger
   where tgname in ('accounts_kept', 'ledger_transactions_append_only', 'treasury_ledger_append_only',
                    'treasury_ledger_balanced', 'treasury_ledger_balances', 'treasury_splits_append_only',
                    'payments_kept_update', 'payments_kept_delete', 'disputes_kept', 'stripe_events_kept_update',
                    'stripe_events_kept_delete')
     and tgenabled <> 'A'),
  null,
  'the guards, the balance check and the balance keeper fire always (also for superusers and in replica mode)'
);
select ok(
  (select count(*) = 2 from pg_trigger
   where tgname in ('split_rules_complete', 'split_rule_parties_sum') and tgdeferrable and tginitdeferred),
  'split rules are checked at commit'
);

-- Privileges ---------------------------------------------------------------------------------------------

select is(
  (select array_agg(r || ' ' || p || ' ' || t order by 1)
   from unnest(array['anon', 'authenticated', 'service_role']) as r,
        unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p,
        unnest(array['treasury.accounts', 'treasury.ledger_transactions', 'public.treasury_ledger', 'treasury.account_balances',
                     'treasury.payments', 'public.treasury_splits', 'treasury.disputes', 'treasury.stripe_events',
                     'treasury.webhook_rejections', 'treasury.account_purposes']) as t
   where has_table_privilege(r, t, p)),
  null,
  'no API role writes money tables: money moves only through the functions'
);
select is(
  (select array_agg(r || ' ' || t order by 1)
   from unnest(array['anon', 'authenticated']) as r,
        unnest(array['treasury.products', 'treasury.split_rules', 'treasury.split_rule_parties', 'treasury.admins']) as t
   where has_table_privilege(r, t, 'INSERT') or has_table_privilege(r, t, 'UPDATE') or has_table_privilege(r, t, 'DELETE')),
  null,
  'only service_role manages products, split rules and admins'
);
select ok(
  (select bool_and(has_table_privilege('service_role', t, 'INSERT') and has_table_privilege('service_role', t, 'DELETE'))
   from unnest(array['treasury.products', 'treasury.split_rules', 'treasury.split_rule_parties', 'treasury.admins']) as t),
  'service_role does'
);
select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc as p
   where p.pronamespace = 'treasury'::regnamespace and p.prokind = 'f'
     and not (p.prosecdef and p.proconfig @> array['search_path=""'])
     and p.proname <> 'balance_at'),
  null,
  'every Treasury function runs as security definer with an empty search_path (balance_at: invoker, under RLS)'
);
select ok(
  (select not p.prosecdef and p.proconfig @> array['search_path=""'] from pg_proc as p
   where p.oid = 'treasury.balance_at(bigint, timestamptz)'::regprocedure),
  'balance_at runs as the caller, so row level security decides what it sums'
);
select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc as p
   where p.pronamespace = 'treasury'::regnamespace and obj_description(p.oid, 'pg_proc') is null),
  null,
  'every Treasury function has a comment'
);
select results_eq(
  $$select p.proname::text collate "default", array_agg(r order by r)
    from pg_proc as p cross join unnest(array['anon', 'authenticated', 'service_role']) as r
    where p.pronamespace = 'treasury'::regnamespace and has_function_privilege(r, p.oid, 'EXECUTE')
      and p.proname in ('balance_at', 'check_invariants', 'define_split_rule', 'is_admin', 'log_webhook_rejection',
                        'receive_stripe_event', 'retry_stripe_event') -- the ledger's; the payouts tests check theirs
    group by p.proname order by p.proname$$,
  $$values ('balance_at', '{authenticated,service_role}'::text[]), ('check_invariants', '{service_role}'),
           ('define_split_rule', '{service_role}'), ('is_admin', '{anon,authenticated,service_role}'),
           ('log_webhook_rejection', '{service_role}'), ('receive_stripe_event', '{service_role}'),
           ('retry_stripe_event', '{service_role}')$$,
  'who may call each Treasury function'
);
select is(
  (select array_agg(p.proname::text order by 1) from pg_proc as p
   cross join unnest(array['anon', 'authenticated', 'service_role']) as r
   where p.pronamespace = 'treasury_private'::regnamespace and has_function_privilege(r, p.oid, 'EXECUTE')),
  null,
  'no API role may call a treasury_private function'
);

-- The payouts hook ----------------------------------------------------------------------------------------

select has_function('treasury_private', 'apply_payout_event', array['jsonb'], 'the payouts module''s hook exists');
select function_returns('treasury_private', 'apply_payout_event', array['jsonb'], 'jsonb', 'and returns jsonb');
select ok(
  treasury_private.apply_payout_event('{"id": "evt_x", "type": "payout.paid", "created": 1, "data": {"object": {}}}') ->> 'status'
    in ('applied', 'ignored', 'deferred', 'failed'),
  'it answers with a status receive_stripe_event accepts'
);

-- Webhook rejections ---------------------------------------------------------------------------------------

select treasury.log_webhook_rejection('signature_mismatch', 'no v1 signature matches',
  '{"header_present": true, "timestamp": 1763800000, "body_sha256": "ab12", "event_id": "evt_1"}') as rejection \gset
select results_eq(
  format('select code, message, detail from treasury.webhook_rejections where id = %s', :rejection),
  $$values ('signature_mismatch', 'no v1 signature matches',
            '{"header_present": true, "timestamp": 1763800000, "body_sha256": "ab12", "event_id": "evt_1"}'::jsonb)$$,
  'a rejection is recorded with its code, message and detail'
);
select treasury.log_webhook_rejection('stale_timestamp', repeat('x', 5000), jsonb_build_object('junk', repeat('y', 10000)))
  as long_rejection \gset
select is(
  (select (char_length(message), detail) from treasury.webhook_rejections where id = :long_rejection)::text,
  '(1000,"{""bytes"": 10012, ""truncated"": true}")',
  'long messages are cut and large details replaced'
);
select throws_ok($$select treasury.log_webhook_rejection(null, 'm')$$, '22023', 'code must be 1 to 50 lower-case letters or _, got null',
                 'a rejection needs a code');
select throws_ok($$select treasury.log_webhook_rejection('Bad Code', 'm')$$, '22023',
                 'code must be 1 to 50 lower-case letters or _, got Bad Code', 'a code is a lower-case word');
select throws_ok($$select treasury.log_webhook_rejection('x', null)$$, '22023', 'message is required', 'a rejection needs a message');
select throws_ok($$select treasury.log_webhook_rejection('x', 'm', '[1]')$$, '22023', 'detail must be a JSON object',
                 'detail is an object');
select is(treasury.log_webhook_rejection('x', 'm', null) > 0, true, 'a null detail is stored as {}');

insert into treasury.webhook_rejections (first_seen, last_seen, code, message)
values (now() - interval '31 days', now() - interval '31 days', 'old', 'pgtap');
select ok(treasury_private.prune_webhook_rejections() >= 1, 'unsigned rejections last seen more than 30 days ago are pruned');
select is((select count(*) from treasury.webhook_rejections where code = 'old'), 0::bigint, 'and gone');
select is(
  (select schedule || ' ' || command from cron.job where jobname = 'treasury-prune-webhook-rejections'),
  '*/10 * * * * select treasury_private.prune_webhook_rejections()',
  'pg_cron prunes them every 10 minutes'
);

select * from finish();
rollback;
