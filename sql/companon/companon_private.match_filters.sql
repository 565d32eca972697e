-- The filters of a canonical campaign target (companon_private.target) as SQL predicates over a row `v`
-- of companon_private.artist_vectors, one per reason an artist can be excluded, in the order
-- explain_match reports them: genre, country, city, min_score:<A|T|G|C|overall>, size_band. A filter
-- the target leaves empty is no predicate. Values are quoted literals: the planner sees them, and the
-- indexes serve them.
create or replace function companon_private.match_filters(target jsonb)
returns table (reason text, predicate text)
language sql
stable
as $$
  select f.reason, f.predicate
  from (
    select 1 as ord, 'genre' as reason,
           format('v.main_genre = any (%L::text[])', array(select jsonb_array_elements_text(target -> 'genres'))) as predicate
    where jsonb_array_length(target -> 'genres') > 0
    union all
    select 2, 'country', format('v.countries && %L::text[]', array(select jsonb_array_elements_text(target -> 'countries')))
    where jsonb_array_length(target -> 'countries') > 0
    union all
    select 3, 'city', format('v.cities && %L::text[]',
                             array(select (c ->> 'country') || '/' || (c ->> 'city') from jsonb_array_elements(target -> 'cities') as c))
    where jsonb_array_length(target -> 'cities') > 0
    union all
    select 4 + array_position(array['A', 'T', 'G', 'C', 'overall'], m.key), 'min_score:' || m.key,
           format('v.score_%s >= %L::double precision', lower(m.key), m.value)
    from jsonb_each_text(target -> 'min_scores') as m
    union all
    select 10, 'size_band',
           '(' || string_agg(format('(v.fans >= %s%s)', b.min_fans, coalesce(' and v.fans < ' || b.max_fans, '')), ' or '
                             order by b.position) || ')'
    from companon.size_bands as b
    where b.band in (select jsonb_array_elements_text(target -> 'size_bands'))
    having count(*) > 0
  ) as f
  order by f.ord
$$;
