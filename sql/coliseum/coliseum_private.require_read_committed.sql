-- The refresh reads under an advisory lock what other processors committed
-- after the caller's transaction began: only READ COMMITTED gives each
-- statement a fresh snapshot. process_pending and rebuild refuse anything else.
create or replace function coliseum_private.require_read_committed(caller text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception using
      errcode = '25000',
      message = format('%s runs under READ COMMITTED only', caller),
      hint = 'Call it in a READ COMMITTED transaction (the default).';
  end if;
end
$$;
