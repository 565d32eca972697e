-- Makes a badge live. The first activation evaluates the rule over the
-- history once (the backfill): count and early rules over every entry the
-- processor has folded, in id order, 20,000 entries a step; rank rules over
-- every closed month of Coliseum's fan totals. It holds the processor's lock
-- meanwhile, so each entry is evaluated either here or by the processor after
-- the commit, never both and never neither. Later activations (after
-- people.deactivate_badge) evaluate nothing of the time the badge was off.
create or replace function people.activate_badge(code text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  chunk constant int := 20000;
  badge people.badges;
  batch bigint[];
  last_id bigint := 0;
  entries bigint;
  awards bigint := 0;
  month date;
begin
  perform people_private.require_badge_admin();
  perform coliseum_private.require_read_committed('people.activate_badge');
  -- 'Coli' 'Rfsh': the lock coliseum.process_pending evaluates badges under.
  perform pg_advisory_xact_lock(1131375721, 1382446952);
  select * into badge from people.badges as b where b.code = activate_badge.code for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('unknown badge %s', coalesce(code, 'null'));
  end if;

  if badge.activated_at is null then
    if badge.rule ->> 'type' = 'rank' then
      for month in
        select generate_series(date_trunc('month', min(d.day)),
                               date_trunc('month', now() at time zone 'UTC') - interval '1 month', interval '1 month')::date
        from coliseum_private.fan_days as d
      loop
        awards := awards + people_private.award_rank_badges(month, badge.id);
      end loop;
    else
      entries := 0;
      loop
        select array_agg(p.id order by p.id), max(p.id) into batch, last_id
        from (select p.id from public.passport_entries as p
              where p.id > last_id and p.coliseum_processed_at is not null
              order by p.id limit chunk) as p;
        exit when batch is null;
        entries := entries + cardinality(batch);
        awards := awards + people_private.evaluate_badges(batch, badge.id);
      end loop;
    end if;
  end if;

  update people.badges as b
  set active = true, activated_at = coalesce(b.activated_at, now()),
      backfilled_entries = coalesce(b.backfilled_entries, entries)
  where b.id = badge.id
  returning * into badge;
  return jsonb_build_object('badge', badge.code, 'active', true, 'awards', awards,
                            'backfilled_entries', badge.backfilled_entries);
end
$$;

comment on function people.activate_badge(text) is
  'Admins: makes a badge live. The first activation awards it over the history (count and early rules: every '
  'folded entry, rank rules: every closed month) while the processor waits; returns {badge, active, awards, '
  'backfilled_entries}. P0002 for an unknown badge, 42501 for a caller who is no admin.';

grant execute on function people.activate_badge(text) to authenticated, service_role;
