-- Whether a campaign ran at a moment: its state then was active (by its transitions: the last one at or
-- before the moment) and the moment is inside its schedule [starts_at, ends_at). Paused, in review, draft,
-- completed and cancelled campaigns do not run; an approved campaign runs from starts_at.
create or replace function companon_private.running_at(campaign_id uuid, at timestamptz)
returns boolean
language sql
stable
as $$
  select coalesce(
    (select c.starts_at <= running_at.at and running_at.at < c.ends_at
       and (select t.to_state = 'active'
            from companon.campaign_transitions as t
            where t.campaign_id = running_at.campaign_id and t.at <= running_at.at
            order by t.id desc
            limit 1)
     from companon.campaigns as c
     where c.id = running_at.campaign_id),
    false)
$$;
