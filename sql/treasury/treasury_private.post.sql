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
  missing text;
  account_ids bigint[];
  amounts bigint[];
  currencies bpchar[];
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

  -- One statement reads every line once and looks each account up once:
  -- the first malformed line (in order), the non-zero lines as arrays, and
  -- the first of them whose account does not exist.
  with line as (
    select l.idx, l.line,
           treasury_private.json_bigint(l.line -> 'account_id') as account_id,
           treasury_private.json_bigint(l.line -> 'amount') as amount
    from jsonb_array_elements(lines) with ordinality as l(line, idx)
  )
  select
    (select format('lines[%s] %s', b.idx - 1, case
         when jsonb_typeof(b.line) <> 'object' then 'must be an object {"account_id": n, "amount": n}'
         when b.account_id is null then 'account_id must be an integer'
         when b.amount is null then 'amount must be an integer (minor units)'
         else 'amount is out of range'
       end)
     from line as b
     where jsonb_typeof(b.line) <> 'object' or b.account_id is null or b.amount is null
        or b.amount = -9223372036854775808
     order by b.idx
     limit 1),
    array_agg(l.account_id order by l.idx) filter (where l.amount <> 0),
    array_agg(l.amount order by l.idx) filter (where l.amount <> 0),
    array_agg(a.currency order by l.idx) filter (where l.amount <> 0),
    (array_agg(format('account %s does not exist', l.account_id) order by l.idx)
       filter (where l.amount <> 0 and a.id is null))[1]
  into problem, account_ids, amounts, currencies, missing
  from line as l
  left join treasury.accounts as a on a.id = l.account_id;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;
  if account_ids is null then
    raise exception using errcode = '22023', message = format('ledger transaction %s %s has no non-zero line', kind, reference);
  end if;
  if missing is not null then
    raise exception using errcode = 'P0002', message = missing;
  end if;

  select format('ledger transaction %s %s does not balance in %s: debits exceed credits by %s',
                kind, reference, u.currency, sum(u.amount))
  into problem
  from unnest(currencies, amounts) as u(currency, amount)
  group by u.currency
  having sum(u.amount) <> 0
  order by u.currency
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
  select txn, post.kind, post.reference, u.account_id, u.currency, u.amount
  from unnest(account_ids, currencies, amounts) with ordinality as u(account_id, currency, amount, idx)
  order by u.idx;
  return txn;
end
$$;

comment on function treasury_private.post(text, text, jsonb, text) is
  'Posts one balanced ledger transaction from [{"account_id", "amount"}] (debit > 0, credit < 0); returns its id. '
  '22023 bad argument, P0002 unknown account, 23514 unbalanced, 23505 (kind, reference) posted already.';
