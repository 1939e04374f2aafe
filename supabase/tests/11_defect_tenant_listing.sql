-- Defect (issue 9, finding 6): the anon key listed every active tenant in one
-- request (GET /tenant_profiles?select=slug,custom_domain). Now a tenant is
-- visible to anon and authenticated only in a request that names it: the
-- Worker sends x-tenant-lookup: slug:<slug>, domain:<custom_domain> or
-- id:<uuid> with each lookup, PostgREST exposes the header to SQL in
-- request.headers, and the policy compares it with the row. A request that
-- names no tenant, or names it in another spelling, sees no rows; an odd
-- header value names no tenant and never fails the request.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(38);

-- Fixture: two active tenants and an inactive one; Alpha's owner, signed in.
insert into auth.users (id, email) values
  ('a1100000-0000-4000-8000-000000000001', 'alpha-owner@listing.test'),
  ('c1100000-0000-4000-8000-000000000003', 'stranger@listing.test');

insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config, is_active, custom_domain)
select t.id, t.user_id, t.slug, t.display_name,
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb,
  t.is_active, t.domain
from (values
  ('a1100000-0000-4000-8000-0000000000a1'::uuid, 'a1100000-0000-4000-8000-000000000001'::uuid, 'l11-alpha', 'Alpha', true, 'alpha.listing.test'),
  ('b1100000-0000-4000-8000-0000000000b1'::uuid, null::uuid, 'l11-beta', 'Beta', true, 'beta.listing.test'),
  ('d1100000-0000-4000-8000-0000000000d1'::uuid, null::uuid, 'l11-dormant', 'Dormant', false, 'dormant.listing.test')
) as t (id, user_id, slug, display_name, is_active, domain);

-------------------------------------------------------------------------------
-- Configuration
-------------------------------------------------------------------------------
select policies_are(
  'public', 'tenant_profiles',
  array['Active tenant profiles are viewable by requests that name them'],
  'the policy that showed every active tenant is gone'
);
select policy_roles_are(
  'public', 'tenant_profiles', 'Active tenant profiles are viewable by requests that name them',
  array['anon', 'authenticated'],
  'the policy applies to anon and authenticated alike'
);
select has_function('private', 'requested_tenant_lookup', array[]::text[], 'requested_tenant_lookup() exists');
select function_returns('private', 'requested_tenant_lookup', array[]::text[], 'text', 'requested_tenant_lookup() returns text');
select volatility_is('private', 'requested_tenant_lookup', array[]::text[], 'stable', 'requested_tenant_lookup() is stable');
select isnt_definer('private', 'requested_tenant_lookup', array[]::text[], 'requested_tenant_lookup() is security invoker');
select ok(
  (select 'search_path=""' = any (proconfig) from pg_catalog.pg_proc where oid = to_regprocedure('private.requested_tenant_lookup()')),
  'requested_tenant_lookup() runs with an empty search_path'
);
select function_privs_are('private', 'requested_tenant_lookup', array[]::text[], 'anon', array['EXECUTE'],
  'anon may execute requested_tenant_lookup() (the policy calls it as the caller)');

-------------------------------------------------------------------------------
-- Reading the header: anything but a well-formed lookup names no tenant
-------------------------------------------------------------------------------
set local request.headers to '{"accept":"application/json","x-tenant-lookup":"slug:l11-alpha"}';
select is(private.requested_tenant_lookup(), 'slug:l11-alpha', 'the lookup is the x-tenant-lookup header, as sent');

set local request.headers to '{"accept":"application/json"}';
select is(private.requested_tenant_lookup(), null, 'no x-tenant-lookup header: no lookup');

set local request.headers to '';
select is(private.requested_tenant_lookup(), null, 'an empty request.headers setting: no lookup');

set local request.headers to 'x-tenant-lookup: slug:l11-alpha';
select is(private.requested_tenant_lookup(), null, 'request.headers that is not JSON: no lookup, no error');

set local request.headers to '["x-tenant-lookup","slug:l11-alpha"]';
select is(private.requested_tenant_lookup(), null, 'request.headers that is a JSON array: no lookup');

set local request.headers to '"slug:l11-alpha"';
select is(private.requested_tenant_lookup(), null, 'request.headers that is a JSON string: no lookup');

set local request.headers to '{"x-tenant-lookup":null}';
select is(private.requested_tenant_lookup(), null, 'a null header value: no lookup');

set local request.headers to '{"x-tenant-lookup":""}';
select is(private.requested_tenant_lookup(), null, 'an empty header value: no lookup');

set local request.headers to '{"x-tenant-lookup":"slug:\u0000"}';
select is(private.requested_tenant_lookup(), null, 'a header value that cannot be text (\u0000): no lookup, no error');

-------------------------------------------------------------------------------
-- anon
-------------------------------------------------------------------------------
select tests.authenticate_as_anon();

select is_empty(
  $$ select slug, custom_domain from public.tenant_profiles $$,
  'anon: a request that names no tenant sees no rows'
);
select is_empty(
  $$ select slug from public.tenant_profiles where slug = 'l11-alpha' $$,
  'anon: filtering for a slug without naming it in the header sees nothing'
);

set local request.headers to '{"x-tenant-lookup":"slug:l11-alpha"}';
select results_eq(
  $$ select id, slug from public.tenant_profiles $$,
  $$ values ('a1100000-0000-4000-8000-0000000000a1'::uuid, 'l11-alpha') $$,
  'anon: naming a tenant by slug shows exactly that tenant'
);
select is_empty(
  $$ select slug from public.tenant_profiles where slug = 'l11-beta' $$,
  'anon: naming one tenant while filtering for another sees nothing'
);

set local request.headers to '{"x-tenant-lookup":"domain:beta.listing.test"}';
select results_eq(
  $$ select id, slug from public.tenant_profiles where custom_domain = 'beta.listing.test' $$,
  $$ values ('b1100000-0000-4000-8000-0000000000b1'::uuid, 'l11-beta') $$,
  'anon: naming a tenant by custom domain shows exactly that tenant'
);

set local request.headers to '{"x-tenant-lookup":"id:a1100000-0000-4000-8000-0000000000a1"}';
select results_eq(
  $$ select id, slug from public.tenant_profiles where id = 'a1100000-0000-4000-8000-0000000000a1' $$,
  $$ values ('a1100000-0000-4000-8000-0000000000a1'::uuid, 'l11-alpha') $$,
  'anon: naming a tenant by id shows exactly that tenant'
);

set local request.headers to '{"x-tenant-lookup":"slug:l11-dormant"}';
select is_empty($$ select slug from public.tenant_profiles $$, 'anon: naming an inactive tenant by slug sees nothing');

set local request.headers to '{"x-tenant-lookup":"domain:dormant.listing.test"}';
select is_empty($$ select slug from public.tenant_profiles $$, 'anon: naming an inactive tenant by domain sees nothing');

set local request.headers to '{"x-tenant-lookup":"id:d1100000-0000-4000-8000-0000000000d1"}';
select is_empty($$ select slug from public.tenant_profiles $$, 'anon: naming an inactive tenant by id sees nothing');

set local request.headers to '{"x-tenant-lookup":"domain:l11-alpha"}';
select is_empty($$ select slug from public.tenant_profiles $$, 'anon: a slug named as a domain sees nothing');

set local request.headers to '{"x-tenant-lookup":"l11-alpha"}';
select is_empty($$ select slug from public.tenant_profiles $$, 'anon: a lookup without its kind sees nothing');

set local request.headers to '{"x-tenant-lookup":"ID:A1100000-0000-4000-8000-0000000000A1"}';
select is_empty($$ select slug from public.tenant_profiles $$, 'anon: a lookup in another spelling (upper case) sees nothing');

set local request.headers to 'not json at all';
select lives_ok($$ select slug from public.tenant_profiles $$, 'anon: a malformed request.headers does not fail the request');
select is_empty($$ select slug from public.tenant_profiles $$, 'anon: a malformed request.headers sees no rows');

-------------------------------------------------------------------------------
-- authenticated: anyone can sign up, so a signed-in user may not list either
-------------------------------------------------------------------------------
select tests.authenticate_as('c1100000-0000-4000-8000-000000000003');

select is_empty(
  $$ select slug, custom_domain from public.tenant_profiles $$,
  'a signed-in stranger: a request that names no tenant sees no rows'
);

set local request.headers to '{"x-tenant-lookup":"slug:l11-beta"}';
select results_eq(
  $$ select slug from public.tenant_profiles $$,
  $$ values ('l11-beta') $$,
  'a signed-in stranger: naming a tenant shows exactly that tenant'
);

set local request.headers to '{"x-tenant-lookup":"domain:dormant.listing.test"}';
select is_empty($$ select slug from public.tenant_profiles $$, 'a signed-in stranger: naming an inactive tenant sees nothing');

select tests.authenticate_as('a1100000-0000-4000-8000-000000000001');

select is_empty(
  $$ select slug from public.tenant_profiles $$,
  'an owner: a request that names no tenant sees no rows, not even its own'
);
select results_eq(
  $$ select slug from public.my_tenant_profile() $$,
  $$ values ('l11-alpha') $$,
  'an owner still reads its own profile through my_tenant_profile() without naming it'
);
select results_eq(
  $$ select * from private.owned_tenant_ids() $$,
  $$ values ('a1100000-0000-4000-8000-0000000000a1'::uuid) $$,
  'owned_tenant_ids(), which other tables'' policies use, needs no header either'
);

-------------------------------------------------------------------------------
-- service_role: trusted server code lists tenants as before
-------------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select results_eq(
  $$ select slug from public.tenant_profiles where slug like 'l11-%' order by slug $$,
  $$ values ('l11-alpha'), ('l11-beta'), ('l11-dormant') $$,
  'service_role lists every tenant without naming one'
);

select tests.clear_authentication();

select * from finish();
rollback;
