-- Recomputes the matching vectors of the given artists (companon_private.artist_vectors) from their
-- 30d rows of coliseum_domain_strength and their places of the 30 days before their last refresh
-- (coliseum_private.artist_places), as of that refresh (coliseum_private.artist_refreshes). An artist
-- whose vector is zero (nothing in 30 days) or who was never scored loses their row: no DNA, no match.
-- Called after every refresh (the trigger on artist_refreshes) and by the backfill; returns the number
-- of artists that have a vector now.
create or replace function companon_private.refresh_vectors(artists uuid[])
returns int
language plpgsql
volatile
security definer
set search_path = ''
-- One statement over many rows (the backfill passes every artist): hash tables in memory.
set work_mem = '64MB'
as $$
declare
  kept int;
begin
  -- The artists by a join, never `= any (artists)`: a filter over a plan that scans would compare every
  -- row with every element (the rebuild passes 2,000, a backfill all of them).
  with targets as (
    select distinct r.artist_id, r.refreshed_at
    from unnest(artists) as a(artist_id)
    join coliseum_private.artist_refreshes as r on r.artist_id = a.artist_id
  ),
  strength as (
    select t.artist_id, t.refreshed_at,
           coalesce(max(s.score) filter (where s.domain = 'A'), 0) as score_a,
           coalesce(max(s.score) filter (where s.domain = 'T'), 0) as score_t,
           coalesce(max(s.score) filter (where s.domain = 'G'), 0) as score_g,
           coalesce(max(s.score) filter (where s.domain = 'C'), 0) as score_c,
           coalesce(max(s.score) filter (where s.domain = 'overall'), 0) as score_overall,
           coalesce(max(s.fans) filter (where s.domain = 'overall'), 0) as fans,
           max(s.components ->> 'main_genre') filter (where s.domain = 'A') as main_genre,
           coalesce(jsonb_object_agg(s.domain, s.components) filter (where s.domain <> 'overall'), '{}') as components
    from targets as t
    join public.coliseum_domain_strength as s on s.artist_id = t.artist_id and s.period = '30d'
    group by t.artist_id, t.refreshed_at
  ),
  vectors as (
    -- |dna| as one expression: a subquery over unnest() would cost more than the rest of the row.
    select st.*, v.dna,
           sqrt(v.dna[1] * v.dna[1] + v.dna[2] * v.dna[2] + v.dna[3] * v.dna[3] + v.dna[4] * v.dna[4] + v.dna[5] * v.dna[5]
                + v.dna[6] * v.dna[6] + v.dna[7] * v.dna[7] + v.dna[8] * v.dna[8] + v.dna[9] * v.dna[9] + v.dna[10] * v.dna[10]
                + v.dna[11] * v.dna[11] + v.dna[12] * v.dna[12] + v.dna[13] * v.dna[13] + v.dna[14] * v.dna[14]
                + v.dna[15] * v.dna[15] + v.dna[16] * v.dna[16] + v.dna[17] * v.dna[17] + v.dna[18] * v.dna[18]
                + v.dna[19] * v.dna[19] + v.dna[20] * v.dna[20] + v.dna[21] * v.dna[21] + v.dna[22] * v.dna[22]
                + v.dna[23] * v.dna[23] + v.dna[24] * v.dna[24] + v.dna[25] * v.dna[25] + v.dna[26] * v.dna[26]) as norm
    from strength as st
    cross join lateral (
      select coliseum.dna_vector(array[st.score_a, st.score_t, st.score_g, st.score_c], st.components) as dna
      offset 0 -- computed once per artist, not once per use below
    ) as v
  ),
  -- The artists left without a vector: a set difference (hashed or sorted, never a scan per row).
  dropped as (
    select a.artist_id from unnest(artists) as a(artist_id)
    except
    select v.artist_id from vectors as v where v.norm > 0
  ),
  gone as (
    delete from companon_private.artist_vectors as av
    using dropped as d
    where av.artist_id = d.artist_id
  ),
  saved as (
    insert into companon_private.artist_vectors as av (
      artist_id, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15, u16, u17, u18, u19, u20, u21,
      u22, u23, u24, u25, u26, score_a, score_t, score_g, score_c, score_overall, fans, as_of, main_genre, countries,
      cities, dna)
    select v.artist_id,
           v.dna[1] / v.norm, v.dna[2] / v.norm, v.dna[3] / v.norm, v.dna[4] / v.norm, v.dna[5] / v.norm,
           v.dna[6] / v.norm, v.dna[7] / v.norm, v.dna[8] / v.norm, v.dna[9] / v.norm, v.dna[10] / v.norm,
           v.dna[11] / v.norm, v.dna[12] / v.norm, v.dna[13] / v.norm, v.dna[14] / v.norm, v.dna[15] / v.norm,
           v.dna[16] / v.norm, v.dna[17] / v.norm, v.dna[18] / v.norm, v.dna[19] / v.norm, v.dna[20] / v.norm,
           v.dna[21] / v.norm, v.dna[22] / v.norm, v.dna[23] / v.norm, v.dna[24] / v.norm, v.dna[25] / v.norm,
           v.dna[26] / v.norm,
           v.score_a, v.score_t, v.score_g, v.score_c, v.score_overall, v.fans, v.refreshed_at, v.main_genre,
           p.countries, p.cities, v.dna
    from vectors as v
    -- The places of the 30 days before the refresh, per artist by its index.
    cross join lateral (
      select coalesce(array_agg(distinct p.country order by p.country) filter (where p.country <> ''), '{}') as countries,
             coalesce(array_agg(distinct p.country || '/' || p.city order by p.country || '/' || p.city) filter (where p.city <> ''),
                      '{}') as cities
      from coliseum_private.artist_places as p
      where p.artist_id = v.artist_id and p.last_at > v.refreshed_at - interval '720 hours'
    ) as p
    where v.norm > 0
    order by v.artist_id
    on conflict (artist_id) do update set
      u1 = excluded.u1, u2 = excluded.u2, u3 = excluded.u3, u4 = excluded.u4, u5 = excluded.u5, u6 = excluded.u6,
      u7 = excluded.u7, u8 = excluded.u8, u9 = excluded.u9, u10 = excluded.u10, u11 = excluded.u11, u12 = excluded.u12,
      u13 = excluded.u13, u14 = excluded.u14, u15 = excluded.u15, u16 = excluded.u16, u17 = excluded.u17,
      u18 = excluded.u18, u19 = excluded.u19, u20 = excluded.u20, u21 = excluded.u21, u22 = excluded.u22,
      u23 = excluded.u23, u24 = excluded.u24, u25 = excluded.u25, u26 = excluded.u26,
      score_a = excluded.score_a, score_t = excluded.score_t, score_g = excluded.score_g, score_c = excluded.score_c,
      score_overall = excluded.score_overall, fans = excluded.fans, as_of = excluded.as_of,
      main_genre = excluded.main_genre, countries = excluded.countries, cities = excluded.cities, dna = excluded.dna
    returning 1
  )
  select count(*)::int into kept from saved;
  return kept;
end
$$;

comment on function companon_private.refresh_vectors(uuid[]) is
  'Recomputes the matching vectors (companon_private.artist_vectors) of the given artists as of their last Coliseum '
  'refresh; drops those without DNA in the 30 days. Returns how many have a vector.';
