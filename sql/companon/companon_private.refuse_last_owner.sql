-- 55000 last_owner when user_id is the only owner of the brand: a brand
-- always keeps an owner. Call with the brand locked (lock_members).
create or replace function companon_private.refuse_last_owner(brand_id uuid, user_id uuid)
returns void
language plpgsql
stable
as $$
begin
  if not exists (select 1 from companon.brand_members as m
                 where m.brand_id = refuse_last_owner.brand_id and m.role = 'owner'
                   and m.user_id <> refuse_last_owner.user_id) then
    raise exception using
      errcode = '55000',
      message = format('user %s is the last owner of brand %s', user_id, brand_id),
      detail = 'last_owner',
      hint = 'Make another member an owner first (set_member_role).';
  end if;
end
$$;
