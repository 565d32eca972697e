create or replace function concierto_private.refused(code text)
returns jsonb
language sql
immutable
as $$
  select jsonb_build_object('status', 'refused', 'code', code)
$$;
