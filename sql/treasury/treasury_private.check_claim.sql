-- The arguments of a claim of leased work (the payout worker's, the
-- receipts sender's): 22023 when one is out of range.
create or replace function treasury_private.check_claim(batch_size int, lease_seconds int, at timestamptz)
returns void
language plpgsql
immutable
as $$
begin
  if batch_size is null or batch_size not between 1 and 1000 then
    raise exception using errcode = '22023',
      message = format('batch_size must be between 1 and 1000, got %s', coalesce(batch_size::text, 'null'));
  end if;
  if lease_seconds is null or lease_seconds not between 10 and 3600 then
    raise exception using errcode = '22023',
      message = format('lease_seconds must be between 10 and 3600, got %s', coalesce(lease_seconds::text, 'null'));
  end if;
  if at is null then
    raise exception using errcode = '22023', message = 'at is required: the moment the run claims at';
  end if;
end
$$;
