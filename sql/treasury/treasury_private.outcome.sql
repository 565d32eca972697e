create or replace function treasury_private.outcome(status text, note text default null)
returns jsonb
language sql
immutable
as $$
  select jsonb_strip_nulls(jsonb_build_object('status', status, 'note', note))
$$;
