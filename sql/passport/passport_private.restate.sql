-- buckets_core::passport::restate in SQL: moves an alias's payload keys
-- (renames: {"key as sent": "field"}) to the fields they stand for. A key
-- moves only when its field is not given already ("artist_id": the envelope's
-- artist, given when artist is not null); otherwise it stays, and the catalog
-- check refuses it as undeclared. The catalog test forbids chains (a key
-- moved in never moves again), so the order of renames does not matter.
-- Returns {"payload": ...} plus, when the artist came from a payload key,
-- "artist" (its value, whatever it is) and "artist_from" ('payload.<key>');
-- "artist" is absent otherwise. A payload that is not an object is left as it is.
create or replace function passport_private.restate(renames jsonb, artist jsonb, payload jsonb)
returns jsonb
language plpgsql
immutable
parallel safe
as $$
declare
  rename record;
  moved jsonb := '{}'::jsonb;
begin
  if jsonb_typeof(payload) is distinct from 'object' then
    return jsonb_build_object('payload', payload);
  end if;
  for rename in select r.key, r.value from jsonb_each_text(renames) as r loop
    if not payload ? rename.key then
      continue;
    end if;
    if rename.value = 'artist_id' then
      if artist is null then
        moved := jsonb_build_object('artist', payload -> rename.key, 'artist_from', 'payload.' || rename.key);
        payload := payload - rename.key;
      end if;
    elsif not payload ? rename.value then
      payload := (payload - rename.key) || jsonb_build_object(rename.value, payload -> rename.key);
    end if;
  end loop;
  return moved || jsonb_build_object('payload', payload);
end
$$;
