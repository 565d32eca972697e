-- A profile field's text: null stays null; otherwise a JSON string, trimmed, 1 to max_length characters.
create or replace function people_private.text_field(value jsonb, field text, max_length int)
returns text
language plpgsql
immutable
as $$
declare
  t text;
begin
  if value is null or jsonb_typeof(value) = 'null' then
    return null;
  end if;
  if jsonb_typeof(value) <> 'string' then
    raise exception using errcode = '22023', message = format('%s must be a string or null', field);
  end if;
  t := btrim(value #>> '{}');
  if char_length(t) not between 1 and max_length then
    raise exception using errcode = '22023',
      message = format('%s must be 1 to %s characters (null clears it)', field, max_length);
  end if;
  return t;
end
$$;
