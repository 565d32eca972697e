-- Posts one balanced ledger transaction: lines is a JSON array of
-- {"account_id": n, "amount": n} (debit > 0, credit < 0; zero lines are
-- dropped). Checks everything before inserting, in one statement, so a bad
-- call leaves nothing behind. Returns the transaction id.
create or replace function treasury_private.post(kind text, reference text, lines jsonb, stripe_event_id text default null)
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
