-- Refuses a request for ranks up to last_rank of a domain's board that the
-- plan does not show, naming the cheapest plan that would: 42501.
-- A null plan (a role not subject to plans) passes.
create or replace function coliseum_private.check_access(caller_plan text, board_domain text, last_rank bigint)
returns void
language plpgsql
stable
as $$
declare
  mine coliseum.plans;
  needed coliseum.plans;
  shown_by_cheaper int;
begin
  if caller_plan is null then
    return;
  end if;
  select * into strict mine from coliseum.plans as p where p.plan = caller_plan;

  if not board_domain = any (mine.domains) then
    select * into needed from coliseum.plans as p
    where p.plan not in ('public', 'free') and board_domain = any (p.domains)
    order by p.depth nulls last
    limit 1;
    raise exception using
      errcode = '42501',
      message = format('the %s board needs the %s plan (your plan: %s)', board_domain, needed.plan, caller_plan),
      hint = format('The %s plan shows the %s board%s.', caller_plan,
                    array_to_string(mine.domains, ', '), case when cardinality(mine.domains) > 1 then 's' else '' end);
  end if;

  if last_rank > mine.depth then
    -- The cheapest plan that shows that far, and how far the plans below it go.
    select * into needed from coliseum.plans as p
    where p.plan not in ('public', 'free') and board_domain = any (p.domains)
      and (p.depth is null or p.depth >= last_rank)
    order by p.depth nulls last
    limit 1;
    select greatest(mine.depth, max(p.depth)) into shown_by_cheaper from coliseum.plans as p
    where p.plan not in ('public', 'free') and board_domain = any (p.domains) and p.depth < last_rank;
    raise exception using
      errcode = '42501',
      message = format('ranks beyond %s need the %s plan (your plan: %s)', shown_by_cheaper, needed.plan, caller_plan),
      detail = format('The request reaches rank %s; the %s plan shows the top %s of the %s board.',
                      last_rank, caller_plan, mine.depth, board_domain),
      hint = format('Ask for ranks up to %s (off + lim <= %s).', mine.depth, mine.depth);
  end if;
end
$$;
