create or replace trigger payout_settings_keep_default
  before update or delete on treasury.payout_settings
  for each row execute function treasury_private.keep_default_payout_settings();
