-- The closed set of badge rule shapes (docs/badges.md, "Rules"): a rule that
-- does not fit one exactly is refused with 22023 and a message naming the
-- problem, so that the processor only ever meets rules it can evaluate.
create or replace function people_private.check_badge_rule(rule jsonb)
returns void
language plpgsql
stable
as $$
declare
  shape text;
  allowed text[];
  required text[];
  extra text;
  missing text;
  kind_names text[];
  unknown text;
  kind_problem text;
begin
  if rule is null or jsonb_typeof(rule) <> 'object' then
    raise exception using errcode = '22023', message = 'badge rule must be a JSON object',
      hint = 'For example {"type": "count", "kinds": ["concierto.ticket_purchased"], "at_least": 1}.';
  end if;
  shape := case when jsonb_typeof(rule -> 'type') = 'string' then rule ->> 'type' end;
  case shape
    when 'count' then
      allowed := array['type', 'kinds', 'at_least', 'per', 'counted'];
      required := array['type', 'kinds', 'at_least'];
    when 'early' then
      allowed := array['type', 'kinds', 'per', 'within_first'];
      required := allowed;
    when 'rank' then
      allowed := array['type', 'metric', 'per', 'period', 'top'];
      required := allowed;
    else
      raise exception using errcode = '22023',
        message = format('badge rule type must be one of count, early, rank, got %s', coalesce(rule ->> 'type', 'nothing'));
  end case;

  select min(k) into extra from jsonb_object_keys(rule) as k where k <> all (allowed);
  if extra is not null then
    raise exception using errcode = '22023',
      message = format('badge rule of type %s has an unknown key %L; its keys are %s', shape, extra,
                       array_to_string(allowed, ', '));
  end if;
  select min(k) into missing from unnest(required) as k where not rule ? k;
  if missing is not null then
    raise exception using errcode = '22023', message = format('badge rule of type %s needs %s', shape, missing);
  end if;

  if rule ? 'per' and rule -> 'per' is distinct from '"artist"'::jsonb then
    raise exception using errcode = '22023', message = 'badge rule per must be "artist"';
  end if;

  if shape in ('count', 'early') then
    if jsonb_typeof(rule -> 'kinds') is distinct from 'array' or jsonb_array_length(rule -> 'kinds') not between 1 and 20
       or exists (select from jsonb_array_elements(rule -> 'kinds') as k where jsonb_typeof(k) <> 'string') then
      raise exception using errcode = '22023', message = 'badge rule kinds must be an array of 1 to 20 event kind names';
    end if;
    select array_agg(k) into kind_names from jsonb_array_elements_text(rule -> 'kinds') as k;
    if cardinality(kind_names) <> (select count(distinct k) from unnest(kind_names) as k) then
      raise exception using errcode = '22023', message = 'badge rule kinds must not repeat a kind';
    end if;
    select min(k) into unknown
    from unnest(kind_names) as k
    where not exists (select from passport.event_kinds as e where e.name = k);
    if unknown is not null then
      raise exception using errcode = '22023', message = format('badge rule names an unknown event kind %L', unknown),
        hint = 'passport.event_kinds lists the kinds.';
    end if;
    -- An entry counts for an artist only when it names one, and as counted only when it can make DNA.
    select min(e.name) into kind_problem
    from passport.event_kinds as e
    where e.name = any (kind_names) and rule ? 'per' and not e.needs_artist;
    if kind_problem is not null then
      raise exception using errcode = '22023',
        message = format('badge rule is per artist but the kind %L does not name an artist', kind_problem);
    end if;
  end if;

  if shape = 'count' then
    perform people_private.check_rule_integer(rule, 'at_least', 1, 1000000);
    if rule ? 'counted' and jsonb_typeof(rule -> 'counted') is distinct from 'boolean' then
      raise exception using errcode = '22023', message = 'badge rule counted must be true or false';
    end if;
    if (rule ->> 'counted')::boolean then
      select min(e.name) into kind_problem
      from passport.event_kinds as e
      where e.name = any (kind_names) and cardinality(e.domains) = 0;
      if kind_problem is not null then
        raise exception using errcode = '22023',
          message = format('badge rule counts counted entries but the kind %L makes no DNA', kind_problem);
      end if;
    end if;
  elsif shape = 'early' then
    perform people_private.check_rule_integer(rule, 'within_first', 1, 1000000);
  else
    if rule -> 'metric' is null or rule ->> 'metric' not in ('units', 'counted_plays', 'entries')
       or jsonb_typeof(rule -> 'metric') <> 'string' then
      raise exception using errcode = '22023', message = 'badge rule metric must be one of units, counted_plays, entries';
    end if;
    if rule -> 'period' is distinct from '"month"'::jsonb then
      raise exception using errcode = '22023', message = 'badge rule period must be "month"';
    end if;
    perform people_private.check_rule_integer(rule, 'top', 1, 100);
  end if;
end
$$;

comment on function people_private.check_badge_rule(jsonb) is
  'Raises 22023 naming the problem unless the rule is one of the badge rule shapes (count, early, rank) exactly '
  '(docs/badges.md, "Rules"). Called by the trigger of people.badges.';
