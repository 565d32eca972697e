create or replace function coliseum.rows_shown()
returns table (domain text, period text, artist_id uuid)
language sql
stable
security definer
set search_path = ''
-- The depth is unknown when this is planned, so the estimate is large
-- enough to trigger JIT, which would cost more than the query.
set jit = off
as $$
  select top.domain, top.period, top.artist_id
  from coliseum.plans as p
  cross join unnest(p.domains) as d(domain)
  cross join unnest(array['7d', '30d', 'alltime']) as w(period)
  cross join lateral (
    select s.domain, s.period, s.artist_id
    from public.coliseum_domain_strength as s
    where s.domain = d.domain and s.period = w.period
      and not exists (select from coliseum.artist_holds as x where x.artist_id = s.artist_id and x.released_at is null)
    order by s.score desc, s.artist_id
    limit p.depth
  ) as top
  where p.plan = coliseum.my_plan() and p.depth is not null
$$;

comment on function coliseum.rows_shown() is
  'Row level security helper: (domain, period, artist_id) of the rows within the caller''s depth on depth-limited boards '
  '(artists held off the boards are on none).';

grant execute on function coliseum.rows_shown() to anon, authenticated;
