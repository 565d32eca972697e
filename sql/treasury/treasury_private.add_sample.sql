-- A row's samples with the detail it is about to replace added, unless that detail is among them
-- already or the samples are full: the first distinct details stay.
create or replace function treasury_private.add_sample(
  samples jsonb, seen_at timestamptz, source text, detail jsonb, max_samples int)
returns jsonb
language sql
immutable
as $$
  select case
    when jsonb_array_length(samples) >= max_samples
         or exists (select from jsonb_array_elements(samples) as s where s -> 'detail' = detail) then samples
    else samples || jsonb_build_array(jsonb_build_object('at', seen_at, 'source', source, 'detail', detail))
  end
$$;
