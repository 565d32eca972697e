-- Removes what tests/bench/companon_seed.sql committed, in the session that ran it (its temporary tables name
-- the artists and campaigns): the artists' DNA rows and vectors, the bench brand and its campaigns. Their
-- Passport entries (companon.campaign_created) stay: the log is append-only.
delete from companon_private.artist_vectors where artist_id in (select artist_id from bench_artists);
delete from coliseum_private.artist_refreshes where artist_id in (select artist_id from bench_artists);
delete from coliseum_private.artist_places where artist_id in (select artist_id from bench_artists);
delete from public.coliseum_domain_strength where artist_id in (select artist_id from bench_artists);
delete from auth.users where id in (select artist_id from bench_artists);
create temporary table bench_brands as select distinct brand_id from companon.campaigns where id in (select id from bench_campaigns);
delete from companon.campaign_transitions where campaign_id in (select id from bench_campaigns);
delete from companon.campaigns where id in (select id from bench_campaigns);
delete from companon.brand_members where brand_id in (select brand_id from bench_brands);
delete from companon.brands where id in (select brand_id from bench_brands);
drop table bench_artists, bench_campaigns, bench_brands;
