-- The planner's estimates count no tenants (issue 20, finding 5). PostgREST
-- answers Prefer: count=planned and count=estimated with the planner's row
-- estimate, which comes from the table's statistics, not from what row level
-- security shows. The tenant_profiles policy says its rule (show the active
-- tenant the request names) also as equalities on slug, custom_domain and
-- id, so the estimate for anon and for a signed-in user is one row, whatever
-- the table holds and whatever the filter: as many tenants, or as few, as
-- the statistics say, and spread however they are.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(21);

-- The planner's row estimate for `query`, run as the current role.
create function pg_temp.estimate(query text)
returns integer
language plpgsql
as $$
declare
  plan json;
begin
  execute 'explain (format json) ' || query into plan;
  return (plan -> 0 -> 'Plan' ->> 'Plan Rows')::integer;
end;
$$;

-- The filters, each as PostgREST would apply it, whose estimate is not 1.
create function pg_temp.telling_filters()
returns setof text
language sql
as $$
  select f.filter
  from unnest(array[
    'true',
    'slug < ''m''',
    'slug >= ''zz''',
    'slug like ''e19-spread-a%''',
    'custom_domain is not null',
    'custom_domain like ''%.example''',
    'display_name ilike ''%1%''',
    'tenant_type = ''coach''',
    'id < ''80000000-0000-4000-8000-000000000000''',
    '(slug < ''b'' or slug > ''y'')',
    'enabled_assessments @> array[''industry4'']'
  ]) as f (filter)
  where pg_temp.estimate('select id from public.tenant_profiles where ' || f.filter) <> 1
$$;

-- A brand that keeps the contract, for the tenants below.
create function pg_temp.brand()
returns jsonb
language sql
as $$
  select '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb
$$;

-- One tenant to name, and a signed-in user who owns none.
insert into public.tenant_profiles (slug, display_name, brand_config, custom_domain)
values ('e19-named', 'Named', pg_temp.brand(), 'named.estimates.test');
insert into auth.users (id, email) values ('e1900000-0000-4000-8000-000000000001', 'someone@estimates.test');

-------------------------------------------------------------------------------
-- The helper the policy names the lookup with
-------------------------------------------------------------------------------
select has_function('private', 'requested_tenant_key', array['text'], 'private.requested_tenant_key(kind) exists');
select isnt_definer('private', 'requested_tenant_key', array['text'], 'it is security invoker');
select ok(
  (select 'search_path=""' = any (proconfig) from pg_catalog.pg_proc where oid = to_regprocedure('private.requested_tenant_key(text)')),
  'it runs with an empty search_path'
);
select function_privs_are('private', 'requested_tenant_key', array['text'], 'anon', array['EXECUTE'],
  'anon may execute it (the policy calls it as the caller)');
select is_empty(
  $$ select 1 from pg_catalog.pg_proc as p, aclexplode(p.proacl) as acl
     where p.oid = to_regprocedure('private.requested_tenant_key(text)') and acl.grantee = 0 $$,
  'PUBLIC cannot execute it'
);

set local request.headers to '{"x-tenant-lookup":"slug:acme-leadership"}';
select results_eq(
  $$ select private.requested_tenant_key('slug'), private.requested_tenant_key('domain'), private.requested_tenant_key('id') $$,
  $$ values ('acme-leadership', null::text, null::text) $$,
  'a slug lookup: its value for slug, nothing for domain and id'
);
set local request.headers to '{"x-tenant-lookup":"domain:leaders.acme.localhost"}';
select is(private.requested_tenant_key('domain'), 'leaders.acme.localhost', 'a domain lookup: its value for domain');
set local request.headers to '{"x-tenant-lookup":"id:7e000000-0000-4000-8000-000000000003"}';
select is(private.requested_tenant_key('id'), '7e000000-0000-4000-8000-000000000003', 'an id lookup: the canonical uuid');
set local request.headers to '{"x-tenant-lookup":"id:7E000000-0000-4000-8000-000000000003"}';
select is(private.requested_tenant_key('id'), null, 'an id in another spelling (upper case) is no id, so the uuid cast never fails');
set local request.headers to '{"x-tenant-lookup":"id:7e00000000004000800000000000000003"}';
select is(private.requested_tenant_key('id'), null, 'nor is one without hyphens');
set local request.headers to '{"x-tenant-lookup":"slugs:acme-leadership"}';
select is(private.requested_tenant_key('slug'), null, 'another kind is no slug');
set local request.headers to 'not json';
select is(private.requested_tenant_key('slug'), null, 'a malformed request.headers names nothing, and fails nothing');

-------------------------------------------------------------------------------
-- Estimates with the tenants there are
-------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select is_empty($$ select pg_temp.telling_filters() $$, 'anon, naming no tenant: every estimate is one row');
set local request.headers to '{"x-tenant-lookup":"slug:e19-named"}';
select is_empty($$ select pg_temp.telling_filters() $$, 'anon, naming a tenant: every estimate is one row');
select tests.clear_authentication();

-------------------------------------------------------------------------------
-- Estimates with 4,000 more, up to date in the statistics
-------------------------------------------------------------------------------
insert into public.tenant_profiles (slug, display_name, brand_config, custom_domain)
select 'e19-spread-' || (case when i <= 3000 then 'a' else 'zz' end) || '-' || i, 'Tenant ' || i, pg_temp.brand(),
  'e19-' || i || '.example'
from generate_series(1, 4000) as i;
analyze public.tenant_profiles;

select cmp_ok(
  (select reltuples from pg_catalog.pg_class where oid = 'public.tenant_profiles'::regclass), '>=', 4000::real,
  'the statistics know the 4,000 tenants'
);

select tests.authenticate_as_anon();
select is_empty($$ select pg_temp.telling_filters() $$, 'anon, naming no tenant: every estimate is still one row');
select is(pg_temp.estimate('select id from public.tenant_profiles'), 1, 'anon: the estimate of the whole table is one row');
set local request.headers to '{"x-tenant-lookup":"slug:e19-named"}';
select is_empty($$ select pg_temp.telling_filters() $$, 'anon, naming a tenant: every estimate is still one row');
select tests.clear_authentication();

select tests.authenticate_as('e1900000-0000-4000-8000-000000000001');
select is_empty($$ select pg_temp.telling_filters() $$, 'a signed-in user, naming no tenant: every estimate is one row');
set local request.headers to '{"x-tenant-lookup":"domain:named.estimates.test"}';
select is_empty($$ select pg_temp.telling_filters() $$, 'a signed-in user, naming a tenant: every estimate is one row');
select results_eq(
  $$ select slug from public.tenant_profiles $$,
  $$ values ('e19-named') $$,
  'and the tenant it names is still the one it sees'
);
select tests.clear_authentication();

select * from finish();
rollback;
