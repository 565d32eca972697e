-- Checks a campaign target and returns it in its canonical form: every key present, the four domain
-- weights, the component weights of weighted domains only, the filters (empty arrays and objects when
-- absent). Any problem is 22023 naming the first offending path (target.domains.A, ...).
create or replace function companon_private.target(target jsonb)
returns jsonb
language plpgsql
stable
as $$
declare
  fields constant text[] := array['domains', 'components', 'genres', 'countries', 'cities', 'min_scores', 'size_bands'];
  letters constant text[] := array['A', 'T', 'G', 'C'];
  key text;
  value jsonb;
  inner_key text;
  inner_value jsonb;
  domains jsonb := '{"A": 0, "T": 0, "G": 0, "C": 0}'::jsonb;
  components jsonb := '{}'::jsonb;
  weights jsonb;
  scores jsonb := '{}'::jsonb;
  cities jsonb;
  bands jsonb;
begin
  if jsonb_typeof(target) is distinct from 'object' then
    raise exception using errcode = '22023', message = 'target must be a JSON object',
      hint = 'docs/companon.md#the-target describes a target.';
  end if;
  select min(k) into key from jsonb_object_keys(target) as k where k <> all (fields);
  if key is not null then
    perform companon_private.bad_target(key, format('is not a field of a target (%s)', array_to_string(fields, ', ')));
  end if;

  -- domains: a weight 0..1 per domain, at least one above 0.
  if jsonb_typeof(target -> 'domains') is distinct from 'object' then
    perform companon_private.bad_target('domains', 'must be an object of domain weights, such as {"A": 1, "C": 0.5}');
  end if;
  for key, value in select * from jsonb_each(target -> 'domains') order by 1 loop
    if key <> all (letters) then
      perform companon_private.bad_target('domains.' || key, 'is not a domain (A, T, G, C)');
    end if;
    domains := jsonb_set(domains, array[key], to_jsonb(companon_private.weight_in(value, 'domains.' || key, 1)));
  end loop;
  if not exists (select 1 from jsonb_each(domains) as d(k, v) where (d.v)::numeric > 0) then
    perform companon_private.bad_target('domains', 'must give at least one domain a weight above 0');
  end if;

  -- components: per weighted domain, a weight 0..1 per component of companon.dna_components.
  if target ? 'components' then
    if jsonb_typeof(target -> 'components') <> 'object' then
      perform companon_private.bad_target('components', 'must be an object of domains, such as {"C": {"touring_viability": 1}}');
    end if;
    for key, value in select * from jsonb_each(target -> 'components') order by 1 loop
      if key <> all (letters) then
        perform companon_private.bad_target('components.' || key, 'is not a domain (A, T, G, C)');
      end if;
      if jsonb_typeof(value) <> 'object' then
        perform companon_private.bad_target('components.' || key, 'must be an object of component weights');
      end if;
      if (domains ->> key)::numeric = 0 then
        perform companon_private.bad_target('components.' || key,
          format('weighs components of domain %s, whose weight is 0: weigh the domain too', key));
      end if;
      weights := '{}'::jsonb;
      for inner_key, inner_value in select * from jsonb_each(value) order by 1 loop
        if not exists (select 1 from companon.dna_components as c where c.domain = key and c.component = inner_key) then
          perform companon_private.bad_target(format('components.%s.%s', key, inner_key),
            format('is not a component of domain %s (see companon.dna_components)', key));
        end if;
        weights := weights || jsonb_build_object(inner_key,
          companon_private.weight_in(inner_value, format('components.%s.%s', key, inner_key), 1));
      end loop;
      components := components || jsonb_build_object(key, weights);
    end loop;
  end if;

  -- min_scores: a score 0..100 per domain or overall.
  if target ? 'min_scores' then
    if jsonb_typeof(target -> 'min_scores') <> 'object' then
      perform companon_private.bad_target('min_scores', 'must be an object of minimum scores, such as {"overall": 20}');
    end if;
    for key, value in select * from jsonb_each(target -> 'min_scores') order by 1 loop
      if key <> all (letters || 'overall'::text) then
        perform companon_private.bad_target('min_scores.' || key, 'is not a score (A, T, G, C, overall)');
      end if;
      scores := scores || jsonb_build_object(key, companon_private.weight_in(value, 'min_scores.' || key, 100));
    end loop;
  end if;

  -- cities: {"city", "country"} pairs, as Coliseum keeps places.
  cities := coalesce(target -> 'cities', '[]');
  if jsonb_typeof(cities) <> 'array' or jsonb_array_length(cities) > 100
     or exists (select 1 from jsonb_array_elements(cities) as e(v)
                where jsonb_typeof(e.v) <> 'object' or (select count(*) from jsonb_object_keys(e.v)) <> 2
                   or jsonb_typeof(e.v -> 'city') is distinct from 'string'
                   or char_length(e.v ->> 'city') not between 1 and 100
                   or jsonb_typeof(e.v -> 'country') is distinct from 'string'
                   or (e.v ->> 'country') !~ '^[A-Z]{2}$')
     or (select count(distinct e.v) from jsonb_array_elements(cities) as e(v)) <> jsonb_array_length(cities) then
    perform companon_private.bad_target('cities',
      'must be an array of at most 100 distinct {"city": "Lagos", "country": "NG"} objects (a city of 1 to 100 characters, an ISO 3166-1 alpha-2 country)');
  end if;

  bands := companon_private.distinct_strings(coalesce(target -> 'size_bands', '[]'), 'size_bands', 10, '^[a-z_]{1,30}$',
                                             'bands of companon.size_bands');
  select min(e.v #>> '{}') into key from jsonb_array_elements(bands) as e(v)
  where not exists (select 1 from companon.size_bands as s where s.band = e.v #>> '{}');
  if key is not null then
    perform companon_private.bad_target('size_bands', format('names %s, which is not a band of companon.size_bands (%s)',
      key, (select string_agg(s.band, ', ' order by s.position) from companon.size_bands as s)));
  end if;

  return jsonb_build_object(
    'domains', domains,
    'components', components,
    'genres', companon_private.distinct_strings(coalesce(target -> 'genres', '[]'), 'genres', 50, '^\S(.{0,98}\S)?$',
                                                'genres (strings of 1 to 100 characters, not blank at either end)'),
    'countries', companon_private.distinct_strings(coalesce(target -> 'countries', '[]'), 'countries', 250, '^[A-Z]{2}$',
                                                   'ISO 3166-1 alpha-2 codes in capitals (NG)'),
    'cities', cities,
    'min_scores', scores,
    'size_bands', bands);
end
$$;
