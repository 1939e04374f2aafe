-- Upgrade of the existing app database: after tests/fixtures/legacy_app_schema.sql
-- and `supabase db push`, the legacy campaigns and assignments survive the
-- baseline (which must not recreate them) and the rename to
-- participant_sessions, start in the pipeline as 'registered', are visible
-- through both compatibility views, and are now closed to anon.
-- Runs against the upgraded legacy database only, not the fresh one, after
-- supabase/tests/00_test_helpers.sql, with the psql variable
-- migration_versions (the versions of migrations/*.sql, comma-separated).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(22);

-- The baseline kept the legacy tables.
select has_column('public', 'campaigns', 'description', 'the legacy campaigns table was kept (description column)');
select has_column('public', 'participant_sessions', 'participant_role', 'the legacy assignments table was kept (participant_role column)');
select has_column('public', 'participant_sessions', 'completed_at', 'the legacy assignments table was kept (completed_at column)');

select results_eq(
  $$ select id, name, status, assessment_type, results_disclosure, tenant_id from public.campaigns order by id $$,
  $$
    values
      ('1e000000-0000-4000-8000-0000000000c1'::uuid, 'Q4 Leadership Pulse', 'active', 'industry4', 'full', null::uuid),
      ('1e000000-0000-4000-8000-0000000000c2'::uuid, 'Board Readiness', 'completed', 'industry4', 'full', null::uuid)
  $$,
  'both legacy campaigns survived and got the coaching defaults'
);

-- The rename kept every row.
select has_table('public', 'participant_sessions', 'participant_sessions exists');
select has_view('public', 'campaign_assignments', 'campaign_assignments is now a view');
select has_view('public', 'stakeholder_sessions', 'stakeholder_sessions is now a view');

select results_eq(
  $$
    select id, participant_email, participant_role, status, access_token, client_status, tenant_id
    from public.participant_sessions
    order by id
  $$,
  $$
    values
      ('1e000000-0000-4000-8000-0000000000d1'::uuid, 'ana@client.example', 'CFO', 'completed', 'legacy-token-ana', 'registered', null::uuid),
      ('1e000000-0000-4000-8000-0000000000d2'::uuid, 'ben@client.example', 'COO', 'pending', 'legacy-token-ben', 'registered', null::uuid),
      ('1e000000-0000-4000-8000-0000000000d3'::uuid, 'cy@board.example', 'Chair', 'in_progress', 'legacy-token-cy', 'registered', null::uuid)
  $$,
  'the three legacy assignments are participant sessions, registered, with their tokens'
);

select results_eq(
  $$ select updated_at from public.participant_sessions where id = '1e000000-0000-4000-8000-0000000000d3' $$,
  $$ values ('2025-11-19 08:00:00+00'::timestamptz) $$,
  'the rename did not touch the rows'
);

select set_eq(
  $$ select id, participant_email, client_status from public.campaign_assignments $$,
  $$ select id, participant_email, client_status from public.participant_sessions $$,
  'every session is visible through campaign_assignments'
);

select set_eq(
  $$ select id, participant_email, client_status from public.stakeholder_sessions $$,
  $$ select id, participant_email, client_status from public.participant_sessions $$,
  'every session is visible through stakeholder_sessions'
);

select fk_ok('public', 'participant_sessions', 'campaign_id', 'public', 'campaigns', 'id', 'sessions still reference their campaigns');

-- Security now applies to the legacy tables too.
select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.campaigns'::regclass),
  true,
  'RLS is now enabled on the legacy campaigns table'
);
select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.participant_sessions'::regclass),
  true,
  'RLS is now enabled on the legacy assignments table'
);

select tests.authenticate_as_anon();

select throws_ok($$ select id from public.campaigns $$, '42501', 'permission denied for table campaigns',
  'anon lost its legacy grant on campaigns');
select throws_ok($$ select id from public.participant_sessions $$, '42501', 'permission denied for table participant_sessions',
  'anon lost its legacy grant on the assignments table');
select throws_ok($$ select id from public.campaign_assignments $$, '42501', 'permission denied for view campaign_assignments',
  'anon cannot read campaign_assignments');
select throws_ok($$ select id from public.stakeholder_sessions $$, '42501', 'permission denied for view stakeholder_sessions',
  'anon cannot read stakeholder_sessions');

select tests.clear_authentication();

-- The legacy owner still sees its sessions, through the old name too.
select tests.authenticate_as('1e000000-0000-4000-8000-000000000001');

select results_eq(
  $$ select count(*)::int from public.campaign_assignments $$,
  $$ values (3) $$,
  'the legacy owner sees its three sessions through campaign_assignments'
);

select tests.clear_authentication();

select tests.authenticate_as('1e000000-0000-4000-8000-0000000000ff');

select is_empty(
  $$ select id from public.stakeholder_sessions $$,
  'another user sees none of them'
);

select tests.clear_authentication();

-- The rest of the migrations applied as on a fresh project.
select results_eq(
  $$ select count(*)::int from public.tenant_profiles where slug = 'leadingwithmeaning' $$,
  $$ values (1) $$,
  'the Leading with Meaning tenant was seeded'
);

select set_eq(
  $$ select version from supabase_migrations.schema_migrations $$,
  string_to_array(:'migration_versions', ','),
  'every migration in migrations/ was recorded, and nothing else'
);

select * from finish();
rollback;
