-- Issue 19: functions that only policies call live in private, a schema the
-- Data API does not serve, so none of them is an RPC endpoint; the one
-- security definer function left in public is the owner's read path, on
-- purpose (ARCHITECTURE.md, "Advisor exceptions"); every foreign key has its
-- index. What the helpers do is tested where they are used (06, 11).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(16);

select has_schema('private', 'the private schema exists');
select hasnt_function('public', 'owned_tenant_ids', 'owned_tenant_ids() is no longer in public (no RPC endpoint)');
select hasnt_function('public', 'requested_tenant_lookup', 'requested_tenant_lookup() is no longer in public (no RPC endpoint)');

-- Policies run their helpers as the caller: the API roles may use private,
-- and nobody but its owner may create there.
select schema_privs_are('private', 'anon', array['USAGE'], 'anon may use private, not create in it');
select schema_privs_are('private', 'authenticated', array['USAGE'], 'authenticated may use private, not create in it');
select schema_privs_are('private', 'public', array[]::text[], 'PUBLIC holds nothing on private');

select is_definer('private', 'owned_tenant_ids', array[]::text[], 'owned_tenant_ids() is security definer (it reads user_id for the policies)');
select function_privs_are('private', 'owned_tenant_ids', array[]::text[], 'authenticated', array['EXECUTE'],
  'authenticated may execute owned_tenant_ids() (its policies call it)');
select function_privs_are('private', 'owned_tenant_ids', array[]::text[], 'anon', array[]::text[],
  'anon may not execute owned_tenant_ids()');
select ok(
  (select 'search_path=""' = any (proconfig) from pg_catalog.pg_proc where oid = 'private.owned_tenant_ids()'::regprocedure),
  'owned_tenant_ids() runs with an empty search_path'
);

-- The functions each policy calls, as Postgres records them.
create temp view policy_calls as
select c.relname::text as table_name, p.polname::text as policy_name,
  f.pronamespace::regnamespace::text as schema_name, f.proname::text as function_name
from pg_catalog.pg_depend as d
join pg_catalog.pg_policy as p on d.classid = 'pg_catalog.pg_policy'::regclass and d.objid = p.oid
join pg_catalog.pg_class as c on c.oid = p.polrelid
join pg_catalog.pg_proc as f on d.refclassid = 'pg_catalog.pg_proc'::regclass and d.refobjid = f.oid;

-- The convention, for every policy to come: a function a policy calls is not
-- in public.
select is_empty(
  $$ select table_name || ': ' || policy_name || ' calls ' || function_name from pg_temp.policy_calls where schema_name = 'public' $$,
  'no policy calls a function in public'
);
select bag_eq(
  $$ select distinct table_name, function_name from pg_temp.policy_calls where schema_name = 'private' $$,
  $$
    values
      ('campaigns', 'owned_tenant_ids'),
      ('participant_sessions', 'owned_tenant_ids'),
      ('usage_events', 'owned_tenant_ids'),
      ('tenant_profiles', 'requested_tenant_lookup'),
      ('tenant_profiles', 'tenant_named_by_domain'),
      ('tenant_profiles', 'requested_tenant_key'),
      ('tenant_changes', 'tenant_changes_are_read_through_the_function'),
      ('tenant_domains', 'requested_tenant_key'),
      ('tenant_domains', 'owned_tenant_ids'),
      ('tenant_domain_diagnoses', 'owned_tenant_ids'),
      ('domain_challenges', 'requested_tenant_key')
  $$,
  'the policies call their helpers in private'
);

-- The owner's read path stays security definer, for signed-in users only.
select is_definer('public', 'my_tenant_profile', array[]::text[], 'my_tenant_profile() is security definer: the one read of private columns');
select function_privs_are('public', 'my_tenant_profile', array[]::text[], 'anon', array[]::text[],
  'anon may not execute my_tenant_profile()');

select has_index('public', 'usage_events', 'usage_events_user_id_idx', array['user_id'], 'usage_events.user_id is indexed');
select is_empty(
  $$
    select i.indexrelid::regclass::text
    from pg_catalog.pg_index as i
    where i.indrelid = 'public.participant_sessions'::regclass
      and i.indexrelid <> 'public.participant_sessions_campaign_id_idx'::regclass
      and i.indkey = (select indkey from pg_catalog.pg_index where indexrelid = 'public.participant_sessions_campaign_id_idx'::regclass)
  $$,
  'participant_sessions has one index on campaign_id'
);

select * from finish();
rollback;
