-- The artists a campaign's target matches best (docs/companon.md#matching): those with DNA in the last
-- 30 days that pass every filter of the target and are not held, by cosine similarity of their DNA to
-- the target (ties: artist id), from rank off + 1, at most lim. For each: the similarity, its rank, the
-- three dimensions that contributed most (drivers) and the artist's 30d scores. The brand's members
-- (every role) and admins may ask, for a campaign in any state; anybody else is told the campaign is not
-- found (P0002).
--
-- Artists without an account (no auth.users row: DNA from events that name an id nobody signed up
-- with, or an account deleted since) are left out too: no offer can be made to them (make_offer:
-- P0002 unknown_artist), and a brand looks for artists to make offers to.
--
-- One statement scores every matching artist (companon_private.match_query) and keeps the best
-- lim + off + (open holds) with a top-N heap sort; the held and those without an account are then left
-- out (companon_private.offerable; both are few: checking them after the sort spares a lookup per row), and only the page gets
-- drivers and scores. If that leaves fewer than lim + off while more artists match, the statement runs
-- again keeping four times as many.
create or replace function companon.match_artists(campaign_id uuid, lim integer default 50, off integer default 0)
returns table (artist_id uuid, similarity double precision, rank bigint, drivers jsonb, scores jsonb)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  target jsonb;
  t double precision[];
  ids uuid[];
  similarities double precision[];
  kept bigint;
  candidates bigint;
begin
  if lim is null or lim not between 1 and 1000 then
    raise exception using errcode = '22023', message = format('lim must be from 1 to 1000, got %s', coalesce(lim::text, 'null'));
  end if;
  if off is null or off < 0 then
    raise exception using errcode = '22023', message = format('off must be 0 or more, got %s', coalesce(off::text, 'null'));
  end if;
  perform companon_private.campaign_role(campaign_id, 'match artists');
  select c.target into target from companon.campaigns as c where c.id = match_artists.campaign_id;
  t := coliseum.target_vector(target -> 'domains', target -> 'components');
  -- The best lim + off, by the statement built for this target; then what only the page needs.
  kept := lim + off + (select count(*)::int from coliseum.artist_holds as h where h.released_at is null);
  loop
    execute format('with best as (%s order by 2 desc, 1 limit $1)
                    select array_agg(m.artist_id order by m.similarity desc, m.artist_id),
                           array_agg(m.similarity order by m.similarity desc, m.artist_id), (select count(*) from best)
                    from (select b.artist_id, b.similarity from best as b
                          where companon_private.offerable(b.artist_id)
                          order by 2 desc, 1 limit $2) as m', companon_private.match_query(target))
      into ids, similarities, candidates
      using kept, lim + off;
    exit when coalesce(cardinality(ids), 0) >= lim + off or candidates < kept;
    kept := kept * 4;
  end loop;
  return query
    select p.artist_id, p.similarity, p.n,
           coliseum.dna_drivers(t, v.dna, 3),
           jsonb_build_object('A', v.score_a, 'T', v.score_t, 'G', v.score_g, 'C', v.score_c, 'overall', v.score_overall)
    from unnest(ids, similarities) with ordinality as p(artist_id, similarity, n)
    join companon_private.artist_vectors as v on v.artist_id = p.artist_id
    where p.n > off
    order by p.n;
end
$$;

comment on function companon.match_artists(uuid, integer, integer) is
  'The artists a campaign''s target matches, best first: similarity (cosine of DNA and target, 0..1), rank, drivers '
  '(the three dimensions that contributed most) and 30d scores; filtered by the target, held artists and artists '
  'without an account excluded. Members '
  'of the campaign''s brand and admins. docs/companon.md#matching.';

grant execute on function companon.match_artists(uuid, integer, integer) to authenticated, service_role;
