-- SQL twins of pg_coliseum's DNA matching (pg_coliseum/src/matching.rs,
-- buckets_core/src/companon/matching.rs): same names, argument names and types, results, volatility,
-- strictness and errors as the extension. Each evaluates the same float8 operations in the same order
-- as the Rust code, so both give the same bits (tests/tests/matching_differential.rs). Installed by their
-- own generated migration when the extension is not installed; where it is, that migration updates it
-- instead. Executed as one string inside a DO block: plain SQL only, $fn$ quotes only.

-- Not strict, unlike the extension's (strictness means nothing without arguments): a strict set-returning
-- SQL function is never inlined, and the twins below read it on every call.
create or replace function coliseum.dna_dimensions()
returns table (dimension integer, domain text, component text, scale text, cap double precision)
language sql immutable parallel safe
as $fn$
  select * from (values
    (1, 'A', 'score', 'score', null::double precision),
    (2, 'A', 'engagement', 'log', 1e7),
    (3, 'A', 'influence', 'log', 1e7),
    (4, 'A', 'genre_diversity', 'share', null),
    (5, 'A', 'crossover', 'share', null),
    (6, 'T', 'score', 'score', null),
    (7, 'T', 'engagement', 'log', 1e7),
    (8, 'T', 'fans', 'log', 1e7),
    (9, 'T', 'loyalty', 'share', null),
    (10, 'T', 'repeat', 'log', 1e3),
    (11, 'T', 'conversion', 'share', null),
    (12, 'G', 'score', 'score', null),
    (13, 'G', 'engagement', 'log', 1e7),
    (14, 'G', 'revenue_usd_cents', 'log', 1e10),
    (15, 'G', 'transactions', 'log', 1e7),
    (16, 'G', 'revenue_per_fan', 'log', 1e5),
    (17, 'G', 'avg_transaction_value', 'log', 1e6),
    (18, 'G', 'monetization_efficiency', 'log', 1e5),
    (19, 'C', 'score', 'score', null),
    (20, 'C', 'engagement', 'log', 1e7),
    (21, 'C', 'cities', 'log', 1e4),
    (22, 'C', 'countries', 'log', 250),
    (23, 'C', 'city_distribution', 'share', null),
    (24, 'C', 'touring_viability', 'log', 1e7),
    (25, 'C', 'attendance', 'log', 1e7),
    (26, 'C', 'fan_density', 'share', null)
  ) as d (dimension, domain, component, scale, cap)
$fn$;

comment on function coliseum.dna_dimensions() is
  'The 26 dimensions of DNA and target vectors, in order: per domain its score, then its components; scale score (/ 100), '
  'share (as is) or log (ln(1 + x) / ln(1 + cap)). SQL twin of pg_coliseum.';

-- Values below 1e-9 count as 0, before and after scaling (buckets_core's FLUSH). Checked in Rust's order:
-- the scores, then the first component (in dimension order) whose domain is not an object or whose value
-- is not a number; then the vector in one statement (a statement costs less than 26 loop turns).
create or replace function coliseum.dna_vector(scores double precision[], components jsonb)
returns double precision[]
language plpgsql immutable strict parallel safe
as $fn$
declare
  s double precision;
  score double precision[] := '{}'::double precision[];
  bad text;
  v double precision[];
begin
  if cardinality(scores) <> 4 then
    raise exception using errcode = '22023',
      message = format('scores must hold 4 values (A, T, G, C), got %s', cardinality(scores));
  end if;
  foreach s in array scores loop
    if s is null or not (s > '-Infinity'::double precision and s < 'Infinity'::double precision) then
      raise exception using errcode = '22023', message = format('scores[%s] must be a finite number', cardinality(score) + 1);
    end if;
    score := score || s;
  end loop;
  if jsonb_typeof(components) <> 'object' then
    raise exception using errcode = '22023',
      message = 'components must be a JSON object of domains, such as {"A": {"engagement": 12.5}}';
  end if;
  select case when coalesce(jsonb_typeof(components -> d.domain), 'null') not in ('object', 'null')
              then format('components.%s must be a JSON object', d.domain)
              else format('components.%s.%s must be a number', d.domain, d.component) end
    into bad
  from coliseum.dna_dimensions() as d
  where d.component <> 'score'
    and (coalesce(jsonb_typeof(components -> d.domain), 'null') not in ('object', 'null')
         or coalesce(jsonb_typeof(components -> d.domain -> d.component), 'null') not in ('number', 'null'))
  order by d.dimension
  limit 1;
  if bad is not null then
    raise exception using errcode = '22023', message = bad;
  end if;
  select array_agg(case when not (x.x >= 1e-9::double precision) then 0
                        when r.r < 1e-9::double precision then 0
                        else r.r end order by d.dimension)
    into v
  from coliseum.dna_dimensions() as d
  cross join lateral (
    select case when d.component = 'score' then score[array_position(array['A', 'T', 'G', 'C'], d.domain)]
                else coalesce((nullif(components -> d.domain -> d.component, 'null'::jsonb))::double precision, 0) end as x
  ) as x
  cross join lateral (
    select case when x.x >= 1e-9::double precision then
             least(1::double precision,
                   case d.scale
                     when 'score' then x.x / 100::double precision
                     when 'share' then x.x
                     else ln(1::double precision + x.x) / ln(1::double precision + d.cap)
                   end)
           end as r
  ) as r;
  return v;
end
$fn$;

comment on function coliseum.dna_vector(double precision[], jsonb) is
  'An artist''s DNA vector (coliseum.dna_dimensions() order, each 0..1) from the four domain scores (A, T, G, C) and '
  '{"A": components, ...} as coliseum_domain_strength holds them. SQL twin of pg_coliseum.';

create or replace function coliseum.target_vector(domains jsonb, components jsonb)
returns double precision[]
language plpgsql immutable strict parallel safe
as $fn$
declare
  letters constant text[] := array['A', 'T', 'G', 'C'];
  key text;
  unknown text;
  value jsonb;
  w double precision[] := '{}'::double precision[];
  x double precision;
  d record;
  t double precision[] := '{}'::double precision[];
begin
  if jsonb_typeof(domains) <> 'object' then
    raise exception using errcode = '22023',
      message = 'domains must be a JSON object of domain weights, such as {"A": 1, "C": 0.5}';
  end if;
  select min(k collate "C") into key from jsonb_object_keys(domains) as k where k <> all (letters);
  if key is not null then
    raise exception using errcode = '22023', message = format('domains.%s is not a domain (A, T, G, C)', key);
  end if;
  foreach key in array letters loop
    value := domains -> key;
    if value is null or jsonb_typeof(value) = 'null' then
      x := 0;
    elsif jsonb_typeof(value) = 'number' and (value)::double precision between 0 and 1 then
      x := value::double precision;
      if x < 1e-9::double precision then
        x := 0;
      end if;
    else
      raise exception using errcode = '22023', message = format('domains.%s must be a number from 0 to 1', key);
    end if;
    w := w || x;
  end loop;
  if jsonb_typeof(components) <> 'object' then
    raise exception using errcode = '22023',
      message = 'components must be a JSON object of domains, such as {"C": {"touring_viability": 1}}';
  end if;
  select min(k collate "C") into key from jsonb_object_keys(components) as k where k <> all (letters);
  if key is not null then
    raise exception using errcode = '22023', message = format('components.%s is not a domain (A, T, G, C)', key);
  end if;
  foreach key in array letters loop
    value := components -> key;
    if value is null or jsonb_typeof(value) = 'null' then
      continue;
    end if;
    if jsonb_typeof(value) <> 'object' then
      raise exception using errcode = '22023', message = format('components.%s must be a JSON object of component weights', key);
    end if;
    select min(k collate "C") into unknown from jsonb_object_keys(value) as k
    where not exists (select 1 from coliseum.dna_dimensions() as n where n.domain = key and n.component = k and k <> 'score');
    if unknown is not null then
      raise exception using errcode = '22023',
        message = format('components.%s.%s is not a DNA component of domain %s', key, unknown, key);
    end if;
  end loop;
  for d in select * from coliseum.dna_dimensions() as n order by n.dimension loop
    if d.component = 'score' then
      t := t || w[array_position(letters, d.domain)];
      continue;
    end if;
    value := components -> d.domain -> d.component;
    if value is null or jsonb_typeof(value) = 'null' then
      x := 0;
    elsif jsonb_typeof(value) = 'number' and (value)::double precision between 0 and 1 then
      x := value::double precision;
      if x < 1e-9::double precision then
        x := 0;
      end if;
    else
      raise exception using errcode = '22023',
        message = format('components.%s.%s must be a number from 0 to 1', d.domain, d.component);
    end if;
    x := w[array_position(letters, d.domain)] * x;
    if x < 1e-9::double precision then
      x := 0;
    end if;
    t := t || x;
  end loop;
  return t;
end
$fn$;

comment on function coliseum.target_vector(jsonb, jsonb) is
  'A campaign target''s vector (coliseum.dna_dimensions() order): a domain''s weight for its score, domain weight x '
  'component weight for a component. SQL twin of pg_coliseum.';

-- Both vectors are checked (26 values, each 0..1; the target first) and flushed in place, then summed
-- in index order as Rust does.
create or replace function coliseum.dna_similarity(target double precision[], dna double precision[])
returns double precision
language plpgsql immutable strict parallel safe
as $fn$
declare
  name text;
  arg double precision[];
  x double precision;
  t double precision[];
  v double precision[];
  dot double precision := 0;
  tt double precision := 0;
  vv double precision := 0;
  norms double precision;
begin
  foreach name in array array['target', 'dna'] loop
    arg := case name when 'target' then target else dna end;
    if cardinality(arg) <> 26 then
      raise exception using errcode = '22023', message = format('%s must hold 26 values, got %s', name, cardinality(arg));
    end if;
    -- Subscripts from 1, whatever bounds and dimensions the array came with (the extension flattens it).
    if array_ndims(arg) <> 1 or array_lower(arg, 1) <> 1 then
      arg := array(select unnest(arg));
    end if;
    for i in 1..26 loop
      x := arg[i];
      if x is null or not (x >= 0 and x <= 1) then
        raise exception using errcode = '22023', message = format('%s[%s] must be a number from 0 to 1', name, i);
      elsif x < 1e-9::double precision then
        arg[i] := 0;
      end if;
    end loop;
    if name = 'target' then
      t := arg;
    else
      v := arg;
    end if;
  end loop;
  for i in 1..26 loop
    dot := dot + t[i] * v[i];
    tt := tt + t[i] * t[i];
    vv := vv + v[i] * v[i];
  end loop;
  norms := sqrt(tt) * sqrt(vv);
  if norms = 0 then
    return 0;
  end if;
  return least(1::double precision, dot / norms);
end
$fn$;

comment on function coliseum.dna_similarity(double precision[], double precision[]) is
  'Cosine similarity of a target and a DNA vector (26 values each, 0..1; values below 1e-9 count 0), in 0..1; 0 when '
  'either is zero. SQL twin of pg_coliseum.';

create or replace function coliseum.dna_drivers(target double precision[], dna double precision[], n integer)
returns jsonb
language plpgsql immutable strict parallel safe
as $fn$
declare
  norms double precision;
begin
  if n < 0 then
    raise exception using errcode = '22023', message = format('n must be at least 0, got %s', n);
  end if;
  -- Checks both vectors, with the same errors; the similarity is 0 exactly when a vector is 0.
  if coliseum.dna_similarity(target, dna) = 0 then
    return '[]'::jsonb;
  end if;
  select sqrt(sum(f.t * f.t order by f.i)) * sqrt(sum(f.v * f.v order by f.i)) into norms
  from (select u.i, case when u.t < 1e-9::double precision then 0 else u.t end as t,
               case when u.v < 1e-9::double precision then 0 else u.v end as v
        from unnest(target, dna) with ordinality as u(t, v, i)) as f;
  return coalesce((
    select jsonb_agg(jsonb_build_object('domain', c.domain, 'component', c.component, 'weight', c.weight,
                                        'value', c.value, 'contribution', c.contribution) order by c.contribution desc, c.dimension)
    from (
      select d.dimension, d.domain, d.component, f.t as weight, f.v as value, f.t * f.v / norms as contribution
      from (select u.i, case when u.t < 1e-9::double precision then 0 else u.t end as t,
                   case when u.v < 1e-9::double precision then 0 else u.v end as v
            from unnest(target, dna) with ordinality as u(t, v, i)) as f
      join coliseum.dna_dimensions() as d on d.dimension = f.i
      where f.t * f.v > 0
      order by 6 desc, d.dimension
      limit n
    ) as c), '[]'::jsonb);
end
$fn$;

comment on function coliseum.dna_drivers(double precision[], double precision[], integer) is
  'The n dimensions that contribute most to dna_similarity, largest first: [{"domain", "component", "weight", "value", '
  '"contribution"}]; the contributions of all dimensions add up to the similarity. SQL twin of pg_coliseum.';
