-- Defect (issue 9, finding 7): access_token was unique and writable by
-- authenticated, so a signed-in user could test whether another tenant's
-- token exists (an insert with that token answered 409 instead of 201, with
-- on_conflict=access_token too). Now the database generates every token:
-- anon and authenticated cannot supply one or change one, on the table or
-- through the compatibility views, and always get the same answer, whether
-- or not the token exists. Trusted server code (service_role, postgres) may
-- still set one, e.g. when importing sessions.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(39);

-- Fixture: Alpha and Beta each own a tenant with a campaign and a session;
-- Beta's session has a token Alpha might try to probe.
insert into auth.users (id, email) values
  ('a1200000-0000-4000-8000-000000000001', 'alpha@tokens.test'),
  ('b1200000-0000-4000-8000-000000000002', 'beta@tokens.test');

insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config)
select t.id, t.user_id, t.slug, t.slug,
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb
from (values
  ('a1200000-0000-4000-8000-0000000000a1'::uuid, 'a1200000-0000-4000-8000-000000000001'::uuid, 't12-alpha'),
  ('b1200000-0000-4000-8000-0000000000b1'::uuid, 'b1200000-0000-4000-8000-000000000002'::uuid, 't12-beta')
) as t (id, user_id, slug);

insert into public.campaigns (id, name, owner_id, tenant_id) values
  ('a1200000-0000-4000-8000-0000000000c1', 'Alpha campaign', 'a1200000-0000-4000-8000-000000000001', 'a1200000-0000-4000-8000-0000000000a1'),
  ('b1200000-0000-4000-8000-0000000000c2', 'Beta campaign', 'b1200000-0000-4000-8000-000000000002', 'b1200000-0000-4000-8000-0000000000b1');

insert into public.participant_sessions (id, campaign_id, tenant_id, participant_email) values
  ('a1200000-0000-4000-8000-0000000000d1', 'a1200000-0000-4000-8000-0000000000c1', 'a1200000-0000-4000-8000-0000000000a1', 'a1@tokens.test');

-- The superuser (as a migration or an import would) sets Beta's token.
insert into public.participant_sessions (id, campaign_id, tenant_id, participant_email, access_token) values
  ('b1200000-0000-4000-8000-0000000000d2', 'b1200000-0000-4000-8000-0000000000c2', 'b1200000-0000-4000-8000-0000000000b1', 'b2@tokens.test',
   'beta0000000000000000000000000000000000000000token');

-------------------------------------------------------------------------------
-- Configuration
-------------------------------------------------------------------------------
select col_hasnt_default('public', 'participant_sessions', 'access_token',
  'access_token has no default: the trigger tells a supplied token from none');
select col_not_null('public', 'participant_sessions', 'access_token', 'every session has an access token');
select col_is_unique('public', 'participant_sessions', 'access_token', 'access tokens are unique');
select has_trigger('public', 'participant_sessions', 'participant_sessions_generate_access_token',
  'participant_sessions has the access token trigger');
select trigger_is('public', 'participant_sessions', 'participant_sessions_generate_access_token',
  'public', 'generate_participant_access_token', 'the trigger calls public.generate_participant_access_token()');
select isnt_definer('public', 'generate_participant_access_token', array[]::text[],
  'generate_participant_access_token() is security invoker');
select ok(
  (select 'search_path=""' = any (proconfig) from pg_catalog.pg_proc where oid = to_regprocedure('public.generate_participant_access_token()')),
  'generate_participant_access_token() runs with an empty search_path'
);
select function_privs_are('public', 'generate_participant_access_token', array[]::text[], 'anon', array[]::text[],
  'anon cannot execute generate_participant_access_token()');
select function_privs_are('public', 'generate_participant_access_token', array[]::text[], 'authenticated', array[]::text[],
  'authenticated cannot execute generate_participant_access_token()');
select is(
  (select access_token from public.participant_sessions where id = 'b1200000-0000-4000-8000-0000000000d2'),
  'beta0000000000000000000000000000000000000000token',
  'the superuser may set a token'
);

-------------------------------------------------------------------------------
-- authenticated: Alpha, owner of tenant t12-alpha
-------------------------------------------------------------------------------
select tests.authenticate_as('a1200000-0000-4000-8000-000000000001');

-- The database generates the token.
select lives_ok(
  $$ insert into public.participant_sessions (id, campaign_id, tenant_id, participant_email)
     values ('a1200000-0000-4000-8000-0000000000d3', 'a1200000-0000-4000-8000-0000000000c1', 'a1200000-0000-4000-8000-0000000000a1', 'a3@tokens.test') $$,
  'owner: insert a session without a token'
);
select matches(
  (select access_token from public.participant_sessions where id = 'a1200000-0000-4000-8000-0000000000d3'),
  '^[0-9a-f]{48}$',
  'owner: the new session gets a generated token of 48 hex digits'
);
select isnt(
  (select access_token from public.participant_sessions where id = 'a1200000-0000-4000-8000-0000000000d3'),
  (select access_token from public.participant_sessions where id = 'a1200000-0000-4000-8000-0000000000d1'),
  'owner: each session gets its own token'
);
select lives_ok(
  $$ insert into public.participant_sessions (id, campaign_id, participant_email, access_token)
     values ('a1200000-0000-4000-8000-0000000000d4', 'a1200000-0000-4000-8000-0000000000c1', 'a4@tokens.test', null) $$,
  'owner: an explicit null token is no token: the database generates one'
);
select matches(
  (select access_token from public.participant_sessions where id = 'a1200000-0000-4000-8000-0000000000d4'),
  '^[0-9a-f]{48}$',
  'owner: the session inserted with a null token got a generated one'
);

-- A chosen token is refused, whether or not another tenant holds it.
select throws_ok(
  $$ insert into public.participant_sessions (campaign_id, participant_email, access_token)
     values ('a1200000-0000-4000-8000-0000000000c1', 'x@tokens.test', 'a-token-nobody-has') $$,
  '42501', 'access_token is generated by the database',
  'owner: insert with a chosen token is denied'
);
select throws_ok(
  $$ insert into public.participant_sessions (campaign_id, participant_email, access_token)
     values ('a1200000-0000-4000-8000-0000000000c1', 'x@tokens.test', 'beta0000000000000000000000000000000000000000token') $$,
  '42501', 'access_token is generated by the database',
  'owner: insert with another tenant''s token is denied with the same error (no 409)'
);
select throws_ok(
  $$ insert into public.participant_sessions (campaign_id, participant_email, access_token)
     values ('a1200000-0000-4000-8000-0000000000c1', 'x@tokens.test', 'beta0000000000000000000000000000000000000000token')
     on conflict (access_token) do nothing $$,
  '42501', 'access_token is generated by the database',
  'owner: upsert on_conflict=access_token (ignore duplicates) cannot probe another tenant''s token'
);
select throws_ok(
  $$ insert into public.participant_sessions (campaign_id, participant_email, access_token)
     values ('a1200000-0000-4000-8000-0000000000c1', 'x@tokens.test', 'beta0000000000000000000000000000000000000000token')
     on conflict (access_token) do update set client_status = 'started' $$,
  '42501', 'access_token is generated by the database',
  'owner: upsert on_conflict=access_token (merge duplicates) cannot probe another tenant''s token'
);
select lives_ok(
  $$ insert into public.participant_sessions (id, campaign_id, participant_email)
     values ('a1200000-0000-4000-8000-0000000000d5', 'a1200000-0000-4000-8000-0000000000c1', 'a5@tokens.test')
     on conflict (access_token) do nothing $$,
  'owner: upsert on_conflict=access_token without a token inserts a new session'
);
select matches(
  (select access_token from public.participant_sessions where id = 'a1200000-0000-4000-8000-0000000000d5'),
  '^[0-9a-f]{48}$',
  'owner: the upserted session got a generated token'
);
select is_empty(
  $$ update public.participant_sessions set client_status = 'started'
     where access_token = 'beta0000000000000000000000000000000000000000token' returning id $$,
  'owner: an update filtered on another tenant''s token finds nothing'
);

-- An existing token cannot be changed.
select throws_ok(
  $$ update public.participant_sessions set access_token = 'a-token-of-my-choice' where id = 'a1200000-0000-4000-8000-0000000000d1' $$,
  '42501', 'access_token is generated by the database',
  'owner: update of access_token is denied'
);
select throws_ok(
  $$ update public.participant_sessions set access_token = null where id = 'a1200000-0000-4000-8000-0000000000d1' $$,
  '42501', 'access_token is generated by the database',
  'owner: clearing access_token is denied'
);
select lives_ok(
  $$ update public.participant_sessions set access_token = access_token, client_status = 'contacted' where id = 'a1200000-0000-4000-8000-0000000000d1' $$,
  'owner: an update that sends the token unchanged is allowed'
);

-- The same through the compatibility views.
select throws_ok(
  $$ insert into public.campaign_assignments (campaign_id, participant_email, access_token)
     values ('a1200000-0000-4000-8000-0000000000c1', 'x@tokens.test', 'beta0000000000000000000000000000000000000000token') $$,
  '42501', 'access_token is generated by the database',
  'owner: insert with a chosen token through campaign_assignments is denied'
);
select lives_ok(
  $$ insert into public.campaign_assignments (id, campaign_id, participant_email)
     values ('a1200000-0000-4000-8000-0000000000d6', 'a1200000-0000-4000-8000-0000000000c1', 'a6@tokens.test') $$,
  'owner: insert without a token through campaign_assignments'
);
select matches(
  (select access_token from public.campaign_assignments where id = 'a1200000-0000-4000-8000-0000000000d6'),
  '^[0-9a-f]{48}$',
  'owner: a session inserted through campaign_assignments gets a generated token'
);
select throws_ok(
  $$ update public.campaign_assignments set access_token = 'a-token-of-my-choice' where id = 'a1200000-0000-4000-8000-0000000000d1' $$,
  '42501', 'access_token is generated by the database',
  'owner: update of access_token through campaign_assignments is denied'
);
select throws_ok(
  $$ insert into public.stakeholder_sessions (campaign_id, participant_email, access_token)
     values ('a1200000-0000-4000-8000-0000000000c1', 'x@tokens.test', 'beta0000000000000000000000000000000000000000token')
     on conflict (access_token) do nothing $$,
  '42501', 'access_token is generated by the database',
  'owner: upsert with a chosen token through stakeholder_sessions is denied'
);
select lives_ok(
  $$ insert into public.stakeholder_sessions (id, campaign_id, participant_email)
     values ('a1200000-0000-4000-8000-0000000000d7', 'a1200000-0000-4000-8000-0000000000c1', 'a7@tokens.test') $$,
  'owner: insert without a token through stakeholder_sessions'
);
select matches(
  (select access_token from public.stakeholder_sessions where id = 'a1200000-0000-4000-8000-0000000000d7'),
  '^[0-9a-f]{48}$',
  'owner: a session inserted through stakeholder_sessions gets a generated token'
);
select throws_ok(
  $$ update public.stakeholder_sessions set access_token = 'a-token-of-my-choice' where id = 'a1200000-0000-4000-8000-0000000000d1' $$,
  '42501', 'access_token is generated by the database',
  'owner: update of access_token through stakeholder_sessions is denied'
);

select tests.clear_authentication();

select is(
  (select access_token from public.participant_sessions where id = 'b1200000-0000-4000-8000-0000000000d2'),
  'beta0000000000000000000000000000000000000000token',
  'Beta''s token is untouched by all of the above'
);

-------------------------------------------------------------------------------
-- service_role: trusted server code may still set a token (imports)
-------------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select lives_ok(
  $$ insert into public.participant_sessions (id, campaign_id, participant_email, access_token)
     values ('f1200000-0000-4000-8000-0000000000d8', 'b1200000-0000-4000-8000-0000000000c2', 'imported@tokens.test', 'imported-token-from-the-old-app') $$,
  'service_role: insert with a chosen token (an import)'
);
select is(
  (select access_token from public.participant_sessions where id = 'f1200000-0000-4000-8000-0000000000d8'),
  'imported-token-from-the-old-app',
  'service_role: the chosen token is kept'
);
select lives_ok(
  $$ update public.participant_sessions set access_token = 'rotated-token' where id = 'f1200000-0000-4000-8000-0000000000d8' $$,
  'service_role: update of access_token (a rotation)'
);
select lives_ok(
  $$ insert into public.participant_sessions (id, campaign_id, participant_email)
     values ('f1200000-0000-4000-8000-0000000000d9', 'b1200000-0000-4000-8000-0000000000c2', 'managed@tokens.test') $$,
  'service_role: insert without a token'
);
select matches(
  (select access_token from public.participant_sessions where id = 'f1200000-0000-4000-8000-0000000000d9'),
  '^[0-9a-f]{48}$',
  'service_role: a session inserted without a token gets a generated one'
);

select tests.clear_authentication();

select * from finish();
rollback;
