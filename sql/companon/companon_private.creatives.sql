-- Checks a campaign's creatives: a JSON array of at most 20 objects {"url", "label"?}, each url an
-- https:// link (a host name with a dot, an optional port, no user info, no blanks; at most 2000
-- characters) that no other creative repeats, each label 1 to 200 characters. Returns the array as
-- given; 22023 names the first bad element.
create or replace function companon_private.creatives(creatives jsonb)
returns jsonb
language plpgsql
immutable
as $$
declare
  item jsonb;
  i int := 0;
  key text;
  url text;
begin
  if jsonb_typeof(creatives) is distinct from 'array' or jsonb_array_length(creatives) > 20 then
    raise exception using errcode = '22023',
      message = 'creatives must be an array of at most 20 objects {"url": "https://…", "label": "…"}';
  end if;
  for item in select e.v from jsonb_array_elements(creatives) as e(v) loop
    if jsonb_typeof(item) <> 'object' then
      raise exception using errcode = '22023', message = format('creatives[%s] must be an object {"url", "label"}', i);
    end if;
    select min(k) into key from jsonb_object_keys(item) as k where k not in ('url', 'label');
    if key is not null then
      raise exception using errcode = '22023', message = format('creatives[%s].%s is not a field of a creative (url, label)', i, key);
    end if;
    url := item ->> 'url';
    if jsonb_typeof(item -> 'url') is distinct from 'string' or char_length(url) > 2000
       or url !~ '^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(:[0-9]{1,5})?([/?#][^[:space:][:cntrl:]]*)?$' then
      raise exception using errcode = '22023',
        message = format('creatives[%s].url must be an https:// link of at most 2000 characters', i),
        hint = 'Only https links are accepted: https://host.example/path.';
    end if;
    if item ? 'label' and (jsonb_typeof(item -> 'label') <> 'string' or char_length(item ->> 'label') not between 1 and 200) then
      raise exception using errcode = '22023', message = format('creatives[%s].label must be a string of 1 to 200 characters', i);
    end if;
    if exists (select 1 from jsonb_array_elements(creatives) with ordinality as e(v, n)
               where e.n <= i and e.v ->> 'url' = url) then
      raise exception using errcode = '22023', message = format('creatives[%s].url repeats an earlier creative', i);
    end if;
    i := i + 1;
  end loop;
  return creatives;
end
$$;
