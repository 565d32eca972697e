-- At commit, every rule touched has at least one party and shares summing to
-- exactly 10,000 basis points.
create or replace function treasury_private.check_split_rule()
returns trigger
language plpgsql
as $$
declare
  rule uuid;
  total bigint;
begin
  for rule in
    select distinct r.id
    from (values ((to_jsonb(new) ->> case tg_table_name when 'split_rules' then 'id' else 'rule_id' end)::uuid),
                 ((to_jsonb(old) ->> 'rule_id')::uuid)) as r(id)
    where r.id is not null
  loop
    continue when not exists (select 1 from treasury.split_rules as r where r.id = rule);
    select sum(p.share_bp) into total from treasury.split_rule_parties as p where p.rule_id = rule;
    if total is distinct from 10000 then
      raise exception using
        errcode = '23514',
        message = format('the shares of split rule %s sum to %s basis points, not 10000', rule, coalesce(total, 0)),
        hint = 'Give the rule parties whose share_bp add up to exactly 10000.';
    end if;
  end loop;
  return null;
end
$$;
