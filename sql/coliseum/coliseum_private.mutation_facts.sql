-- What a mutation adds to the aggregates besides its weight: a SQL function
-- the planner inlines into the processor's and the refresh's statements, so
-- the two read the rules from one place.
create or replace function coliseum_private.mutation_facts(domain text, kind text, tier smallint, amount_usd_cents bigint, genre text)
returns table (
  genre_key text,
  entry int,
  units bigint,
  influence boolean,
  touring boolean,
  play int,
  transaction int,
  attended int,
  converts boolean
)
language sql
stable
as $$
  select
    case when domain = 'A' then coalesce(genre, '') else '' end,
    (domain = (select min(d) from unnest(k.domains) as d))::int,
    coliseum.tier_units(tier),
    domain = 'A' and tier >= 3,
    domain = 'C' and kind in ('concierto.event_attended', 'concierto.ticket_validated',
                              'concierto.ticket_purchased', 'concierto.event_rsvp'),
    (domain = 'T' and kind in ('audio.play', 'audio.complete'))::int,
    (domain = 'G' and coalesce(amount_usd_cents > 0, false))::int,
    (domain = 'C' and kind = 'concierto.event_attended')::int,
    kind in ('social.follow', 'concierto.ticket_purchased', 'concierto.event_attended', 'membership.started',
             'membership.renewed', 'drop.purchased', 'merch.purchased', 'tip.sent', 'treasury.money_spent')
  from passport.event_kinds as k
  where k.name = mutation_facts.kind
$$;
