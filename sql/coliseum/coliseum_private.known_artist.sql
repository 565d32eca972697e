-- Whether Coliseum knows `artist` as an artist: a Passport entry naming them
-- was folded into DNA, or Treasury sells a product of theirs. Holds are only
-- for artists, so a mistyped id is refused instead of held.
create or replace function coliseum_private.known_artist(artist uuid)
returns boolean
language sql
stable
as $$
  select exists (select from public.coliseum_dna_mutations as m where m.artist_id = artist)
      or exists (select from treasury.products as p where p.artist_id = artist)
$$;
