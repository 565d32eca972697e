-- The similarity of a row `v` of companon_private.artist_vectors to a target vector, as a SQL
-- expression: Σ (t_i / |t|) v.u_i over the dimensions the target weighs (u = dna / |dna|), which is the
-- cosine coliseum.dna_similarity computes, summed in another order (equal within 1e-12). Only the
-- weighed dimensions are read, so a target of three dimensions costs three products per artist. The
-- weights are exact float8 literals.
create or replace function companon_private.similarity_sql(target_vector double precision[])
returns text
language sql
immutable
-- float8 as text: the shortest form that reads back as the same number, whatever the session says.
set extra_float_digits = 1
as $$
  select coalesce(
    'least(1::double precision, ' || string_agg(format('%s::double precision * v.u%s', t.x / n.norm, t.i), ' + ' order by t.i) || ')',
    '0::double precision')
  from unnest(target_vector) with ordinality as t(x, i)
  cross join (select sqrt(sum(x * x)) as norm from unnest(target_vector) as x) as n
  where t.x > 0
$$;
