-- AC #3: usage_events exists with id, tenant_id, user_id, event_type,
-- event_data (jsonb), tokens_used, model_used, created_at; FK to
-- tenant_profiles; indexes on tenant_id, event_type, created_at; RLS on; and
-- log_usage_event() is a security definer with a fixed search_path that only
-- the service role may execute.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(28);

select has_table('public', 'usage_events', 'usage_events exists');

select columns_are(
  'public', 'usage_events',
  array['id', 'tenant_id', 'user_id', 'event_type', 'event_data', 'tokens_used', 'model_used', 'created_at'],
  'usage_events has exactly the AC #3 columns'
);

select col_type_is('public', 'usage_events', 'id', 'uuid', 'id is uuid');
select col_type_is('public', 'usage_events', 'tenant_id', 'uuid', 'tenant_id is uuid');
select col_type_is('public', 'usage_events', 'user_id', 'uuid', 'user_id is uuid');
select col_type_is('public', 'usage_events', 'event_type', 'text', 'event_type is text');
select col_type_is('public', 'usage_events', 'event_data', 'jsonb', 'event_data is jsonb');
select col_type_is('public', 'usage_events', 'tokens_used', 'integer', 'tokens_used is integer');
select col_type_is('public', 'usage_events', 'model_used', 'text', 'model_used is text');
select col_type_is('public', 'usage_events', 'created_at', 'timestamp with time zone', 'created_at is timestamptz');

select col_is_pk('public', 'usage_events', 'id', 'id is the primary key');
select fk_ok('public', 'usage_events', 'tenant_id', 'public', 'tenant_profiles', 'id', 'tenant_id references tenant_profiles');
select fk_ok('public', 'usage_events', 'user_id', 'auth', 'users', 'id', 'user_id references auth.users');
select col_not_null('public', 'usage_events', 'tenant_id', 'every event belongs to a tenant');

select has_index('public', 'usage_events', 'usage_events_tenant_id_idx', array['tenant_id'], 'tenant_id is indexed');
select has_index('public', 'usage_events', 'usage_events_event_type_idx', array['event_type'], 'event_type is indexed');
select has_index('public', 'usage_events', 'usage_events_created_at_idx', array['created_at'], 'created_at is indexed');

select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.usage_events'::regclass),
  true,
  'RLS is enabled on usage_events'
);

-- log_usage_event().
select has_function(
  'public', 'log_usage_event', array['uuid', 'text', 'jsonb', 'integer', 'text', 'uuid'],
  'log_usage_event(tenant, type, data, tokens, model, user) exists'
);
select is_definer('public', 'log_usage_event', array['uuid', 'text', 'jsonb', 'integer', 'text', 'uuid'], 'log_usage_event is security definer');
select ok(
  (select 'search_path=""' = any (proconfig) from pg_catalog.pg_proc where oid = 'public.log_usage_event(uuid, text, jsonb, integer, text, uuid)'::regprocedure),
  'log_usage_event runs with an empty search_path'
);
select function_privs_are('public', 'log_usage_event', array['uuid', 'text', 'jsonb', 'integer', 'text', 'uuid'], 'anon', array[]::text[], 'anon cannot execute log_usage_event');
select function_privs_are('public', 'log_usage_event', array['uuid', 'text', 'jsonb', 'integer', 'text', 'uuid'], 'authenticated', array[]::text[], 'authenticated cannot execute log_usage_event');
select function_privs_are('public', 'log_usage_event', array['uuid', 'text', 'jsonb', 'integer', 'text', 'uuid'], 'service_role', array['EXECUTE'], 'service_role can execute log_usage_event');

-- Fixture: one tenant.
insert into public.tenant_profiles (id, slug, display_name, brand_config)
values (
  '03000000-0000-4000-8000-0000000000a1', 'ac3-tenant', 'AC3 Tenant',
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'
);

-- The service role logs an event through the helper.
select tests.authenticate_as_service_role();

select lives_ok(
  $$
    select public.log_usage_event(
      '03000000-0000-4000-8000-0000000000a1', 'assessment.completed',
      '{"campaign":"ac3"}', 1200, 'claude-sonnet'
    )
  $$,
  'service_role can log a usage event'
);

select tests.clear_authentication();

select results_eq(
  $$
    select event_type, event_data, tokens_used, model_used, user_id
    from public.usage_events
    where tenant_id = '03000000-0000-4000-8000-0000000000a1'
  $$,
  $$
    values ('assessment.completed', '{"campaign":"ac3"}'::jsonb, 1200, 'claude-sonnet', null::uuid)
  $$,
  'the logged event is stored with its data'
);

-- Authenticated users cannot log events.
select tests.authenticate_as('03000000-0000-4000-8000-000000000001');

select throws_ok(
  $$ select public.log_usage_event('03000000-0000-4000-8000-0000000000a1', 'assessment.completed') $$,
  '42501',
  'permission denied for function log_usage_event',
  'authenticated cannot log a usage event'
);

select tests.clear_authentication();

select throws_ok(
  $$ delete from public.tenant_profiles where id = '03000000-0000-4000-8000-0000000000a1' $$,
  '23503',
  'update or delete on table "tenant_profiles" violates foreign key constraint "usage_events_tenant_id_fkey" on table "usage_events"',
  'a tenant with usage history cannot be deleted'
);

select * from finish();
rollback;
