-- What is wrong with the shape of a scan's gate, time or nonce; null when nothing. Whether the
-- scan can have happened at that time is the door's decision (concierto_private.scan_time_problem).
create or replace function concierto_private.scan_problem(gate text, scanned_at timestamptz, nonce text, nonce_required boolean)
returns text
language sql
stable
as $$
  select case
    when gate is null or char_length(gate) not between 1 and 100 then 'gate must be a string of 1 to 100 characters'
    when scanned_at is null or not isfinite(scanned_at) then 'scanned_at must be a timestamp'
    when nonce is null and nonce_required then 'nonce is required'
    when char_length(nonce) not between 1 and 200 then 'nonce must be a string of 1 to 200 characters'
  end
$$;
