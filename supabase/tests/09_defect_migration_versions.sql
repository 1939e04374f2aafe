-- Defect: the story named its migrations 20260106_001_... to 20260106_005_...,
-- which the Supabase CLI all records as version 20260106, so the second one
-- fails with a duplicate schema_migrations key. The migrations here carry
-- unique 14-digit versions, and `supabase db push` recorded each of them.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(3);

select has_table('supabase_migrations', 'schema_migrations', 'migrations were applied by the Supabase CLI');

select is_empty(
  $$ select version from supabase_migrations.schema_migrations where version !~ '^[0-9]{14}$' $$,
  'every recorded migration version has 14 digits'
);

select bag_has(
  $$ select version || '_' || name from supabase_migrations.schema_migrations $$,
  $$
    values
      ('20260106000000_baseline_campaigns'),
      ('20260106000001_create_tenant_profiles'),
      ('20260106000002_rename_to_participant_sessions'),
      ('20260106000003_create_usage_events'),
      ('20260106000004_update_campaigns_for_coaching'),
      ('20260106000005_seed_leadingwithmeaning_tenant'),
      ('20261124000101_show_tenant_profiles_only_when_named'),
      ('20261124000102_generate_participant_access_tokens'),
      ('20261124000201_record_tenant_changes'),
      ('20261124000301_tighten_brand_config_check')
  $$,
  'each migration is recorded under its own version'
);

select * from finish();
rollback;
