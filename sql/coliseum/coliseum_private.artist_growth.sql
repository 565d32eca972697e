-- Growth of an artist per domain: raw strength of the last 7 days against
-- the 7 days before, both as the processor computed them: recent_raw is the
-- artist's current 7d raw (coliseum_domain_strength, at most minutes old for
-- an active artist), previous_raw the 7d raw the processor stored for the
-- UTC day 7 days ago (coliseum.strength_history: that day's last refresh), so
-- the two windows are (now - 7 days, now] and, to within that day, the 7 days
-- before. Null previous_raw when the artist was not scored that day.
create or replace function coliseum_private.artist_growth(artist uuid)
returns table (domain text, recent_raw double precision, previous_raw double precision)
language sql
stable
as $$
  select d.domain, coalesce(s.raw, 0), h.raw
  from unnest(array['A', 'T', 'G', 'C']) as d(domain)
  left join public.coliseum_domain_strength as s
    on s.artist_id = artist and s.domain = d.domain and s.period = '7d'
  left join coliseum.strength_history as h
    on h.artist_id = artist and h.domain = d.domain and h.period = '7d'
   and h.day = (now() at time zone 'UTC')::date - 7
$$;
