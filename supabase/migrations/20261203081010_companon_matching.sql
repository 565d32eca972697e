-- Companon, DNA matching (issue 13, item 3): which artists a campaign's target fits, and why an artist
-- does not (docs/companon.md#matching).
--
--   companon_private.artist_vectors   per artist with DNA in the last 30 days: its normalised DNA vector,
--                                     the same as a unit vector (one column per dimension), and what the
--                                     filters read (30d scores, fans, main genre, countries, cities)
--
--   companon.match_artists(campaign_id, lim, off)   the campaign's best matches, filtered, paged
--   companon.explain_match(campaign_id, artist_id)  one artist: matched or every reason why not
--
-- The similarity math is pg_coliseum 0.3.0 (coliseum.dna_vector, target_vector, dna_similarity,
-- dna_drivers, dna_dimensions), or its SQL twins: 20261203081000_companon_matching_math.sql.
--
-- Why a table of vectors: matching must answer in well under 100 ms at 100,000 artists. Deriving each
-- artist's vector at query time (four strength rows, JSON, logarithms, the places of 30 days) costs
-- microseconds per artist per call; kept up to date when Coliseum scores an artist, a match is one scan
-- of fixed-width columns computing a dot product with the target over only the dimensions it weighs,
-- the filters served by indexes, and Postgres' top-N heap sort. (An index per dimension and a threshold
-- search over them was tried: cosine's best matches are rarely the best of any one dimension, so it
-- fell back to the scan on most targets, and the 26 indexes doubled the cost of keeping the vectors.) The vectors follow every refresh of an artist's scores: a
-- statement trigger on coliseum_private.artist_refreshes, which every refresh (processor, refresh_due,
-- rebuild) writes for each artist it scores, recomputes the refreshed artists' vectors in the same
-- transaction.
--
-- This step holds the table and its indexes. Its functions, trigger and policies live in sql/companon/
-- and sql/coliseum/ (docs/database-sources.md), installed by the generated step that sql/manifest.txt lists:
-- 20261203081020_companon_matching_code.sql   after it
-- 20261203081030_companon_matching_data.sql   then: the vectors of the artists scored before this step

create table companon_private.artist_vectors (
  artist_id uuid primary key,
  -- The unit vector dna / |dna|, one column per dimension of coliseum.dna_dimensions() (u1 = A's score):
  -- a match is a sum of a few of them times the target's weights. Fixed-width columns first, so a scan
  -- finds each at a cached offset.
  u1 double precision not null, u2 double precision not null, u3 double precision not null,
  u4 double precision not null, u5 double precision not null, u6 double precision not null,
  u7 double precision not null, u8 double precision not null, u9 double precision not null,
  u10 double precision not null, u11 double precision not null, u12 double precision not null,
  u13 double precision not null, u14 double precision not null, u15 double precision not null,
  u16 double precision not null, u17 double precision not null, u18 double precision not null,
  u19 double precision not null, u20 double precision not null, u21 double precision not null,
  u22 double precision not null, u23 double precision not null, u24 double precision not null,
  u25 double precision not null, u26 double precision not null,
  score_a double precision not null,
  score_t double precision not null,
  score_g double precision not null,
  score_c double precision not null,
  score_overall double precision not null,
  fans bigint not null,
  as_of timestamptz not null,
  main_genre text,
  countries text[] not null,
  cities text[] not null,
  dna double precision[] not null check (cardinality(dna) = 26)
);

comment on table companon_private.artist_vectors is
  'Companon matching: per artist with DNA in the last 30 days (a non-zero vector), as of its last Coliseum refresh '
  '(as_of): dna = coliseum.dna_vector of its 30d scores and components (26 values 0..1, coliseum.dna_dimensions() '
  'order); u1..u26 = dna / |dna|; the 30d scores (A, T, G, C, overall) and distinct fans (overall) that min_scores and '
  'size_bands filter on; main_genre (the 30d A main genre), countries and cities (''NG/Lagos'': country, slash, city) '
  'where the artist had C activity in the 30 days. Derived: companon_private.refresh_vectors keeps it, after every '
  'refresh of an artist''s scores.';

-- The filters: genres, places, size bands, min scores (the overall score is the one most targets name).
create index artist_vectors_genre_idx on companon_private.artist_vectors (main_genre);
create index artist_vectors_countries_idx on companon_private.artist_vectors using gin (countries);
create index artist_vectors_cities_idx on companon_private.artist_vectors using gin (cities);
create index artist_vectors_fans_idx on companon_private.artist_vectors (fans);
create index artist_vectors_overall_idx on companon_private.artist_vectors (score_overall);
