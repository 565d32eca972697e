-- The user whose money a read is about: for_user, or the signed-in user when
-- it is null. Only staff read another user's money.
create or replace function treasury_private.reader(for_user uuid)
returns uuid
language plpgsql
stable
as $$
declare
  me uuid := auth.uid();
begin
  if for_user is null then
    if me is not null then
      return me;
    end if;
    if treasury_private.caller_is_privileged() then
      raise exception using errcode = '22023', message = 'for_user is required when the caller is not a signed-in user';
    end if;
    raise exception using errcode = '42501', message = 'sign in to read your money', hint = 'Call with a user''s access token.';
  end if;
  if for_user = me or treasury_private.caller_is_staff() then
    return for_user;
  end if;
  raise exception using
    errcode = '42501',
    message = 'you can only read your own money',
    hint = 'Leave for_user null to read yours; Treasury admins read anyone''s.';
end
$$;
