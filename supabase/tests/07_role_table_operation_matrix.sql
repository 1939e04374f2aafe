-- Role x table x operation matrix: select, insert, update and delete on
-- tenant_profiles, tenant_changes, campaigns, participant_sessions,
-- usage_events, the campaign_assignments and stakeholder_sessions views and
-- the control plane's private.cloudflare_calls (with the function that writes
-- it, spend_cloudflare_calls()), run as each API role with the JWT claims
-- PostgREST would set:
--   anon            nothing but the public columns of an active tenant the
--                   request names (x-tenant-lookup), and the hashes and
--                   times of the tenant change feed, through
--                   tenant_changes_since();
--   authenticated   the same public view of tenants and of the feed, plus its
--                   own tenant's campaigns, sessions and usage, and nobody
--                   else's;
--   service_role    everything.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(116);

-- Fixture. Alpha and Beta each own a tenant with a campaign, a session and a
-- usage event. Sam (staff) owns a campaign inside Alpha's tenant but no tenant.
insert into auth.users (id, email) values
  ('a7000000-0000-4000-8000-000000000001', 'alpha@matrix.test'),
  ('b7000000-0000-4000-8000-000000000002', 'beta@matrix.test'),
  ('e7000000-0000-4000-8000-000000000005', 'sam@matrix.test');

insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config, email_config, custom_domain)
select t.id, t.user_id, t.slug, t.display_name,
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb,
  '{"replyTo":"owner@matrix.test"}'::jsonb, t.domain
from (values
  ('a7000000-0000-4000-8000-0000000000a1'::uuid, 'a7000000-0000-4000-8000-000000000001'::uuid, 'm7-alpha', 'Alpha', 'alpha.matrix.test'),
  ('b7000000-0000-4000-8000-0000000000b1'::uuid, 'b7000000-0000-4000-8000-000000000002'::uuid, 'm7-beta', 'Beta', 'beta.matrix.test')
) as t (id, user_id, slug, display_name, domain);

insert into public.campaigns (id, name, owner_id, tenant_id) values
  ('a7000000-0000-4000-8000-0000000000c1', 'Alpha campaign', 'a7000000-0000-4000-8000-000000000001', 'a7000000-0000-4000-8000-0000000000a1'),
  ('b7000000-0000-4000-8000-0000000000c2', 'Beta campaign', 'b7000000-0000-4000-8000-000000000002', 'b7000000-0000-4000-8000-0000000000b1'),
  ('e7000000-0000-4000-8000-0000000000c5', 'Sam campaign', 'e7000000-0000-4000-8000-000000000005', 'a7000000-0000-4000-8000-0000000000a1');

insert into public.participant_sessions (id, campaign_id, tenant_id, participant_email) values
  ('a7000000-0000-4000-8000-0000000000d1', 'a7000000-0000-4000-8000-0000000000c1', 'a7000000-0000-4000-8000-0000000000a1', 'p1@matrix.test'),
  ('b7000000-0000-4000-8000-0000000000d2', 'b7000000-0000-4000-8000-0000000000c2', 'b7000000-0000-4000-8000-0000000000b1', 'p2@matrix.test'),
  ('e7000000-0000-4000-8000-0000000000d5', 'e7000000-0000-4000-8000-0000000000c5', 'a7000000-0000-4000-8000-0000000000a1', 'p5@matrix.test');

insert into public.usage_events (id, tenant_id, event_type) values
  ('a7000000-0000-4000-8000-0000000000e1', 'a7000000-0000-4000-8000-0000000000a1', 'assessment.completed'),
  ('b7000000-0000-4000-8000-0000000000e2', 'b7000000-0000-4000-8000-0000000000b1', 'assessment.completed');

-- The change feed records the two tenants now rather than at commit, which a
-- rolled-back test never reaches.
set constraints public.tenant_profiles_record_change immediate;

-------------------------------------------------------------------------------
-- anon
-------------------------------------------------------------------------------
select tests.authenticate_as_anon();

-- tenant_profiles
select is_empty(
  $$ select slug from public.tenant_profiles $$,
  'anon: select tenant_profiles naming no tenant returns nothing'
);
set local request.headers to '{"x-tenant-lookup":"slug:m7-beta"}';
select results_eq(
  $$ select slug, display_name, custom_domain from public.tenant_profiles $$,
  $$ values ('m7-beta', 'Beta', 'beta.matrix.test') $$,
  'anon: select public columns of tenant_profiles returns the tenant the request names'
);
set local request.headers to '{}';
select throws_ok($$ insert into public.tenant_profiles (slug, display_name, brand_config) values ('m7-x', 'X', '{}') $$,
  '42501', 'permission denied for table tenant_profiles', 'anon: insert tenant_profiles is denied');
select throws_ok($$ update public.tenant_profiles set display_name = 'X' $$,
  '42501', 'permission denied for table tenant_profiles', 'anon: update tenant_profiles is denied');
select throws_ok($$ delete from public.tenant_profiles $$,
  '42501', 'permission denied for table tenant_profiles', 'anon: delete tenant_profiles is denied');

-- campaigns
select throws_ok($$ select id from public.campaigns $$,
  '42501', 'permission denied for table campaigns', 'anon: select campaigns is denied');
select throws_ok($$ insert into public.campaigns (name, owner_id) values ('X', 'a7000000-0000-4000-8000-000000000001') $$,
  '42501', 'permission denied for table campaigns', 'anon: insert campaigns is denied');
select throws_ok($$ update public.campaigns set name = 'X' $$,
  '42501', 'permission denied for table campaigns', 'anon: update campaigns is denied');
select throws_ok($$ delete from public.campaigns $$,
  '42501', 'permission denied for table campaigns', 'anon: delete campaigns is denied');

-- participant_sessions
select throws_ok($$ select id from public.participant_sessions $$,
  '42501', 'permission denied for table participant_sessions', 'anon: select participant_sessions is denied');
select throws_ok($$ insert into public.participant_sessions (campaign_id, participant_email) values ('a7000000-0000-4000-8000-0000000000c1', 'x@matrix.test') $$,
  '42501', 'permission denied for table participant_sessions', 'anon: insert participant_sessions is denied');
select throws_ok($$ update public.participant_sessions set client_status = 'started' $$,
  '42501', 'permission denied for table participant_sessions', 'anon: update participant_sessions is denied');
select throws_ok($$ delete from public.participant_sessions $$,
  '42501', 'permission denied for table participant_sessions', 'anon: delete participant_sessions is denied');

-- usage_events
select throws_ok($$ select id from public.usage_events $$,
  '42501', 'permission denied for table usage_events', 'anon: select usage_events is denied');
select throws_ok($$ insert into public.usage_events (tenant_id, event_type) values ('a7000000-0000-4000-8000-0000000000a1', 'x') $$,
  '42501', 'permission denied for table usage_events', 'anon: insert usage_events is denied');
select throws_ok($$ update public.usage_events set tokens_used = 1 $$,
  '42501', 'permission denied for table usage_events', 'anon: update usage_events is denied');
select throws_ok($$ delete from public.usage_events $$,
  '42501', 'permission denied for table usage_events', 'anon: delete usage_events is denied');

-- campaign_assignments view
select throws_ok($$ select id from public.campaign_assignments $$,
  '42501', 'permission denied for view campaign_assignments', 'anon: select campaign_assignments is denied');
select throws_ok($$ insert into public.campaign_assignments (campaign_id, participant_email) values ('a7000000-0000-4000-8000-0000000000c1', 'x@matrix.test') $$,
  '42501', 'permission denied for view campaign_assignments', 'anon: insert campaign_assignments is denied');
select throws_ok($$ update public.campaign_assignments set client_status = 'started' $$,
  '42501', 'permission denied for view campaign_assignments', 'anon: update campaign_assignments is denied');
select throws_ok($$ delete from public.campaign_assignments $$,
  '42501', 'permission denied for view campaign_assignments', 'anon: delete campaign_assignments is denied');

-- stakeholder_sessions view
select throws_ok($$ select id from public.stakeholder_sessions $$,
  '42501', 'permission denied for view stakeholder_sessions', 'anon: select stakeholder_sessions is denied');
select throws_ok($$ insert into public.stakeholder_sessions (campaign_id, participant_email) values ('a7000000-0000-4000-8000-0000000000c1', 'x@matrix.test') $$,
  '42501', 'permission denied for view stakeholder_sessions', 'anon: insert stakeholder_sessions is denied');
select throws_ok($$ update public.stakeholder_sessions set client_status = 'started' $$,
  '42501', 'permission denied for view stakeholder_sessions', 'anon: update stakeholder_sessions is denied');
select throws_ok($$ delete from public.stakeholder_sessions $$,
  '42501', 'permission denied for view stakeholder_sessions', 'anon: delete stakeholder_sessions is denied');

-- tenant_changes
select results_eq(
  $$ select count(*)::int from jsonb_array_elements(public.tenant_changes_since(now())) as c
     where c ->> 'tenant_hash' in (select encode(sha256(convert_to(id::text, 'UTF8')), 'hex')
       from (values ('a7000000-0000-4000-8000-0000000000a1'::uuid), ('b7000000-0000-4000-8000-0000000000b1'::uuid)) as t (id)) $$,
  $$ values (2) $$,
  'anon: tenant_changes_since() returns the feed, without naming a tenant'
);
select throws_ok($$ select tenant_hash, changed_at from public.tenant_changes $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()', 'anon: reading tenant_changes itself is refused');
select throws_ok($$ select id from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'anon: select id of tenant_changes is denied');
select throws_ok($$ insert into public.tenant_changes (tenant_hash) values (repeat('7', 64)) $$,
  '42501', 'permission denied for table tenant_changes', 'anon: insert tenant_changes is denied');
select throws_ok($$ update public.tenant_changes set changed_at = now() $$,
  '42501', 'permission denied for table tenant_changes', 'anon: update tenant_changes is denied');
select throws_ok($$ delete from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'anon: delete tenant_changes is denied');

-- cloudflare_calls (the control plane's)
select throws_ok($$ select calls from private.cloudflare_calls $$,
  '42501', 'permission denied for table cloudflare_calls', 'anon: select cloudflare_calls is denied');
select throws_ok($$ insert into private.cloudflare_calls (kind, minute, calls) values ('webhook', now(), 0) $$,
  '42501', 'permission denied for table cloudflare_calls', 'anon: insert cloudflare_calls is denied');
select throws_ok($$ update private.cloudflare_calls set calls = 0 $$,
  '42501', 'permission denied for table cloudflare_calls', 'anon: update cloudflare_calls is denied');
select throws_ok($$ delete from private.cloudflare_calls $$,
  '42501', 'permission denied for table cloudflare_calls', 'anon: delete cloudflare_calls is denied');
select throws_ok($$ select public.spend_cloudflare_calls('webhook', 1, 25) $$,
  '42501', 'permission denied for function spend_cloudflare_calls', 'anon: spend_cloudflare_calls() is denied');

select tests.clear_authentication();

-------------------------------------------------------------------------------
-- authenticated: Alpha, owner of tenant m7-alpha
-------------------------------------------------------------------------------
select tests.authenticate_as('a7000000-0000-4000-8000-000000000001');

-- tenant_profiles
select is_empty(
  $$ select slug from public.tenant_profiles $$,
  'owner: select tenant_profiles naming no tenant returns nothing, not even its own'
);
set local request.headers to '{"x-tenant-lookup":"domain:beta.matrix.test"}';
select results_eq(
  $$ select slug, display_name, custom_domain from public.tenant_profiles $$,
  $$ values ('m7-beta', 'Beta', 'beta.matrix.test') $$,
  'owner: select public columns of tenant_profiles returns the tenant the request names'
);
set local request.headers to '{}';
select throws_ok($$ select email_config from public.tenant_profiles where slug = 'm7-beta' $$,
  '42501', 'permission denied for table tenant_profiles', 'owner: select private columns of tenant_profiles is denied');
select throws_ok($$ insert into public.tenant_profiles (slug, display_name, brand_config) values ('m7-x', 'X', '{}') $$,
  '42501', 'permission denied for table tenant_profiles', 'owner: insert tenant_profiles is denied');
select throws_ok($$ update public.tenant_profiles set display_name = 'X' $$,
  '42501', 'permission denied for table tenant_profiles', 'owner: update tenant_profiles is denied');
select throws_ok($$ delete from public.tenant_profiles $$,
  '42501', 'permission denied for table tenant_profiles', 'owner: delete tenant_profiles is denied');

-- campaigns
select results_eq(
  $$ select name from public.campaigns where id::text like '_7000000-%' order by name $$,
  $$ values ('Alpha campaign'), ('Sam campaign') $$,
  'owner: select campaigns returns its own and its tenant''s campaigns'
);
select lives_ok(
  $$ insert into public.campaigns (name, owner_id, tenant_id) values ('Alpha second', 'a7000000-0000-4000-8000-000000000001', 'a7000000-0000-4000-8000-0000000000a1') $$,
  'owner: insert a campaign in its own tenant'
);
select throws_ok(
  $$ insert into public.campaigns (name, owner_id, tenant_id) values ('Sneaky', 'a7000000-0000-4000-8000-000000000001', 'b7000000-0000-4000-8000-0000000000b1') $$,
  '42501', 'new row violates row-level security policy for table "campaigns"',
  'owner: insert a campaign into another tenant is denied'
);
select throws_ok(
  $$ insert into public.campaigns (name, owner_id) values ('Impostor', 'b7000000-0000-4000-8000-000000000002') $$,
  '42501', 'new row violates row-level security policy for table "campaigns"',
  'owner: insert a campaign on behalf of another user is denied'
);
select is_empty(
  $$ update public.campaigns set name = 'Hacked' where id = 'b7000000-0000-4000-8000-0000000000c2' returning id $$,
  'owner: update another tenant''s campaign changes nothing'
);
select throws_ok(
  $$ update public.campaigns set tenant_id = 'b7000000-0000-4000-8000-0000000000b1' where id = 'a7000000-0000-4000-8000-0000000000c1' $$,
  '42501', 'new row violates row-level security policy for table "campaigns"',
  'owner: moving its campaign into another tenant is denied'
);
select is_empty(
  $$ delete from public.campaigns where id = 'b7000000-0000-4000-8000-0000000000c2' returning id $$,
  'owner: delete another tenant''s campaign changes nothing'
);
select throws_ok($$ truncate public.campaigns $$,
  '42501', 'permission denied for table campaigns', 'owner: truncate campaigns is denied');

-- participant_sessions
select results_eq(
  $$ select participant_email from public.participant_sessions where id::text like '_7000000-%' order by 1 $$,
  $$ values ('p1@matrix.test'), ('p5@matrix.test') $$,
  'owner: select participant_sessions returns its campaign''s and its tenant''s sessions'
);
select lives_ok(
  $$ insert into public.participant_sessions (campaign_id, tenant_id, participant_email) values ('a7000000-0000-4000-8000-0000000000c1', 'a7000000-0000-4000-8000-0000000000a1', 'new@matrix.test') $$,
  'owner: insert a session into its own campaign and tenant'
);
select throws_ok(
  $$ insert into public.participant_sessions (campaign_id, tenant_id, participant_email) values ('a7000000-0000-4000-8000-0000000000c1', 'b7000000-0000-4000-8000-0000000000b1', 'x@matrix.test') $$,
  '42501', 'new row violates row-level security policy for table "participant_sessions"',
  'owner: insert a session into another tenant is denied'
);
select throws_ok(
  $$ insert into public.participant_sessions (campaign_id, participant_email) values ('b7000000-0000-4000-8000-0000000000c2', 'x@matrix.test') $$,
  '42501', 'new row violates row-level security policy for table "participant_sessions"',
  'owner: insert a session into another owner''s campaign is denied'
);
select is_empty(
  $$ update public.participant_sessions set client_status = 'archived' where id = 'b7000000-0000-4000-8000-0000000000d2' returning id $$,
  'owner: update another tenant''s session changes nothing'
);
select is_empty(
  $$ update public.participant_sessions set client_status = 'archived' where id = 'e7000000-0000-4000-8000-0000000000d5' returning id $$,
  'owner: a session it sees only as tenant owner is read-only'
);
select is_empty(
  $$ delete from public.participant_sessions where id = 'b7000000-0000-4000-8000-0000000000d2' returning id $$,
  'owner: delete another tenant''s session changes nothing'
);

-- usage_events
select results_eq(
  $$ select id from public.usage_events where id::text like '_7000000-%' $$,
  $$ values ('a7000000-0000-4000-8000-0000000000e1'::uuid) $$,
  'owner: select usage_events returns its own tenant''s events only'
);
select throws_ok($$ insert into public.usage_events (tenant_id, event_type) values ('a7000000-0000-4000-8000-0000000000a1', 'free.tokens') $$,
  '42501', 'permission denied for table usage_events', 'owner: insert usage_events is denied');
select throws_ok($$ update public.usage_events set tokens_used = 0 $$,
  '42501', 'permission denied for table usage_events', 'owner: update usage_events is denied');
select throws_ok($$ delete from public.usage_events $$,
  '42501', 'permission denied for table usage_events', 'owner: delete usage_events is denied');

-- campaign_assignments view
select results_eq(
  $$ select participant_email from public.campaign_assignments where id::text like '_7000000-%' order by 1 $$,
  $$ values ('p1@matrix.test'), ('p5@matrix.test') $$,
  'owner: select campaign_assignments applies the same RLS as the table'
);
select throws_ok(
  $$ insert into public.campaign_assignments (campaign_id, tenant_id, participant_email) values ('a7000000-0000-4000-8000-0000000000c1', 'b7000000-0000-4000-8000-0000000000b1', 'x@matrix.test') $$,
  '42501', 'new row violates row-level security policy for table "participant_sessions"',
  'owner: insert through campaign_assignments into another tenant is denied'
);
select is_empty(
  $$ update public.campaign_assignments set client_status = 'archived' where id = 'b7000000-0000-4000-8000-0000000000d2' returning id $$,
  'owner: update another tenant''s session through campaign_assignments changes nothing'
);
select is_empty(
  $$ delete from public.campaign_assignments where id = 'b7000000-0000-4000-8000-0000000000d2' returning id $$,
  'owner: delete another tenant''s session through campaign_assignments changes nothing'
);

-- stakeholder_sessions view
select results_eq(
  $$ select participant_email from public.stakeholder_sessions where id::text like '_7000000-%' order by 1 $$,
  $$ values ('p1@matrix.test'), ('p5@matrix.test') $$,
  'owner: select stakeholder_sessions applies the same RLS as the table'
);
select throws_ok(
  $$ insert into public.stakeholder_sessions (campaign_id, tenant_id, participant_email) values ('a7000000-0000-4000-8000-0000000000c1', 'b7000000-0000-4000-8000-0000000000b1', 'x@matrix.test') $$,
  '42501', 'new row violates row-level security policy for table "participant_sessions"',
  'owner: insert through stakeholder_sessions into another tenant is denied'
);
select is_empty(
  $$ update public.stakeholder_sessions set client_status = 'archived' where id = 'b7000000-0000-4000-8000-0000000000d2' returning id $$,
  'owner: update another tenant''s session through stakeholder_sessions changes nothing'
);
select is_empty(
  $$ delete from public.stakeholder_sessions where id = 'b7000000-0000-4000-8000-0000000000d2' returning id $$,
  'owner: delete another tenant''s session through stakeholder_sessions changes nothing'
);

-- tenant_changes
select results_eq(
  $$ select count(*)::int from jsonb_array_elements(public.tenant_changes_since(now())) as c
     where c ->> 'tenant_hash' in (select encode(sha256(convert_to(id::text, 'UTF8')), 'hex')
       from (values ('a7000000-0000-4000-8000-0000000000a1'::uuid), ('b7000000-0000-4000-8000-0000000000b1'::uuid)) as t (id)) $$,
  $$ values (2) $$,
  'owner: tenant_changes_since() returns the feed, without naming a tenant'
);
select throws_ok($$ select tenant_hash, changed_at from public.tenant_changes $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()', 'owner: reading tenant_changes itself is refused');
select throws_ok($$ select id from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'owner: select id of tenant_changes is denied');
select throws_ok($$ insert into public.tenant_changes (tenant_hash) values (repeat('7', 64)) $$,
  '42501', 'permission denied for table tenant_changes', 'owner: insert tenant_changes is denied');
select throws_ok($$ update public.tenant_changes set changed_at = now() $$,
  '42501', 'permission denied for table tenant_changes', 'owner: update tenant_changes is denied');
select throws_ok($$ delete from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'owner: delete tenant_changes is denied');

-- cloudflare_calls (the control plane's)
select throws_ok($$ select calls from private.cloudflare_calls $$,
  '42501', 'permission denied for table cloudflare_calls', 'owner: select cloudflare_calls is denied');
select throws_ok($$ insert into private.cloudflare_calls (kind, minute, calls) values ('webhook', now(), 0) $$,
  '42501', 'permission denied for table cloudflare_calls', 'owner: insert cloudflare_calls is denied');
select throws_ok($$ update private.cloudflare_calls set calls = 0 $$,
  '42501', 'permission denied for table cloudflare_calls', 'owner: update cloudflare_calls is denied');
select throws_ok($$ delete from private.cloudflare_calls $$,
  '42501', 'permission denied for table cloudflare_calls', 'owner: delete cloudflare_calls is denied');
select throws_ok($$ select public.spend_cloudflare_calls('webhook', 1, 25) $$,
  '42501', 'permission denied for function spend_cloudflare_calls', 'owner: spend_cloudflare_calls() is denied');

select tests.clear_authentication();

-------------------------------------------------------------------------------
-- authenticated: Beta, owner of the other tenant, sees none of Alpha's rows
-------------------------------------------------------------------------------
select tests.authenticate_as('b7000000-0000-4000-8000-000000000002');

select results_eq(
  $$ select name from public.campaigns where id::text like '_7000000-%' $$,
  $$ values ('Beta campaign') $$,
  'other owner: select campaigns returns only its own'
);
select results_eq(
  $$ select participant_email from public.participant_sessions where id::text like '_7000000-%' $$,
  $$ values ('p2@matrix.test') $$,
  'other owner: select participant_sessions returns only its own'
);
select results_eq(
  $$ select id from public.usage_events where id::text like '_7000000-%' $$,
  $$ values ('b7000000-0000-4000-8000-0000000000e2'::uuid) $$,
  'other owner: select usage_events returns only its own'
);
select results_eq(
  $$ select participant_email from public.campaign_assignments where id::text like '_7000000-%' $$,
  $$ values ('p2@matrix.test') $$,
  'other owner: select campaign_assignments returns only its own'
);
select results_eq(
  $$ select participant_email from public.stakeholder_sessions where id::text like '_7000000-%' $$,
  $$ values ('p2@matrix.test') $$,
  'other owner: select stakeholder_sessions returns only its own'
);

select tests.clear_authentication();

-------------------------------------------------------------------------------
-- authenticated: Sam, who owns a campaign in Alpha's tenant but no tenant
-------------------------------------------------------------------------------
select tests.authenticate_as('e7000000-0000-4000-8000-000000000005');

select results_eq(
  $$ select name from public.campaigns where id::text like '_7000000-%' $$,
  $$ values ('Sam campaign') $$,
  'campaign owner without a tenant: sees only its own campaign'
);
select results_eq(
  $$ select participant_email from public.participant_sessions where id::text like '_7000000-%' $$,
  $$ values ('p5@matrix.test') $$,
  'campaign owner without a tenant: sees only its own campaign''s sessions'
);
select is_empty(
  $$ select id from public.usage_events $$,
  'campaign owner without a tenant: sees no usage events'
);
select throws_ok(
  $$ insert into public.campaigns (name, owner_id, tenant_id) values ('Sam second', 'e7000000-0000-4000-8000-000000000005', 'a7000000-0000-4000-8000-0000000000a1') $$,
  '42501', 'new row violates row-level security policy for table "campaigns"',
  'campaign owner without a tenant: cannot place a new campaign in a tenant it does not own'
);

select tests.clear_authentication();

-------------------------------------------------------------------------------
-- service_role
-------------------------------------------------------------------------------
select tests.authenticate_as_service_role();

-- tenant_profiles
select results_eq(
  $$ select slug, user_id, email_config ->> 'replyTo', subscription_tier, is_active from public.tenant_profiles where slug = 'm7-beta' $$,
  $$ values ('m7-beta', 'b7000000-0000-4000-8000-000000000002'::uuid, 'owner@matrix.test', 'free', true) $$,
  'service_role: select every column of tenant_profiles'
);
select results_eq(
  $$ select slug from public.tenant_profiles where slug like 'm7-%' order by slug $$,
  $$ values ('m7-alpha'), ('m7-beta') $$,
  'service_role: select tenant_profiles lists every tenant without naming one'
);
select lives_ok(
  $$ insert into public.tenant_profiles (id, slug, display_name, brand_config) select 'f7000000-0000-4000-8000-0000000000f1', 'm7-gamma', 'Gamma', brand_config from public.tenant_profiles where slug = 'm7-alpha' $$,
  'service_role: insert tenant_profiles'
);
select lives_ok(
  $$ update public.tenant_profiles set is_active = false, subscription_tier = 'enterprise' where slug = 'm7-gamma' $$,
  'service_role: update tenant_profiles'
);
select lives_ok(
  $$ delete from public.tenant_profiles where slug = 'm7-gamma' $$,
  'service_role: delete tenant_profiles'
);

-- campaigns
select results_eq(
  $$ select count(*)::int from public.campaigns where id::text like '_7000000-%' $$,
  $$ values (3) $$,
  'service_role: select every campaign'
);
select lives_ok(
  $$ insert into public.campaigns (id, name, owner_id, tenant_id) values ('f7000000-0000-4000-8000-0000000000c9', 'Managed', 'b7000000-0000-4000-8000-000000000002', 'a7000000-0000-4000-8000-0000000000a1') $$,
  'service_role: insert campaigns'
);
select lives_ok(
  $$ update public.campaigns set results_disclosure = 'summary' where id = 'f7000000-0000-4000-8000-0000000000c9' $$,
  'service_role: update campaigns'
);
select lives_ok(
  $$ delete from public.campaigns where id = 'f7000000-0000-4000-8000-0000000000c9' $$,
  'service_role: delete campaigns'
);

-- participant_sessions
select results_eq(
  $$ select count(*)::int from public.participant_sessions where id::text like '_7000000-%' $$,
  $$ values (3) $$,
  'service_role: select every participant session'
);
select lives_ok(
  $$ insert into public.participant_sessions (id, campaign_id, tenant_id, participant_email) values ('f7000000-0000-4000-8000-0000000000d9', 'b7000000-0000-4000-8000-0000000000c2', 'a7000000-0000-4000-8000-0000000000a1', 'managed@matrix.test') $$,
  'service_role: insert participant_sessions'
);
select lives_ok(
  $$ update public.participant_sessions set client_status = 'converted' where id = 'f7000000-0000-4000-8000-0000000000d9' $$,
  'service_role: update participant_sessions'
);
select lives_ok(
  $$ delete from public.participant_sessions where id = 'f7000000-0000-4000-8000-0000000000d9' $$,
  'service_role: delete participant_sessions'
);

-- usage_events
select results_eq(
  $$ select count(*)::int from public.usage_events where id::text like '_7000000-%' $$,
  $$ values (2) $$,
  'service_role: select every usage event'
);
select lives_ok(
  $$ insert into public.usage_events (id, tenant_id, event_type, tokens_used) values ('f7000000-0000-4000-8000-0000000000e9', 'b7000000-0000-4000-8000-0000000000b1', 'ai.report', 10) $$,
  'service_role: insert usage_events'
);
select lives_ok(
  $$ update public.usage_events set tokens_used = 11 where id = 'f7000000-0000-4000-8000-0000000000e9' $$,
  'service_role: update usage_events'
);
select lives_ok(
  $$ delete from public.usage_events where id = 'f7000000-0000-4000-8000-0000000000e9' $$,
  'service_role: delete usage_events'
);

-- tenant_changes
select results_eq(
  $$ select count(*)::int from public.tenant_changes
     where id is not null and changed_at >= now() and tenant_hash in (select encode(sha256(convert_to(id::text, 'UTF8')), 'hex')
       from (values ('a7000000-0000-4000-8000-0000000000a1'::uuid), ('b7000000-0000-4000-8000-0000000000b1'::uuid)) as t (id)) $$,
  $$ values (2) $$,
  'service_role: select every column of tenant_changes'
);
select lives_ok(
  $$ insert into public.tenant_changes (tenant_hash) values (repeat('7', 64)) $$,
  'service_role: insert tenant_changes'
);
select lives_ok(
  $$ update public.tenant_changes set changed_at = changed_at - interval '1 minute' where tenant_hash = repeat('7', 64) $$,
  'service_role: update tenant_changes'
);
select lives_ok(
  $$ delete from public.tenant_changes where tenant_hash = repeat('7', 64) $$,
  'service_role: delete tenant_changes'
);

-- cloudflare_calls
select lives_ok(
  $$ insert into private.cloudflare_calls (kind, minute, calls) values ('matrix', date_trunc('minute', now()), 1) $$,
  'service_role: insert cloudflare_calls'
);
select results_eq(
  $$ select calls from private.cloudflare_calls where kind = 'matrix' $$,
  $$ values (1) $$,
  'service_role: select cloudflare_calls'
);
select lives_ok(
  $$ update private.cloudflare_calls set calls = 2 where kind = 'matrix' $$,
  'service_role: update cloudflare_calls'
);
select lives_ok(
  $$ delete from private.cloudflare_calls where kind = 'matrix' $$,
  'service_role: delete cloudflare_calls'
);

-- compatibility views
select results_eq(
  $$ select count(*)::int from public.campaign_assignments where id::text like '_7000000-%' $$,
  $$ values (3) $$,
  'service_role: select every row of campaign_assignments'
);
select results_eq(
  $$ select count(*)::int from public.stakeholder_sessions where id::text like '_7000000-%' $$,
  $$ values (3) $$,
  'service_role: select every row of stakeholder_sessions'
);

select tests.clear_authentication();

select * from finish();
rollback;
