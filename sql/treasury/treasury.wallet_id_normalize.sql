create or replace function treasury.wallet_id_normalize(input text)
returns text
language sql
immutable
parallel safe
security definer
set search_path = ''
as $$
  with cleaned as (
    select translate(upper(regexp_replace(coalesce(input, ''), '[\s-]', '', 'g')), 'OIL', '011') as s
  ),
  body as (
    select case when char_length(c.s) = 12 and left(c.s, 3) = 'BKT' then substr(c.s, 4) else c.s end as s
    from cleaned as c
  )
  select case when b.s ~ '^[0-9A-HJKMNP-TV-Z]{9}$'
    then 'BKT-' || substr(b.s, 1, 4) || '-' || substr(b.s, 5, 4) || '-' || substr(b.s, 9, 1) end
  from body as b
$$;

comment on function treasury.wallet_id_normalize(text) is
  'A wallet id as a person typed it (any case, spaces or dashes, O for 0, I or L for 1, with or without BKT) in '
  'its canonical form BKT-XXXX-XXXX-C; null when it is not nine base32 symbols. Check it with wallet_id_valid.';

grant execute on function treasury.wallet_id_normalize(text) to anon, authenticated, service_role;
