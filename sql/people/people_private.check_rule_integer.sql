-- One integer key of a badge rule, within [lo, hi], or 22023 naming the key.
create or replace function people_private.check_rule_integer(rule jsonb, key text, lo bigint, hi bigint)
returns void
language plpgsql
immutable
as $$
begin
  if jsonb_typeof(rule -> key) is distinct from 'number'
     or (rule ->> key)::numeric not between lo and hi or (rule ->> key)::numeric % 1 <> 0 then
    raise exception using errcode = '22023', message = format('badge rule %s must be an integer from %s to %s', key, lo, hi);
  end if;
end
$$;

comment on function people_private.check_rule_integer(jsonb, text, bigint, bigint) is
  'Raises 22023 unless rule -> key is an integer from lo to hi (people_private.check_badge_rule).';
