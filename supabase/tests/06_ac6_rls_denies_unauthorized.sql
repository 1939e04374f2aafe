-- AC #6: with RLS configured, an unauthorized user querying tenant_profiles
-- is denied. Concretely, on a database with Supabase's default privileges:
-- anon and authenticated read only the public columns of an active tenant
-- that the request names (x-tenant-lookup, see 11_defect_tenant_listing);
-- private columns are a permission error, not a silent null; nobody but the
-- service role writes; an owner reads their own full profile only through
-- public.my_tenant_profile().
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(39);

-- Fixture: an active tenant and an inactive one, each with an owner, and a
-- signed-in stranger who owns nothing.
insert into auth.users (id, email) values
  ('a6000000-0000-4000-8000-000000000001', 'alpha-owner@ac6.test'),
  ('c6000000-0000-4000-8000-000000000003', 'stranger@ac6.test'),
  ('d6000000-0000-4000-8000-000000000004', 'dormant-owner@ac6.test');

insert into public.tenant_profiles
  (id, user_id, slug, display_name, brand_config, email_config, subscription_tier, is_active, custom_domain)
select
  t.id, t.user_id, t.slug, t.display_name,
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb,
  t.email_config, t.tier, t.is_active, t.domain
from (values
  ('a6000000-0000-4000-8000-0000000000a1'::uuid, 'a6000000-0000-4000-8000-000000000001'::uuid,
   'ac6-alpha', 'Alpha Coaching', '{"replyTo":"alpha@ac6.test"}'::jsonb, 'starter', true, 'alpha.ac6.test'),
  ('d6000000-0000-4000-8000-0000000000a4'::uuid, 'd6000000-0000-4000-8000-000000000004'::uuid,
   'ac6-dormant', 'Dormant Coaching', '{"replyTo":"dormant@ac6.test"}'::jsonb, 'free', false, 'dormant.ac6.test')
) as t (id, user_id, slug, display_name, email_config, tier, is_active, domain);

-- Configuration.
select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.tenant_profiles'::regclass),
  true,
  'RLS is enabled on tenant_profiles'
);
select policies_are(
  'public', 'tenant_profiles',
  array['Active tenant profiles are viewable by requests that name them'],
  'tenant_profiles has a single policy, for reading'
);
select policy_cmd_is('public', 'tenant_profiles', 'Active tenant profiles are viewable by requests that name them', 'select', 'the policy covers select only');
select policy_roles_are('public', 'tenant_profiles', 'Active tenant profiles are viewable by requests that name them', array['anon', 'authenticated'], 'the policy applies to anon and authenticated');
select table_privs_are('public', 'tenant_profiles', 'anon', array[]::text[], 'anon has no table-wide privilege on tenant_profiles');
select table_privs_are('public', 'tenant_profiles', 'authenticated', array[]::text[], 'authenticated has no table-wide privilege on tenant_profiles');
select is(
  array(
    select attname::text
    from pg_catalog.pg_attribute
    where attrelid = 'public.tenant_profiles'::regclass
      and attnum > 0 and not attisdropped
      and has_column_privilege('anon', attrelid, attnum, 'select')
    order by 1
  ),
  -- maintenance: added by 20261208000002 (24_maintenance_and_previews.sql)
  array['brand_config', 'custom_domain', 'display_name', 'enabled_assessments', 'id', 'maintenance', 'slug', 'tenant_type'],
  'anon may select exactly the eight public columns'
);

-- Anonymous visitor (the anon key, no user).
select tests.authenticate_as_anon();

select throws_ok($$ select * from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'anon cannot select every column');
select throws_ok($$ select email_config from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'anon cannot read email_config');
select throws_ok($$ select user_id from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'anon cannot read user_id');
select throws_ok($$ select subscription_tier from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'anon cannot read subscription_tier');
select throws_ok($$ select is_active from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'anon cannot read is_active');
select throws_ok($$ select slug from public.tenant_profiles where is_active $$, '42501', 'permission denied for table tenant_profiles', 'anon cannot filter on is_active');
set local request.headers to '{"x-tenant-lookup":"slug:ac6-alpha"}';
select results_eq(
  $$ select slug from public.tenant_profiles where slug = 'ac6-alpha' $$,
  $$ values ('ac6-alpha') $$,
  'anon resolves an active tenant by slug'
);
set local request.headers to '{"x-tenant-lookup":"slug:ac6-dormant"}';
select is_empty(
  $$ select id from public.tenant_profiles where slug = 'ac6-dormant' $$,
  'anon cannot resolve an inactive tenant by slug'
);
set local request.headers to '{"x-tenant-lookup":"domain:dormant.ac6.test"}';
select is_empty(
  $$ select id from public.tenant_profiles where custom_domain = 'dormant.ac6.test' $$,
  'anon cannot resolve an inactive tenant by domain'
);
select throws_ok(
  $$ insert into public.tenant_profiles (slug, display_name, brand_config) select 'ac6-anon', 'Anon', brand_config from public.tenant_profiles limit 1 $$,
  '42501', 'permission denied for table tenant_profiles', 'anon cannot create a tenant'
);
select throws_ok($$ update public.tenant_profiles set display_name = 'Hacked' $$, '42501', 'permission denied for table tenant_profiles', 'anon cannot update a tenant');
select throws_ok($$ delete from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'anon cannot delete a tenant');
select throws_ok($$ select * from public.my_tenant_profile() $$, '42501', 'permission denied for function my_tenant_profile', 'anon cannot call my_tenant_profile');
select throws_ok($$ select * from private.owned_tenant_ids() $$, '42501', 'permission denied for function owned_tenant_ids', 'anon cannot call owned_tenant_ids');

select tests.clear_authentication();

-- Signed-in stranger (owns no tenant).
select tests.authenticate_as('c6000000-0000-4000-8000-000000000003');

select throws_ok($$ select email_config from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'a stranger cannot read email_config');
select throws_ok($$ select user_id from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'a stranger cannot read user_id');
select throws_ok($$ select subscription_tier from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'a stranger cannot read subscription_tier');
set local request.headers to '{"x-tenant-lookup":"slug:ac6-alpha"}';
select results_eq(
  $$ select slug from public.tenant_profiles where slug = 'ac6-alpha' $$,
  $$ values ('ac6-alpha') $$,
  'a stranger resolves an active tenant by slug'
);
set local request.headers to '{"x-tenant-lookup":"slug:ac6-dormant"}';
select is_empty(
  $$ select id from public.tenant_profiles where slug = 'ac6-dormant' $$,
  'a stranger cannot resolve an inactive tenant'
);
select is_empty($$ select * from public.my_tenant_profile() $$, 'a stranger has no tenant profile of their own');
select throws_ok($$ update public.tenant_profiles set display_name = 'Hacked' $$, '42501', 'permission denied for table tenant_profiles', 'a stranger cannot update a tenant');
select throws_ok($$ delete from public.tenant_profiles $$, '42501', 'permission denied for table tenant_profiles', 'a stranger cannot delete a tenant');

select tests.clear_authentication();

-- Owner of the active tenant.
select tests.authenticate_as('a6000000-0000-4000-8000-000000000001');

select results_eq(
  $$ select id, user_id, email_config ->> 'replyTo', subscription_tier, is_active from public.my_tenant_profile() $$,
  $$ values ('a6000000-0000-4000-8000-0000000000a1'::uuid, 'a6000000-0000-4000-8000-000000000001'::uuid, 'alpha@ac6.test', 'starter', true) $$,
  'an owner reads their own full profile through my_tenant_profile'
);
select throws_ok(
  $$ select email_config from public.tenant_profiles where slug = 'ac6-alpha' $$,
  '42501', 'permission denied for table tenant_profiles',
  'an owner still cannot read private columns from the table'
);
select throws_ok(
  $$ update public.tenant_profiles set display_name = 'Renamed' where slug = 'ac6-alpha' $$,
  '42501', 'permission denied for table tenant_profiles',
  'an owner cannot edit their tenant directly (the service role manages tenants)'
);
select results_eq(
  $$ select * from private.owned_tenant_ids() $$,
  $$ values ('a6000000-0000-4000-8000-0000000000a1'::uuid) $$,
  'owned_tenant_ids lists the owner''s tenant'
);

select tests.clear_authentication();

-- Owner of the inactive tenant.
select tests.authenticate_as('d6000000-0000-4000-8000-000000000004');

select results_eq(
  $$ select slug, is_active from public.my_tenant_profile() $$,
  $$ values ('ac6-dormant', false) $$,
  'an owner of an inactive tenant still reads their profile through my_tenant_profile'
);
set local request.headers to '{"x-tenant-lookup":"slug:ac6-dormant"}';
select is_empty(
  $$ select id from public.tenant_profiles where slug = 'ac6-dormant' $$,
  'an owner of an inactive tenant does not see it in public lookups'
);

select tests.clear_authentication();

-- Without a JWT subject, my_tenant_profile returns nothing.
select tests.authenticate_as(null);

select is_empty($$ select * from public.my_tenant_profile() $$, 'no subject, no profile');

select tests.clear_authentication();

-- Service role: every column, every tenant.
select tests.authenticate_as_service_role();

select results_eq(
  $$ select slug, email_config ->> 'replyTo', is_active from public.tenant_profiles where slug like 'ac6-%' order by slug $$,
  $$ values ('ac6-alpha', 'alpha@ac6.test', true), ('ac6-dormant', 'dormant@ac6.test', false) $$,
  'service_role reads every column of every tenant'
);
select lives_ok(
  $$ update public.tenant_profiles set display_name = 'Alpha Coaching Ltd' where slug = 'ac6-alpha' $$,
  'service_role updates a tenant'
);
select throws_ok(
  $$ select * from public.my_tenant_profile() $$,
  '42501', 'permission denied for function my_tenant_profile',
  'my_tenant_profile is for signed-in users only'
);

select tests.clear_authentication();

select * from finish();
rollback;
