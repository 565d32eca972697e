-- 22023 unless max_events, the size of a batch of the Stripe event applier,
-- is 1 to 10000.
create or replace function treasury_private.check_batch_size(max_events int)
returns void
language plpgsql
immutable
as $$
begin
  if max_events is null or max_events not between 1 and 10000 then
    raise exception using
      errcode = '22023',
      message = format('max_events must be 1 to 10000, got %s', coalesce(max_events::text, 'null'));
  end if;
end
$$;
