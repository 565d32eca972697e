-- SQL twins of pg_coliseum's split engine (pg_coliseum/src/split.rs,
-- buckets_core/src/treasury/split.rs). Same names, argument names and types, volatility,
-- strictness, results and errors as the extension: the same integers, and every error
-- SQLSTATE 22023 with the same message, checked in the same order (see docs/treasury-splits.md).
--
-- Installed into schema coliseum by the generated migration when the extension is unavailable,
-- executed there as one string inside a DO block: plain SQL only, $fn$ quotes only.
--
-- amount * bp can exceed bigint (i64::MAX * 10000), and numeric is slow, so the products are
-- split at 10000: with amount = whole * 10000 + part,
--   floor(amount * bp / 10000) = whole * bp + part * bp / 10000    (whole * bp <= amount)
--   amount * bp mod 10000      = part * bp % 10000                 (part * bp < 1e8)
-- which are exact in bigint, as Rust's i128 products are.

-- The leftover units (fewer than the parties) go to the largest remainders, the lower index
-- first on a tie. A split rule has a handful of parties, so up to 16 units are placed by picking
-- the largest remaining remainder each time (one pass over the parties per unit); more units
-- (only with more than 16 parties) are placed in 16 passes whatever their number: the remainder
-- of the last unit is found by bisection over 1..9999, then the units go to every larger
-- remainder and to the first equal ones.
create or replace function coliseum.allocate_split(amount bigint, shares_bp integer[])
returns bigint[]
language plpgsql immutable strict parallel safe
as $fn$
declare
  whole constant bigint := amount / 10000;
  part constant bigint := amount % 10000;
  share integer;
  n integer := 0;
  total bigint := 0;
  lines bigint[] := '{}'::bigint[];
  remainders integer[] := '{}'::integer[];
  leftover bigint := part;
  best integer;
  lo integer := 1;
  hi integer := 9999;
  mid integer;
  counted integer;
begin
  if amount < 0 then
    raise exception using errcode = '22023', message = 'amount must not be negative, got ' || amount;
  end if;
  if cardinality(shares_bp) = 0 then
    raise exception using errcode = '22023', message = 'shares_bp must not be empty';
  end if;
  foreach share in array shares_bp loop
    n := n + 1;
    if share is null then
      raise exception using errcode = '22023', message = 'share ' || n || ' must not be NULL';
    end if;
    if share < 0 or share > 10000 then
      raise exception using errcode = '22023',
        message = 'share ' || n || ' must be between 0 and 10000 basis points, got ' || share;
    end if;
    total := total + share;
    lines[n] := whole * share + part * share / 10000;
    remainders[n] := (part * share % 10000)::integer;
    leftover := leftover - part * share / 10000;
  end loop;
  if total <> 10000 then
    raise exception using errcode = '22023', message = 'shares must sum to 10000 basis points, got ' || total;
  end if;

  -- leftover = amount - sum(lines) = part - sum(floor(part * bp / 10000)).
  if leftover <= 16 then
    for unit in 1..leftover::integer loop
      best := 1;
      for i in 2..n loop
        if remainders[i] > remainders[best] then
          best := i;
        end if;
      end loop;
      lines[best] := lines[best] + 1;
      remainders[best] := -1;
    end loop;
    return lines;
  end if;

  -- The largest remainder lo that at least `leftover` remainders reach (at least leftover + 1
  -- remainders are positive, so lo = 1 qualifies).
  while lo < hi loop
    mid := (lo + hi + 1) / 2;
    counted := 0;
    for i in 1..n loop
      if remainders[i] >= mid then
        counted := counted + 1;
      end if;
    end loop;
    if counted >= leftover then
      lo := mid;
    else
      hi := mid - 1;
    end if;
  end loop;
  counted := 0;
  for i in 1..n loop
    if remainders[i] > lo then
      counted := counted + 1;
    end if;
  end loop;
  leftover := leftover - counted;
  for i in 1..n loop
    if remainders[i] > lo then
      lines[i] := lines[i] + 1;
    elsif remainders[i] = lo and leftover > 0 then
      lines[i] := lines[i] + 1;
      leftover := leftover - 1;
    end if;
  end loop;
  return lines;
end
$fn$;

comment on function coliseum.allocate_split(bigint, integer[]) is
  'Splits amount (minor units, >= 0) by shares in basis points (each 0..10000, summing to 10000) by largest remainder, ties to the lower index: one line per share, summing exactly to amount. SQL twin of pg_coliseum.';

-- The lines a refund reverses: what the parties held before it minus what they hold after it,
-- where each party always holds the split of what is left of the payment:
-- allocate_split(amount - refunded_before) - allocate_split(amount - refunded_total). No holding
-- goes below zero and a full refund leaves everyone at zero; largest remainder is not monotone,
-- so a line can be -1. The amounts are checked first, so that the two splits only ever see valid
-- amounts (0 <= amount - total <= amount - before <= amount: no overflow) and check the shares
-- with their own messages.
create or replace function coliseum.allocate_refund(amount bigint, shares_bp integer[], refunded_before bigint, refunded_total bigint)
returns bigint[]
language plpgsql immutable strict parallel safe
as $fn$
declare
  lines bigint[];
  held bigint[];
begin
  if amount < 0 then
    raise exception using errcode = '22023', message = 'amount must not be negative, got ' || amount;
  end if;
  if refunded_before < 0 then
    raise exception using errcode = '22023', message = 'refunded_before must not be negative, got ' || refunded_before;
  end if;
  if refunded_total < refunded_before then
    raise exception using errcode = '22023',
      message = 'refunded_total must not be less than refunded_before (' || refunded_before || '), got ' || refunded_total;
  end if;
  if refunded_total > amount then
    raise exception using errcode = '22023',
      message = 'refunded_total must not exceed amount (' || amount || '), got ' || refunded_total;
  end if;
  lines := coliseum.allocate_split(amount - refunded_before, shares_bp);
  held := coliseum.allocate_split(amount - refunded_total, shares_bp);
  for i in 1..cardinality(lines) loop
    lines[i] := lines[i] - held[i];
  end loop;
  return lines;
end
$fn$;

comment on function coliseum.allocate_refund(bigint, integer[], bigint, bigint) is
  'The split lines a refund reverses when the refunds of a payment of amount go from refunded_before to refunded_total (cumulative, 0 <= before <= total <= amount): allocate_split(amount - refunded_before) - allocate_split(amount - refunded_total), so each party always holds the split of what is left (never below zero, zero after a full refund); a line can be -1. SQL twin of pg_coliseum.';
