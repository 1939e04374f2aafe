-- Upgrade of a minimal existing database (issue 9, finding 8): after
-- tests/fixtures/minimal_app_schema.sql, where campaigns is only (id, name,
-- created_at) and campaign_assignments only (id, campaign_id, email,
-- created_at), and `supabase db push`, every row and column is still there,
-- and the baseline added what the later migrations rely on: the columns
-- (nullable where existing rows cannot be given a value), the keys and the
-- security. Runs against the upgraded minimal database only, after
-- supabase/tests/00_test_helpers.sql, with the psql variable
-- migration_versions (the versions of migrations/*.sql, comma-separated).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(30);

-------------------------------------------------------------------------------
-- Every row and every original column survived
-------------------------------------------------------------------------------
select results_eq(
  $$ select id, name, created_at from public.campaigns order by id $$,
  $$
    values
      ('3e000000-0000-4000-8000-0000000000c1'::uuid, 'Spring Pulse', '2025-03-01 09:00:00+00'::timestamptz),
      ('3e000000-0000-4000-8000-0000000000c2'::uuid, null, '2025-04-01 09:00:00+00'::timestamptz)
  $$,
  'both campaigns kept their id, name and created_at'
);
select results_eq(
  $$ select id, campaign_id, email, created_at from public.participant_sessions order by id $$,
  $$
    values
      ('3e000000-0000-4000-8000-0000000000d1'::uuid, '3e000000-0000-4000-8000-0000000000c1'::uuid, 'ana@minimal.example', '2025-03-02 10:00:00+00'::timestamptz),
      ('3e000000-0000-4000-8000-0000000000d2'::uuid, '3e000000-0000-4000-8000-0000000000c1'::uuid, 'ben@minimal.example', '2025-03-02 10:00:00+00'::timestamptz),
      ('3e000000-0000-4000-8000-0000000000d3'::uuid, '3e000000-0000-4000-8000-0000000000c2'::uuid, null, '2025-04-02 10:00:00+00'::timestamptz),
      ('3e000000-0000-4000-8000-0000000000d4'::uuid, '3e000000-0000-4000-8000-0000000000c9'::uuid, 'orphan@minimal.example', '2025-01-02 10:00:00+00'::timestamptz)
  $$,
  'all four assignments, the orphaned one included, are participant sessions with their original columns'
);
select col_is_null('public', 'campaigns', 'name', 'campaigns.name stays as it was (nullable)');
select has_view('public', 'campaign_assignments', 'campaign_assignments is now a view');
select set_eq(
  $$ select id, email from public.campaign_assignments $$,
  $$ select id, email from public.participant_sessions $$,
  'the old name still shows every session, with its original columns'
);

-------------------------------------------------------------------------------
-- What the baseline added
-------------------------------------------------------------------------------
-- Columns existing rows cannot be given a value for: nullable, and null.
select col_is_null('public', 'campaigns', 'owner_id', 'owner_id was added as nullable: existing campaigns have no known owner');
select is_empty(
  $$ select id from public.campaigns where owner_id is not null $$,
  'existing campaigns have no owner'
);
select col_is_null('public', 'participant_sessions', 'participant_email', 'participant_email was added as nullable: existing rows keep their own email column');
select is_empty(
  $$ select id from public.participant_sessions where participant_email is not null $$,
  'existing sessions have no participant_email (nothing was guessed)'
);

-- Columns with a default: existing rows got it.
select results_eq(
  $$ select distinct status, assessment_type, results_disclosure from public.campaigns $$,
  $$ values ('draft', 'industry4', 'full') $$,
  'existing campaigns got the defaults for status, assessment_type and results_disclosure'
);
select results_eq(
  $$ select distinct status, client_status from public.participant_sessions $$,
  $$ values ('pending', 'registered') $$,
  'existing sessions got the defaults for status and client_status'
);
select col_not_null('public', 'campaigns', 'status', 'campaigns.status is required, as on a fresh project');
select col_not_null('public', 'participant_sessions', 'status', 'participant_sessions.status is required, as on a fresh project');

-- Access tokens: every existing session got its own.
select results_eq(
  $$
    select count(*)::int, count(distinct access_token)::int
    from public.participant_sessions
    where access_token ~ '^[0-9a-f]{48}$'
  $$,
  $$ values (4, 4) $$,
  'each existing session got its own generated access token'
);
select col_not_null('public', 'participant_sessions', 'access_token', 'access_token is required');
select col_is_unique('public', 'participant_sessions', 'access_token', 'access_token is unique');

-- Keys.
select col_is_pk('public', 'campaigns', 'id', 'campaigns keeps its primary key');
select col_is_pk('public', 'participant_sessions', 'id', 'participant_sessions got a primary key on id');
select fk_ok('public', 'participant_sessions', 'campaign_id', 'public', 'campaigns', 'id', 'sessions now reference their campaigns');
select is(
  (select convalidated from pg_catalog.pg_constraint where conname = 'participant_sessions_campaign_id_fkey'),
  false,
  'the foreign key is not validated: the orphaned session was kept, not deleted'
);
select throws_ok(
  $$ insert into public.participant_sessions (campaign_id, participant_email) values ('3e000000-0000-4000-8000-0000000000c9', 'new@minimal.example') $$,
  '23503',
  'insert or update on table "participant_sessions" violates foreign key constraint "participant_sessions_campaign_id_fkey"',
  'a new session must name an existing campaign'
);
select lives_ok(
  $$ insert into public.participant_sessions (campaign_id, participant_email) values ('3e000000-0000-4000-8000-0000000000c1', 'new@minimal.example') $$,
  'a new session gets a generated id (the baseline added the default)'
);

-------------------------------------------------------------------------------
-- Security applies to the upgraded tables
-------------------------------------------------------------------------------
select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.campaigns'::regclass),
  true,
  'RLS is now enabled on campaigns'
);
select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.participant_sessions'::regclass),
  true,
  'RLS is now enabled on participant_sessions'
);

select tests.authenticate_as_anon();

select throws_ok($$ select id from public.campaigns $$, '42501', 'permission denied for table campaigns',
  'anon lost its default grant on campaigns');
select throws_ok($$ select id from public.participant_sessions $$, '42501', 'permission denied for table participant_sessions',
  'anon lost its default grant on the assignments table');

select tests.authenticate_as('3e000000-0000-4000-8000-0000000000ff');

select is_empty(
  $$ select id from public.campaigns $$,
  'a signed-in user sees none of the ownerless campaigns'
);
select is_empty(
  $$ select id from public.participant_sessions $$,
  'a signed-in user sees none of their sessions'
);

select tests.authenticate_as_service_role();

select results_eq(
  $$ select count(*)::int from public.participant_sessions where id::text like '3e000000-%' $$,
  $$ values (4) $$,
  'the service role still reaches every existing session'
);

select tests.clear_authentication();

-------------------------------------------------------------------------------
-- The rest of the migrations applied as on a fresh project
-------------------------------------------------------------------------------
select set_eq(
  $$ select version from supabase_migrations.schema_migrations $$,
  string_to_array(:'migration_versions', ','),
  'every migration in migrations/ was recorded, and nothing else'
);

select * from finish();
rollback;
