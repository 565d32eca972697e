create or replace function concierto.set_platform_share(share_bp int)
returns int
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if not (concierto_private.caller_is_privileged() or treasury.is_admin()) then
    raise exception using errcode = '42501', message = 'only the platform sets its share of ticket revenue';
  end if;
  if set_platform_share.share_bp is null or set_platform_share.share_bp not between 0 and 10000 then
    raise exception using errcode = '22023', message = 'share_bp must be 0 to 10000 basis points';
  end if;
  update concierto.settings as s set platform_share_bp = set_platform_share.share_bp, updated_at = now() where s.id;
  return set_platform_share.share_bp;
end
$$;

comment on function concierto.set_platform_share(int) is
  'Sets the platform''s share (basis points) of the ticket revenue of events hosts create from now on; drafts '
  'made before keep the share they were made with. For service_role and Treasury admins (42501 otherwise); '
  '22023 outside 0..10000.';

grant execute on function concierto.set_platform_share(int) to authenticated, service_role;
