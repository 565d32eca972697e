-- Records a scan and answers it. A nonce seen before gets the stored answer
-- (the INSERT is the gate: a concurrent replay waits on the unique index),
-- unless it came with a different scan: then nonce_reused.
create or replace function concierto_private.scan(
  staff uuid, ticket uuid, token_version int, at_event uuid, gate text, scanned_at timestamptz, nonce text)
returns jsonb
language plpgsql
volatile
as $$
declare
  scan_id bigint;
  prior concierto.scans;
  answer jsonb;
begin
  insert into concierto.scans as s (nonce, ticket_id, version, event_id, gate, scanned_at, scanned_by)
  values (nonce, ticket, token_version, at_event, gate, scanned_at, staff)
  on conflict on constraint scans_nonce_key do nothing
  returning s.id into scan_id;
  if scan_id is null then
    select * into prior from concierto.scans as s where s.nonce = scan.nonce;
    if (prior.ticket_id, prior.version, prior.event_id, prior.gate, prior.scanned_at)
       is not distinct from (ticket, token_version, at_event, gate, scanned_at) then
      return prior.result;
    end if;
    return concierto_private.refused('nonce_reused');
  end if;
  answer := concierto_private.admit(staff, ticket, token_version, at_event, gate, scanned_at);
  update concierto.scans as s set result = answer where s.id = scan_id;
  return answer;
end
$$;
