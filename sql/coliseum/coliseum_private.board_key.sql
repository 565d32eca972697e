-- The board a request names, in stored spelling: domain 'A', 'T', 'G', 'C'
-- (any case) or 'overall' (any case); period '7d', '30d', 'alltime' (any case).
create or replace function coliseum_private.board_key(
  domain text,
  range text,
  out board_domain text,
  out board_period text
)
language plpgsql
immutable
as $$
begin
  board_domain := case when upper(domain) in ('A', 'T', 'G', 'C') then upper(domain)
                       when lower(domain) = 'overall' then 'overall' end;
  if board_domain is null then
    raise exception using
      errcode = '22023',
      message = format('domain must be A, T, G, C or overall, got %s', coalesce('"' || domain || '"', 'null'));
  end if;
  board_period := case when lower(range) in ('7d', '30d', 'alltime') then lower(range) end;
  if board_period is null then
    raise exception using
      errcode = '22023',
      message = format('range must be 7d, 30d or alltime, got %s', coalesce('"' || range || '"', 'null'));
  end if;
end
$$;
