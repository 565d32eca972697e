-- For a change of a brand's members: the caller must be an owner of the
-- brand or the platform (or, when `leaving` names the caller, any member),
-- else 42501; an unknown or invisible brand is P0002. Locks the brand's row,
-- so that changes of one brand's members run one after the other and the
-- last-owner rule sees the owners as they are. Returns the caller's role.
create or replace function companon_private.lock_members(brand_id uuid, leaving uuid default null)
returns text
language plpgsql
volatile
as $$
declare
  r text := companon_private.visible_brand_role(brand_id, 'manage a brand''s members');
begin
  if r not in ('owner', 'platform') and not (r in ('manager', 'viewer') and leaving is not distinct from auth.uid()) then
    raise exception using
      errcode = '42501',
      message = format('only an owner of brand %s manages its members', brand_id),
      hint = case when r in ('manager', 'viewer') then 'A member may always leave: remove_member with their own user_id.'
                  else 'Ask an owner of the brand.' end;
  end if;
  perform from companon.brands as b where b.id = lock_members.brand_id for update;
  return r;
end
$$;
