-- One artist against a campaign's target (docs/companon.md#matching): whether match_artists lists them,
-- every reason it does not, in this order: no_dna (no DNA in the last 30 days), held (an open
-- coliseum.artist_holds row), no_account (no auth.users row: no offer can be made to them), genre, country, city, min_score:<A|T|G|C|overall>, size_band; their
-- similarity (null without DNA: an artist without DNA is judged by the filters as one with zero scores,
-- no fans, no genre and no places), drivers and 30d scores, and their rank when matched. The same
-- callers as match_artists.
create or replace function companon.explain_match(campaign_id uuid, artist_id uuid)
returns table (matched boolean, reasons text[], similarity double precision, rank bigint, drivers jsonb, scores jsonb)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  target jsonb;
  t double precision[];
  found_dna boolean;
  failed text[];
begin
  if artist_id is null then
    raise exception using errcode = '22023', message = 'artist_id is required';
  end if;
  perform companon_private.campaign_role(campaign_id, 'explain a match');
  select c.target into target from companon.campaigns as c where c.id = explain_match.campaign_id;
  t := coliseum.target_vector(target -> 'domains', target -> 'components');
  reasons := '{}';
  select true, coliseum.dna_drivers(t, v.dna, 3),
         jsonb_build_object('A', v.score_a, 'T', v.score_t, 'G', v.score_g, 'C', v.score_c, 'overall', v.score_overall)
    into found_dna, drivers, scores
  from companon_private.artist_vectors as v
  where v.artist_id = explain_match.artist_id;
  if found_dna is null then
    reasons := reasons || 'no_dna'::text;
  else
    execute format('select %s from companon_private.artist_vectors as v where v.artist_id = $1',
                   companon_private.similarity_sql(t))
      into similarity using artist_id;
  end if;
  if exists (select 1 from coliseum.artist_holds as h where h.artist_id = explain_match.artist_id and h.released_at is null) then
    reasons := reasons || 'held'::text;
  end if;
  if not exists (select 1 from auth.users as u where u.id = explain_match.artist_id) then
    reasons := reasons || 'no_account'::text;
  end if;
  execute companon_private.reasons_sql(target) into failed using artist_id;
  reasons := reasons || failed;
  matched := cardinality(reasons) = 0;
  if matched then
    execute format('select count(*) + 1 from (%s) as m where (m.similarity > $1 or (m.similarity = $1 and m.artist_id < $2))
                      and companon_private.offerable(m.artist_id)',
                   companon_private.match_query(target))
      into rank using similarity, artist_id;
  end if;
  return next;
end
$$;

comment on function companon.explain_match(uuid, uuid) is
  'Why an artist is or is not among a campaign''s matches: matched, reasons (no_dna, held, no_account, genre, country, city, '
  'min_score:<score>, size_band), similarity, rank when matched, drivers and 30d scores. Members of the campaign''s '
  'brand and admins. docs/companon.md#matching.';

grant execute on function companon.explain_match(uuid, uuid) to authenticated, service_role;
