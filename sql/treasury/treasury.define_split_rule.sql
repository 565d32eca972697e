-- Creates a split rule from [{"party_id": uuid | null, "role": text,
-- "share_bp": int}, ...] in position order. Checks what the constraints
-- would, with messages that name the party.
create or replace function treasury.define_split_rule(name text, parties jsonb)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  problem text;
  rule uuid;
begin
  if name is null or char_length(name) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'name must be a string of 1 to 200 characters';
  end if;
  if jsonb_typeof(parties) is distinct from 'array' or jsonb_array_length(parties) not between 1 and 100 then
    raise exception using errcode = '22023',
      message = 'parties must be a JSON array of 1 to 100 {"party_id", "role", "share_bp"} objects';
  end if;

  select format('parties[%s] %s', p.idx - 1, case
      when jsonb_typeof(p.party) <> 'object' then 'must be an object {"party_id", "role", "share_bp"}'
      when p.party ->> 'role' is null or p.party ->> 'role' not in ('artist', 'host', 'platform', 'other') then
        'role must be one of artist, host, platform, other'
      when p.party ->> 'role' = 'platform' and coalesce(jsonb_typeof(p.party -> 'party_id'), 'null') <> 'null' then
        'party_id must be null for the platform'
      when p.party ->> 'role' <> 'platform' and treasury_private.as_uuid(p.party ->> 'party_id') is null then
        'party_id must be a user''s UUID'
      when treasury_private.json_bigint(p.party -> 'share_bp') is null
           or treasury_private.json_bigint(p.party -> 'share_bp') not between 0 and 10000 then
        'share_bp must be an integer from 0 to 10000'
    end)
  into problem
  from jsonb_array_elements(parties) with ordinality as p(party, idx)
  where jsonb_typeof(p.party) <> 'object'
     or p.party ->> 'role' is null
     or p.party ->> 'role' not in ('artist', 'host', 'platform', 'other')
     or (p.party ->> 'role' = 'platform' and coalesce(jsonb_typeof(p.party -> 'party_id'), 'null') <> 'null')
     or (p.party ->> 'role' <> 'platform' and treasury_private.as_uuid(p.party ->> 'party_id') is null)
     or treasury_private.json_bigint(p.party -> 'share_bp') is null
     or treasury_private.json_bigint(p.party -> 'share_bp') not between 0 and 10000
  order by p.idx
  limit 1;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  select format('the shares sum to %s basis points, not 10000', sum((p.party ->> 'share_bp')::bigint))
  into problem
  from jsonb_array_elements(parties) as p(party)
  having sum((p.party ->> 'share_bp')::bigint) <> 10000;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  select format('%s appears twice as %s', coalesce(p.party ->> 'party_id', 'the platform'), p.party ->> 'role')
  into problem
  from jsonb_array_elements(parties) as p(party)
  group by p.party ->> 'party_id', p.party ->> 'role'
  having count(*) > 1
  limit 1;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  insert into treasury.split_rules as r (name) values (define_split_rule.name) returning r.id into rule;
  insert into treasury.split_rule_parties (rule_id, position, party_id, role, share_bp)
  select rule, p.idx, (p.party ->> 'party_id')::uuid, p.party ->> 'role', (p.party ->> 'share_bp')::int
  from jsonb_array_elements(parties) with ordinality as p(party, idx);
  return rule;
end
$$;

comment on function treasury.define_split_rule(text, jsonb) is
  'Creates a split rule from [{"party_id": uuid | null, "role": "artist"|"host"|"platform"|"other", "share_bp": n}] '
  '(positions in array order, shares summing to 10000); returns its id. 22023 names the first problem.';

grant execute on function treasury.define_split_rule(text, jsonb) to service_role;
