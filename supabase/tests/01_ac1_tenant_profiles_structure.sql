-- AC #1: tenant_profiles exists with exactly the columns of the story:
-- id, user_id, slug (unique), display_name, tenant_type, brand_config (jsonb),
-- email_config (jsonb), enabled_assessments (text[]), subscription_tier,
-- is_active, custom_domain, created_at, updated_at; with its indexes, its
-- updated_at trigger and RLS on.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(35);

select has_table('public', 'tenant_profiles', 'tenant_profiles exists');

select columns_are(
  'public', 'tenant_profiles',
  array[
    'id', 'user_id', 'slug', 'display_name', 'tenant_type', 'brand_config',
    'email_config', 'enabled_assessments', 'subscription_tier', 'is_active',
    'custom_domain', 'created_at', 'updated_at',
    -- added by 20261208000001 (owners edit their brand; 23_owner_brand_editing.sql)
    'brand_version',
    -- added by 20261208000002 (owners switch on maintenance; 24_maintenance_and_previews.sql)
    'maintenance'
  ],
  'tenant_profiles has exactly the AC #1 columns, brand_version and maintenance'
);

-- Column types.
select col_type_is('public', 'tenant_profiles', 'id', 'uuid', 'id is uuid');
select col_type_is('public', 'tenant_profiles', 'user_id', 'uuid', 'user_id is uuid');
select col_type_is('public', 'tenant_profiles', 'slug', 'text', 'slug is text');
select col_type_is('public', 'tenant_profiles', 'display_name', 'text', 'display_name is text');
select col_type_is('public', 'tenant_profiles', 'tenant_type', 'text', 'tenant_type is text');
select col_type_is('public', 'tenant_profiles', 'brand_config', 'jsonb', 'brand_config is jsonb');
select col_type_is('public', 'tenant_profiles', 'email_config', 'jsonb', 'email_config is jsonb');
select col_type_is('public', 'tenant_profiles', 'enabled_assessments', 'text[]', 'enabled_assessments is text[]');
select col_type_is('public', 'tenant_profiles', 'subscription_tier', 'text', 'subscription_tier is text');
select col_type_is('public', 'tenant_profiles', 'is_active', 'boolean', 'is_active is boolean');
select col_type_is('public', 'tenant_profiles', 'custom_domain', 'text', 'custom_domain is text');
select col_type_is('public', 'tenant_profiles', 'created_at', 'timestamp with time zone', 'created_at is timestamptz');
select col_type_is('public', 'tenant_profiles', 'updated_at', 'timestamp with time zone', 'updated_at is timestamptz');

-- Keys.
select col_is_pk('public', 'tenant_profiles', 'id', 'id is the primary key');
select col_is_unique('public', 'tenant_profiles', 'slug', 'slug is unique');
select fk_ok('public', 'tenant_profiles', 'user_id', 'auth', 'users', 'id', 'user_id references auth.users');
select col_is_null('public', 'tenant_profiles', 'user_id', 'user_id is optional (a tenant may have no owner yet)');
select col_not_null('public', 'tenant_profiles', 'brand_config', 'brand_config is required');

-- Defaults.
select col_default_is('public', 'tenant_profiles', 'is_active', 'true', 'tenants are active by default');
select col_default_is('public', 'tenant_profiles', 'subscription_tier', 'free', 'tenants start on the free tier');
select col_default_is('public', 'tenant_profiles', 'tenant_type', 'coach', 'tenants are coaches by default');
select col_default_is('public', 'tenant_profiles', 'email_config', '{}'::jsonb::text, 'email_config defaults to an empty object');

-- Indexes.
select has_index('public', 'tenant_profiles', 'tenant_profiles_user_id_idx', array['user_id'], 'user_id is indexed');
select has_index('public', 'tenant_profiles', 'tenant_profiles_custom_domain_idx', array['custom_domain'], 'custom_domain is indexed for host lookups');
select has_index('public', 'tenant_profiles', 'tenant_profiles_custom_domain_key', array['lower(custom_domain)'], 'lower(custom_domain) is indexed');
select index_is_unique('public', 'tenant_profiles', 'tenant_profiles_custom_domain_key', 'custom_domain is unique whatever the case');

-- Validation function.
select volatility_is('public', 'is_valid_brand_config', array['jsonb'], 'immutable', 'is_valid_brand_config is immutable');

-- updated_at trigger.
select has_trigger('public', 'tenant_profiles', 'tenant_profiles_set_updated_at', 'tenant_profiles has an updated_at trigger');
select trigger_is('public', 'tenant_profiles', 'tenant_profiles_set_updated_at', 'public', 'set_updated_at', 'the trigger calls public.set_updated_at()');

insert into public.tenant_profiles (id, slug, display_name, brand_config, created_at, updated_at)
values (
  '01000000-0000-4000-8000-000000000001', 'structure-check', 'Structure Check',
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}',
  '2000-01-01 00:00:00+00', '2000-01-01 00:00:00+00'
);

update public.tenant_profiles
set display_name = 'Structure Check Renamed'
where id = '01000000-0000-4000-8000-000000000001';

select is(
  (select updated_at from public.tenant_profiles where id = '01000000-0000-4000-8000-000000000001'),
  now(),
  'an update sets updated_at to now()'
);

select is(
  (select created_at from public.tenant_profiles where id = '01000000-0000-4000-8000-000000000001'),
  '2000-01-01 00:00:00+00'::timestamptz,
  'an update leaves created_at alone'
);

select is(
  (select enabled_assessments from public.tenant_profiles where id = '01000000-0000-4000-8000-000000000001'),
  array['industry4']::text[],
  'enabled_assessments defaults to industry4'
);

-- Row level security.
select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.tenant_profiles'::regclass),
  true,
  'RLS is enabled on tenant_profiles'
);

select * from finish();
rollback;
