-- Companon campaigns: what a campaign must hold (scalars, target, creatives), editing drafts only, the
-- state machine (every state x every action), admin review and holds, the Passport entry of every
-- transition, and the job that completes campaigns whose schedule ended.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(83);
\ir companon_helpers.psql

-- The SQLSTATE and DETAIL of sql, or null when it runs.
create function pg_temp.refusal(sql text) returns text language plpgsql as $$
declare s text; d text;
begin
  execute sql;
  return null;
exception when others then
  get stacked diagnostics s = returned_sqlstate, d = pg_exception_detail;
  return s || coalesce(' ' || nullif(d, ''), '');
end
$$;

create function pg_temp.create_sql(target text default '{"domains": {"A": 1}}', creatives text default '[]',
                                   name text default 'x', objective text default 'awareness', budget text default '100',
                                   currency text default 'EUR', ends text default 'now() + interval ''1 day''')
returns text language sql as $$
  select format('select companon.create_campaign(%L, %L, %L, %s, %L, now(), %s, %L, %L)',
                (select id from companon.brands where name = 'Acme Drinks'), name, objective, budget, currency, ends,
                target, creatives)
$$;

-- The API roles call these two (functions start with no grant: sql/foundation/privileges.sql).
grant execute on function pg_temp.refusal(text), pg_temp.create_sql(text, text, text, text, text, text, text) to public;

-- Creating ------------------------------------------------------------------------------------------
select pg_temp.act_as(:'manager');
select companon.create_campaign(:'brand', ' Summer ', 'conversions', 2500000, 'NGN', now(), now() + interval '30 days',
                                :'target', :'creatives') as c \gset
select is((select row(name, objective, budget_minor, currency::text, state, created_by)::text from companon.campaigns where id = :'c'),
          row('Summer', 'conversions', 2500000::bigint, 'NGN', 'draft', :'manager'::uuid)::text, 'a manager creates a draft');
select is((select target from companon.campaigns where id = :'c'),
          '{"domains": {"A": 1, "T": 0, "G": 0, "C": 0.5}, "components": {"C": {"touring_viability": 1}},
            "genres": ["afrobeats"], "countries": [], "cities": [{"city": "Lagos", "country": "NG"}],
            "min_scores": {"overall": 20}, "size_bands": ["rising"]}'::jsonb,
          'its target is stored in canonical form: every domain and filter present');
select is((select creatives from companon.campaigns where id = :'c'), :'creatives'::jsonb, 'with its creatives');
reset role;
select is((select row(user_id, artist_id, source, payload)::text from public.passport_entries
           where id = (select passport_entry_id from companon.campaign_transitions where campaign_id = :'c' and action = 'create')),
          row(:'brand'::uuid, null::uuid, 'companon', jsonb_build_object('campaign_id', :'c', 'budget_minor', 2500000,
              'currency', 'NGN', 'actor_id', :'manager'))::text,
          'creating it logs companon.campaign_created under the brand, with who did it');

select pg_temp.act_as(:'owner');
select is(pg_temp.refusal(pg_temp.create_sql(name => '')), '22023', 'a name is required');
select throws_ok(pg_temp.create_sql(objective => 'fame'), '22023', 'objective must be awareness, engagement or conversions');
select throws_ok(pg_temp.create_sql(budget => '0'), '22023', 'budget_minor must be a positive amount in minor units (cents)');
select throws_ok(pg_temp.create_sql(currency => 'eur'), '22023', 'currency must be an ISO 4217 code in capitals (EUR)');
select throws_ok(pg_temp.create_sql(ends => 'now() - interval ''1 day'''), '22023', 'ends_at must be after starts_at');
select throws_ok(pg_temp.create_sql(ends => '''infinity'''), '22023', 'ends_at is required');
-- The target.
select throws_ok(pg_temp.create_sql(target => '[]'), '22023', 'target must be a JSON object');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 1}, "budget": 1}'), '22023',
                 'target.budget is not a field of a target (domains, components, genres, countries, cities, min_scores, size_bands)');
select throws_ok(pg_temp.create_sql(target => '{}'), '22023',
                 'target.domains must be an object of domain weights, such as {"A": 1, "C": 0.5}');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"X": 1}}'), '22023', 'target.domains.X is not a domain (A, T, G, C)');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 1.5}}'), '22023', 'target.domains.A must be a number from 0 to 1');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": "1"}}'), '22023', 'target.domains.A must be a number from 0 to 1');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 0, "T": 0}}'), '22023',
                 'target.domains must give at least one domain a weight above 0');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 1}, "components": {"A": {"loyalty": 1}}}'), '22023',
                 'target.components.A.loyalty is not a component of domain A (see companon.dna_components)');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 1}, "components": {"T": {"loyalty": 1}}}'), '22023',
                 'target.components.T weighs components of domain T, whose weight is 0: weigh the domain too');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"T": 1}, "components": {"T": {"loyalty": -0.1}}}'), '22023',
                 'target.components.T.loyalty must be a number from 0 to 1');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 1}, "min_scores": {"overall": 101}}'), '22023',
                 'target.min_scores.overall must be a number from 0 to 100');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 1}, "min_scores": {"Z": 1}}'), '22023',
                 'target.min_scores.Z is not a score (A, T, G, C, overall)');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 1}, "genres": ["pop", "pop"]}'), '22023',
                 'target.genres must be an array of at most 50 distinct genres (strings of 1 to 100 characters, not blank at either end)');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 1}, "countries": ["ng"]}'), '22023',
                 'target.countries must be an array of at most 250 distinct ISO 3166-1 alpha-2 codes in capitals (NG)');
select is(pg_temp.refusal(pg_temp.create_sql(target => '{"domains": {"A": 1}, "cities": [{"city": "Lagos"}]}')), '22023',
          'a city needs its country');
select throws_ok(pg_temp.create_sql(target => '{"domains": {"A": 1}, "size_bands": ["huge"]}'), '22023',
                 'target.size_bands names huge, which is not a band of companon.size_bands (emerging, rising, established, star)');
-- The creatives.
select throws_ok(pg_temp.create_sql(creatives => '[{"url": "http://acme.example/x"}]'), '22023',
                 'creatives[0].url must be an https:// link of at most 2000 characters', 'http is refused');
select is(pg_temp.refusal(pg_temp.create_sql(creatives => '[{"url": "javascript:alert(1)"}]')), '22023', 'so is javascript:');
select is(pg_temp.refusal(pg_temp.create_sql(creatives => '[{"url": "https://user:pw@acme.example/"}]')), '22023',
          'and a link with user info');
select is(pg_temp.refusal(pg_temp.create_sql(creatives => '[{"url": "https://acme.example/a b"}]')), '22023', 'and blanks');
select throws_ok(pg_temp.create_sql(creatives => '[{"url": "https://acme.example/a"}, {"url": "https://acme.example/a"}]'),
                 '22023', 'creatives[1].url repeats an earlier creative');
select throws_ok(pg_temp.create_sql(creatives => '[{"url": "https://acme.example/a", "alt": "x"}]'), '22023',
                 'creatives[0].alt is not a field of a creative (url, label)');
select throws_ok(pg_temp.create_sql(creatives => (select jsonb_agg(jsonb_build_object('url', 'https://acme.example/' || i))
                                                  from generate_series(1, 21) as i)::text), '22023',
                 'creatives must be an array of at most 20 objects {"url": "https://…", "label": "…"}');
select is(pg_temp.refusal(pg_temp.create_sql(creatives => '[{"url": "https://cdn.acme.example:8443/a/b.png?x=1#top", "label": "Banner"}]')),
          null, 'an https link with a port, path, query and fragment is fine');
reset role;

-- Editing: drafts only --------------------------------------------------------------------------------
select pg_temp.act_as(:'owner');
select lives_ok(format($$select companon.update_campaign(%L, budget_minor => 3000000, target => '{"domains": {"G": 1}}')$$, :'c'),
                'an owner edits a draft');
select is((select row(budget_minor, target -> 'domains', name)::text from companon.campaigns where id = :'c'),
          row(3000000::bigint, '{"A": 0, "T": 0, "G": 1, "C": 0}'::jsonb, 'Summer')::text,
          'what was given changes (the target whole), the rest stays');
select throws_ok(format($$select companon.update_campaign(%L, ends_at => now() - interval '1 year')$$, :'c'), '22023',
                 'ends_at must be after starts_at', 'the edited campaign is checked whole');
select is(companon.transition_campaign(:'c', 'submit'), 'in_review', 'submitted');
select is(pg_temp.refusal(format($$select companon.update_campaign(%L, name => 'Changed')$$, :'c')), '55000 not_draft',
          'a campaign in review cannot be edited (55000 not_draft)');
select is(companon.transition_campaign(:'c', 'withdraw'), 'draft', 'the brand withdraws it');
select lives_ok(format($$select companon.update_campaign(%L, name => 'Summer 2027')$$, :'c'), 'and edits it again');
select is(companon.transition_campaign(:'c', 'submit'), 'in_review', 'and submits it again');
reset role;

-- Review ---------------------------------------------------------------------------------------------
select pg_temp.act_as(:'admin');
select throws_ok(format($$select companon.transition_campaign(%L, 'reject')$$, :'c'), '22023',
                 'a rejection needs a reason (1 to 500 characters)');
select throws_ok(format($$select companon.transition_campaign(%L, 'reject', '   ')$$, :'c'), '22023',
                 'a rejection needs a reason (1 to 500 characters)', 'a blank reason is no reason');
select throws_ok(format($$select companon.transition_campaign(%L, 'reject', %L)$$, :'c', repeat('x', 501)), '22023',
                 'reason must be at most 500 characters');
select is(companon.transition_campaign(:'c', 'reject', 'The banner shows alcohol to minors'), 'draft', 'the admin rejects it');
select is((select review_note from companon.campaigns where id = :'c'), 'The banner shows alcohol to minors',
          'the brand reads why');
reset role;
select pg_temp.act_as(:'manager');
select is(companon.transition_campaign(:'c', 'submit'), 'in_review', 'the brand submits it again');
reset role;
select pg_temp.act_as(:'admin');
select is(companon.transition_campaign(:'c', 'approve'), 'active', 'the admin approves it');
select is((select review_note from companon.campaigns where id = :'c'), null, 'which clears the note');
select throws_ok(format($$select companon.transition_campaign(%L, 'launch')$$, :'c'), '22023',
                 'action must be submit, withdraw, approve, reject, pause, resume, complete or cancel');
reset role;

-- Running: pauses and holds ---------------------------------------------------------------------------
select pg_temp.act_as(:'owner');
select is(pg_temp.refusal(format($$select companon.update_campaign(%L, budget_minor => 1)$$, :'c')), '55000 not_draft',
          'an active campaign cannot be edited');
select is(companon.transition_campaign(:'c', 'pause'), 'paused', 'the owner pauses it');
select is((select admin_hold from companon.campaigns where id = :'c'), false, 'not held');
select is(companon.transition_campaign(:'c', 'resume'), 'active', 'and resumes it');
reset role;
select pg_temp.act_as(:'admin');
select is(companon.transition_campaign(:'c', 'pause', 'complaint received'), 'paused', 'an admin pauses it');
select is((select admin_hold from companon.campaigns where id = :'c'), true, 'held for an admin');
reset role;
select pg_temp.act_as(:'manager');
select is(pg_temp.refusal(format($$select companon.transition_campaign(%L, 'resume')$$, :'c')), '42501 admin_hold',
          'the brand cannot resume a campaign an admin holds (42501 admin_hold)');
reset role;
select pg_temp.act_as(:'admin');
select is(companon.transition_campaign(:'c', 'resume'), 'active', 'the admin can');
select is((select admin_hold from companon.campaigns where id = :'c'), false, 'and the hold is gone');
reset role;

-- Passport: one entry per transition, in the same transaction -----------------------------------------
select is((select array_agg(t.action || ':' || e.kind order by t.id)
           from companon.campaign_transitions as t join public.passport_entries as e on e.id = t.passport_entry_id
           where t.campaign_id = :'c'),
          array['create:companon.campaign_created', 'submit:companon.campaign_submitted', 'withdraw:companon.campaign_withdrawn',
                'submit:companon.campaign_submitted', 'reject:companon.campaign_rejected', 'submit:companon.campaign_submitted',
                'approve:companon.campaign_approved', 'pause:companon.campaign_paused', 'resume:companon.campaign_resumed',
                'pause:companon.campaign_paused', 'resume:companon.campaign_resumed'],
          'every transition has its Passport entry, of its kind');
select is((select count(*)::int from public.passport_entries where user_id = :'brand' and payload ->> 'campaign_id' = :'c'), 11,
          'and there are no others');
select is((select e.payload from companon.campaign_transitions as t join public.passport_entries as e on e.id = t.passport_entry_id
           where t.campaign_id = :'c' and t.action = 'reject'),
          jsonb_build_object('campaign_id', :'c', 'from_state', 'in_review', 'actor_id', :'admin',
                             'reason', 'The banner shows alcohol to minors'),
          'a rejection''s entry says from where, who and why');
select is((select array_agg(distinct row(e.source, e.user_id, e.artist_id, e.client_event_id ~ ('^campaign:' || :'c' || ':[0-9]+$'))::text)
           from companon.campaign_transitions as t join public.passport_entries as e on e.id = t.passport_entry_id
           where t.campaign_id = :'c'),
          array[row('companon', :'brand'::uuid, null::uuid, true)::text], 'all logged by companon under the brand, for no artist');
select is((select array_agg(actor order by id) from companon.campaign_transitions where campaign_id = :'c'),
          array['manager', 'owner', 'owner', 'owner', 'admin', 'manager', 'admin', 'owner', 'owner', 'admin', 'admin'],
          'the transitions say who acted');
select pg_temp.refusal(format($$select pg_temp.act_as(%L); select companon.transition_campaign(%L, 'approve')$$, :'admin', :'c')) as _r \gset
reset role;
select is((select count(*)::int from public.passport_entries where user_id = :'brand' and payload ->> 'campaign_id' = :'c'), 11,
          'a refused transition logs nothing');
select is((select count(*)::int from passport.event_kinds where name like 'companon.campaign\_%' and needs_artist = false
             and domains = '{}' and producers = '{companon,system}'), 9, 'the nine transition kinds are in the catalog');

-- Every state x every action (as the platform) ----------------------------------------------------------
create function pg_temp.in_state(state text) returns uuid language plpgsql as $$
declare c uuid := pg_temp.campaign((select id from companon.brands where name = 'Acme Drinks'));
begin
  case state
    when 'draft' then null;
    when 'in_review' then perform companon.transition_campaign(c, 'submit');
    when 'active' then perform companon.transition_campaign(c, 'submit'), companon.transition_campaign(c, 'approve');
    when 'paused' then perform companon.transition_campaign(c, 'submit'), companon.transition_campaign(c, 'approve'),
                               companon.transition_campaign(c, 'pause');
    when 'completed' then perform companon.transition_campaign(c, 'submit'), companon.transition_campaign(c, 'approve'),
                                  companon.transition_campaign(c, 'complete');
    when 'cancelled' then perform companon.transition_campaign(c, 'cancel');
  end case;
  return c;
end
$$;
-- What each action does to a campaign in the state (a fresh one each): the new state, or the refusal.
create function pg_temp.outcomes(state text) returns text[] language plpgsql as $$
declare
  action text;
  c uuid;
  refused text;
  answers text[] := '{}';
begin
  foreach action in array array['submit', 'withdraw', 'approve', 'reject', 'pause', 'resume', 'complete', 'cancel'] loop
    c := pg_temp.in_state(state);
    refused := pg_temp.refusal(format('select companon.transition_campaign(%L, %L, ''r'')', c, action));
    answers := answers || coalesce(refused, (select x.state from companon.campaigns as x where x.id = c));
  end loop;
  return answers;
end
$$;
select is(pg_temp.outcomes('draft'),
          array['in_review', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', 'cancelled'], 'from draft');
select is(pg_temp.outcomes('in_review'),
          array['55000 invalid_transition', 'draft', 'active', 'draft', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', 'cancelled'], 'from in_review');
select is(pg_temp.outcomes('active'),
          array['55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', 'paused', '55000 invalid_transition', 'completed', 'cancelled'], 'from active');
select is(pg_temp.outcomes('paused'),
          array['55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', 'active', 'completed', 'cancelled'], 'from paused');
select is(pg_temp.outcomes('completed'),
          array['55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition'], 'completed is final');
select is(pg_temp.outcomes('cancelled'),
          array['55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition', '55000 invalid_transition'], 'cancelled is final');
select pg_temp.in_state('completed') as done \gset
select throws_ok(format($$select companon.transition_campaign(%L, 'pause')$$, :'done'), '55000',
                 format('campaign %s is completed: pause takes a campaign that is active', :'done'), 'the refusal says why');
select is(pg_temp.refusal(format($$select companon.transition_campaign(%L, 'submit')$$, :'done')), '55000 invalid_transition',
          'with DETAIL invalid_transition');

-- Prerequisites ------------------------------------------------------------------------------------------
select companon.create_campaign(:'brand', 'No creative', 'awareness', 100, 'EUR', now(), now() + interval '1 day',
                                '{"domains": {"A": 1}}') as bare \gset
select is(pg_temp.refusal(format($$select companon.transition_campaign(%L, 'submit')$$, :'bare')), '55000 no_creatives',
          'a campaign without creatives cannot be submitted');
select companon.create_campaign(:'brand', 'Last year', 'awareness', 100, 'EUR', now() - interval '1 year',
                                now() - interval '11 months', '{"domains": {"A": 1}}', :'creatives') as old \gset
select is(pg_temp.refusal(format($$select companon.transition_campaign(%L, 'submit')$$, :'old')), '55000 campaign_ended',
          'nor one whose schedule has ended');

-- The schedule ends: the job completes running campaigns --------------------------------------------------
select pg_temp.in_state('active') as ending, pg_temp.in_state('paused') as ending_paused, pg_temp.in_state('in_review') as waiting \gset
-- Time passes (the test moves the schedules back instead).
update companon.campaigns set starts_at = now() - interval '2 days', ends_at = now() - interval '1 day'
where id in (:'ending', :'ending_paused', :'waiting');
select is(pg_temp.refusal(format($$select companon.transition_campaign(%L, 'approve')$$, :'waiting')), '55000 campaign_ended',
          'a campaign whose schedule ended cannot be approved');
select cmp_ok(companon_private.complete_ended(), '>=', 2, 'the job completes the campaigns that ended');
select is((select array_agg(state order by state) from companon.campaigns where id in (:'ending', :'ending_paused', :'waiting')),
          array['completed', 'completed', 'in_review'], 'the active and the paused one; one in review waits for its reviewer');
select is((select row(t.actor, t.actor_id, t.reason, e.kind, e.payload ->> 'from_state')::text
           from companon.campaign_transitions as t join public.passport_entries as e on e.id = t.passport_entry_id
           where t.campaign_id = :'ending_paused' order by t.id desc limit 1),
          row('platform', null::uuid, 'the schedule ended', 'companon.campaign_completed', 'paused')::text,
          'recorded as the platform''s, with its Passport entry');
select is(companon_private.complete_ended(), 0, 'a second run finds nothing');
select is((select count(*)::int from cron.job where jobname = 'companon-complete-ended' and schedule = '* * * * *'), 1,
          'the job runs every minute');

select * from finish();
rollback;
