create or replace function treasury_private.check_range(from_at timestamptz, to_at timestamptz)
returns void
language plpgsql
immutable
as $$
begin
  if from_at is not null and to_at is not null and to_at < from_at then
    raise exception using errcode = '22023', message = format('to_at %s is before from_at %s', to_at, from_at);
  end if;
end
$$;
