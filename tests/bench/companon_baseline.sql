-- The plain scan that `./stack bench companon` times companon.match_artists against: the same answer (the
-- artists of campaign $1 by similarity, filtered, held artists and artists without an account left out, the first $2) computed from
-- Coliseum's own tables on every call, without companon_private.artist_vectors or its indexes: each
-- artist's vector derived from its 30d strength rows (coliseum.dna_vector), compared with
-- coliseum.dna_similarity, the target's filters read from its JSON row by row.
with campaign as (
  select c.target, coliseum.target_vector(c.target -> 'domains', c.target -> 'components') as t
  from companon.campaigns as c where c.id = $1
),
dna as (
  select s.artist_id,
         coalesce(max(s.score) filter (where s.domain = 'A'), 0) as a,
         coalesce(max(s.score) filter (where s.domain = 'T'), 0) as t,
         coalesce(max(s.score) filter (where s.domain = 'G'), 0) as g,
         coalesce(max(s.score) filter (where s.domain = 'C'), 0) as c,
         coalesce(max(s.score) filter (where s.domain = 'overall'), 0) as overall,
         coalesce(max(s.fans) filter (where s.domain = 'overall'), 0) as fans,
         max(s.components ->> 'main_genre') filter (where s.domain = 'A') as genre,
         coalesce(jsonb_object_agg(s.domain, s.components) filter (where s.domain <> 'overall'), '{}') as components
  from public.coliseum_domain_strength as s
  where s.period = '30d'
  group by s.artist_id
),
scored as (
  select d.*, coliseum.dna_vector(array[d.a, d.t, d.g, d.c], d.components) as v, r.refreshed_at
  from dna as d
  join coliseum_private.artist_refreshes as r on r.artist_id = d.artist_id
)
select s.artist_id, coliseum.dna_similarity(campaign.t, s.v) as similarity
from scored as s
cross join campaign
where exists (select 1 from unnest(s.v) as x where x > 0)
  and (jsonb_array_length(campaign.target -> 'genres') = 0
       or s.genre in (select jsonb_array_elements_text(campaign.target -> 'genres')))
  and (jsonb_array_length(campaign.target -> 'countries') = 0
       or exists (select 1 from coliseum_private.artist_places as p
                  where p.artist_id = s.artist_id and p.last_at > s.refreshed_at - interval '720 hours'
                    and p.country in (select jsonb_array_elements_text(campaign.target -> 'countries'))))
  and (jsonb_array_length(campaign.target -> 'cities') = 0
       or exists (select 1 from coliseum_private.artist_places as p
                  join jsonb_array_elements(campaign.target -> 'cities') as w on w ->> 'country' = p.country and w ->> 'city' = p.city
                  where p.artist_id = s.artist_id and p.last_at > s.refreshed_at - interval '720 hours'))
  and not exists (select 1 from jsonb_each_text(campaign.target -> 'min_scores') as m
                  where case m.key when 'A' then s.a when 'T' then s.t when 'G' then s.g when 'C' then s.c else s.overall end
                        < m.value::double precision)
  and (jsonb_array_length(campaign.target -> 'size_bands') = 0
       or exists (select 1 from companon.size_bands as b
                  where b.band in (select jsonb_array_elements_text(campaign.target -> 'size_bands'))
                    and s.fans >= b.min_fans and (b.max_fans is null or s.fans < b.max_fans)))
  and not exists (select 1 from coliseum.artist_holds as h where h.artist_id = s.artist_id and h.released_at is null)
  and exists (select 1 from auth.users as u where u.id = s.artist_id)
order by 2 desc, 1
limit $2
