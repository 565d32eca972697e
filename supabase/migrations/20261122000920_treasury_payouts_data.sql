-- Payees who earned before this migration get theirs now.
do $$
begin
  perform treasury_private.ensure_wallet(a.owner_id)
  from (select distinct x.owner_id from treasury.accounts as x where x.purpose = 'payable' and x.owner_id is not null) as a;
end
$$;
