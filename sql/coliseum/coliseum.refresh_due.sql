-- Re-scores, oldest first, up to max_artists artists whose scores were
-- computed more than 10 minutes ago and can still move: decay and the 7d and
-- 30d windows change a score until its newest mutation is 30 days older than
-- the moment it was computed. Returns how many artists it re-scored.
create or replace function coliseum.refresh_due(max_artists int default 2000)
returns int
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  due uuid[];
begin
  if max_artists is null or max_artists < 1 then
    raise exception using
      errcode = '22023',
      message = format('max_artists must be at least 1, got %s', coalesce(max_artists::text, 'null'));
  end if;
  select array_agg(r.artist_id order by r.refreshed_at) into due
  from (select r.artist_id, r.refreshed_at
        from coliseum_private.artist_refreshes as r
        where r.refreshed_at < now() - interval '10 minutes'
          and exists (select from public.coliseum_dna_mutations as m
                      where m.artist_id = r.artist_id and m.occurred_at > r.refreshed_at - interval '30 days')
        order by r.refreshed_at
        limit max_artists) as r;
  return coliseum_private.refresh_artists(due, now());
end
$$;

comment on function coliseum.refresh_due(int) is
  'Re-scores up to max_artists artists whose scores are over 10 minutes old and still decaying; returns how many.';

grant execute on function coliseum.refresh_due(int) to service_role;
