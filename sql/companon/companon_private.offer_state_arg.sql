-- 22023 unless state is null or one of an offer's states.
create or replace function companon_private.offer_state_arg(state text)
returns void
language plpgsql
immutable
as $$
begin
  if state is not null and state not in ('offered', 'accepted', 'declined', 'withdrawn', 'expired', 'paid', 'refunded') then
    raise exception using errcode = '22023',
      message = format('state must be offered, accepted, declined, withdrawn, expired, paid or refunded, got %s', state);
  end if;
end
$$;
