-- Why a scan of this ticket (of the token's version, at this event) cannot have happened when it says;
-- null when it can. The rules and their numbers are explained in docs/concierto-tokens.md#when-a-scan-can-have-happened:
--   scanned_in_future        more than a minute after now (a scanner's clock may be that far ahead)
--   upload_too_late          more than 24 hours before now (an offline queue is uploaded within the day)
--   scanned_before_issue     more than a minute before the ticket was issued
--   scanned_before_transfer  more than a minute before its current version began (the last transfer)
--   doors_not_open           more than an hour before the event's doors open
--   doors_closed             8 hours or more after the event starts
create or replace function concierto_private.scan_time_problem(
  ticket public.event_tickets, ev concierto.events, scanned_at timestamptz)
returns text
language sql
stable
as $$
  select case
    when scanned_at > now() + interval '1 minute' then 'scanned_in_future'
    when scanned_at < now() - interval '24 hours' then 'upload_too_late'
    when scanned_at < ticket.issued_at - interval '1 minute' then 'scanned_before_issue'
    when scanned_at < ticket.transferred_at - interval '1 minute' then 'scanned_before_transfer'
    when scanned_at < ev.doors_at - interval '1 hour' then 'doors_not_open'
    when scanned_at >= ev.starts_at + interval '8 hours' then 'doors_closed'
  end
$$;
