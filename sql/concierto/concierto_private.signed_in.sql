-- The signed-in user, or 42501 saying what needs one.
create or replace function concierto_private.signed_in(what text)
returns uuid
language plpgsql
stable
as $$
declare
  me uuid := auth.uid();
begin
  if me is null then
    raise exception using
      errcode = '42501',
      message = format('sign in to %s', what),
      hint = 'Call with a user''s access token.';
  end if;
  return me;
end
$$;
