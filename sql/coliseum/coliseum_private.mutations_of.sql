-- The mutations one entry makes, before they are stored: one per domain of
-- its kind when the entry counts (it names an artist and reaches the kind's
-- DNA threshold). Place: the payload's city and country when it has either,
-- else the fan's home as of the entry (the latest profile.location_set logged
-- before it), so that the result depends on the log alone, not on when or in
-- which batch the entry is folded. A SQL function the planner inlines into the
-- caller's statement. Its argument is a row of the partitioned log: the
-- partitions step (20261203133010) re-created the table, so this function
-- with it.
create or replace function coliseum_private.mutations_of(e public.passport_entries)
returns table (
  entry_id bigint,
  artist_id uuid,
  domain text,
  fan_id uuid,
  kind text,
  occurred_at timestamptz,
  tier smallint,
  weight double precision,
  amount_usd_cents bigint,
  genre text,
  city text,
  country char(2),
  rules_version int
)
language sql
stable
as $$
  select
    e.id,
    e.artist_id,
    d.domain,
    e.user_id,
    e.kind,
    -- An event cannot have happened after the database received it: a
    -- producer's clock ahead of ours counts as the moment of receipt.
    least(e.occurred_at, e.received_at),
    k.tier,
    coliseum.tier_multiplier(k.tier),
    case
      -- The payee's share of a payment and a brand's budget are no revenue of the artist.
      when d.domain <> 'G' or e.kind in ('treasury.money_earned', 'companon.campaign_launched') then null
      when e.kind = 'treasury.refund' then
        -coliseum_private.usd_cents(passport_private.json_i64(e.payload -> 'amount_minor'), e.payload ->> 'currency')
      else coliseum_private.usd_cents(passport_private.json_i64(e.payload -> 'amount_minor'), e.payload ->> 'currency')
    end,
    e.payload ->> 'genre',
    case when place.own then e.payload ->> 'city' else home.city end,
    left(case when place.own then e.payload ->> 'country' else home.country end, 2),
    2 -- rules version 2: version 1 (catalog tiers, 30-day decay, thresholds) and the counting rules
  from passport.event_kinds as k
  cross join lateral (select e.payload ?| array['city', 'country'] as own) as place
  left join lateral (
    select l.payload ->> 'city' as city, l.payload ->> 'country' as country
    from public.passport_entries as l
    where not place.own
      and l.user_id = e.user_id
      and l.kind = 'profile.location_set'
      and l.id < e.id
    order by l.id desc
    limit 1
  ) as home on true
  cross join lateral unnest(k.domains) as d(domain)
  where k.name = e.kind
    and e.artist_id is not null
    and (k.dna_threshold_field is null
         or passport_private.json_i64(e.payload -> k.dna_threshold_field) >= k.dna_threshold_min)
$$;

comment on function coliseum_private.mutations_of(public.passport_entries) is
  'The mutations a passport entry makes (one per domain of its kind when it counts), not yet stored.';
