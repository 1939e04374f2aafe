-- Custom domains (issue 16): several per tenant, resolving only once
-- verified, one canonical host. The rules the database keeps, role by role:
-- the service role (the control plane) moves domains through Cloudflare's
-- lifecycle; owners add, remove and choose their primary only through the
-- owner functions and read their own rows; another signed-in user sees and
-- changes nothing; the anon key sees at most the row a request names, and
-- only an active row it names. custom_domain always says the primary, and
-- every change is in the change feed. (Claims and their proof of control:
-- 22_domain_claims.sql.)
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(75);

-- Fixture: two owners and a stranger; Alpha and Beta belong to the owners,
-- Gamma (no domain yet) to Alpha's owner too.
insert into auth.users (id, email) values
  ('a2000000-0000-4000-8000-000000000001', 'alpha-owner@domains.test'),
  ('b2000000-0000-4000-8000-000000000002', 'beta-owner@domains.test'),
  ('c2000000-0000-4000-8000-000000000003', 'stranger@domains.test');

insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config, custom_domain)
select t.id, t.user_id, t.slug, t.display_name,
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb,
  t.domain
from (values
  ('a2000000-0000-4000-8000-0000000000a1'::uuid, 'a2000000-0000-4000-8000-000000000001'::uuid, 'd20-alpha', 'Alpha', 'coach.alpha.test'),
  ('b2000000-0000-4000-8000-0000000000b1'::uuid, 'b2000000-0000-4000-8000-000000000002'::uuid, 'd20-beta', 'Beta', null),
  ('e2000000-0000-4000-8000-0000000000e1'::uuid, 'a2000000-0000-4000-8000-000000000001'::uuid, 'd20-gamma', 'Gamma', null)
) as t (id, user_id, slug, display_name, domain);

-- What the control plane tells the database on every run.
select tests.as_service_role($$ select public.set_domain_rules('platform.test', array['customers.platform.test'], 604800) $$);

create function pg_temp.domains_of(tenant uuid)
returns table (hostname text, status text, is_primary boolean)
language sql
as $$
  select hostname, status, is_primary from public.tenant_domains
  where tenant_id = tenant order by created_at, hostname
$$;

create function pg_temp.custom_domain_of(tenant uuid)
returns text
language sql
as $$ select custom_domain from public.tenant_profiles where id = tenant $$;

-------------------------------------------------------------------------------
-- Structure
-------------------------------------------------------------------------------
select has_table('public', 'tenant_domains', 'tenant_domains exists');
select columns_are('public', 'tenant_domains', array[
  'id', 'tenant_id', 'hostname', 'status', 'is_primary', 'ssl_status', 'cloudflare_id',
  'ownership_txt_name', 'ownership_txt_value', 'ownership_http_path', 'ownership_http_body',
  'verification_errors', 'created_at', 'updated_at', 'verified_at', 'proof_token', 'proven_at'
], 'tenant_domains has the contract''s columns');
select col_type_is('public', 'tenant_domains', 'verification_errors', 'text[]', 'verification_errors is text[]');
select col_type_is('public', 'tenant_domains', 'verified_at', 'timestamp with time zone', 'verified_at is a timestamptz');
select fk_ok('public', 'tenant_domains', 'tenant_id', 'public', 'tenant_profiles', 'id', 'tenant_id references tenant_profiles');
select is(
  (select confdeltype::text from pg_catalog.pg_constraint where conrelid = 'public.tenant_domains'::regclass and contype = 'f'),
  'c', 'a tenant''s domains are deleted with it');
select col_is_unique('public', 'tenant_domains', 'cloudflare_id', 'cloudflare_id is unique');
select ok((select relrowsecurity from pg_catalog.pg_class where oid = 'public.tenant_domains'::regclass), 'RLS is on');

-------------------------------------------------------------------------------
-- The migration: existing custom domains are active primary domains
-------------------------------------------------------------------------------
select ok(
  (select count(*) = 0 from public.tenant_profiles as t
   where t.custom_domain is distinct from (select d.hostname from public.tenant_domains as d where d.tenant_id = t.id and d.is_primary)),
  'every tenant''s custom_domain is its primary domain''s hostname, or null without one');
select results_eq(
  $$ select status, is_primary, verified_at is not null from public.tenant_domains where hostname = 'coach.leadingwithmeaning.com' $$,
  $$ values ('active', true, true) $$,
  'the custom domain set before the migration is an active, verified primary domain');
select results_eq(
  $$ select * from pg_temp.domains_of('a2000000-0000-4000-8000-0000000000a1') $$,
  $$ values ('coach.alpha.test', 'active', true) $$,
  'a custom_domain written by trusted code is an active primary domain');

-------------------------------------------------------------------------------
-- Owners: only through the owner functions
-------------------------------------------------------------------------------
select tests.authenticate_as('a2000000-0000-4000-8000-000000000001');
select results_eq(
  $$ select hostname, status, is_primary from public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'WWW.Alpha-Two.TEST.') $$,
  $$ values ('www.alpha-two.test', 'pending', false) $$,
  'an owner adds a domain: case and one trailing dot normalised, pending');
select throws_ok(
  $$ select public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'https://alpha.test/') $$,
  '22023', 'not a domain name: lowercase ASCII letters, digits and hyphens in two labels or more, without scheme, port or path',
  'a URL is not a domain');
select throws_ok($$ select public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', '192.168.0.1') $$, '22023', null, 'an IP is not a domain');
select throws_ok($$ select public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'alpha.test:8443') $$, '22023', null, 'a port is refused');
select throws_ok($$ select public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'localhost') $$, '22023', null, 'one label is refused');
select throws_ok($$ select public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'alpha.test..') $$, '22023', null, 'two trailing dots are refused');
select throws_ok($$ select public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', repeat('a.', 127) || 'test') $$, '22023', null, 'longer than 253 characters is refused');
select results_eq(
  $$ select status, proven_at is null from public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'coach.leadingwithmeaning.com') $$,
  $$ values ('pending', true) $$,
  'a hostname another tenant holds may be claimed: pending and unproven, it holds nothing');
select lives_ok(
  $$ select public.remove_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'coach.leadingwithmeaning.com') $$,
  'and given up again');
select throws_ok(
  $$ select public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'coach.alpha.test') $$,
  '23505', 'this tenant already has the domain coach.alpha.test', 'a hostname the tenant already has is refused');
select throws_ok(
  $$ select public.add_tenant_domain('b2000000-0000-4000-8000-0000000000b1', 'beta.stolen.test') $$,
  '42501', 'you do not own this tenant', 'an owner cannot add a domain to another''s tenant');
select lives_ok(
  $$ select public.add_tenant_domain('e2000000-0000-4000-8000-0000000000e1', 'gamma-' || n || '.test') from generate_series(1, 10) n $$,
  'a tenant may have 10 domains');
select throws_ok(
  $$ select public.add_tenant_domain('e2000000-0000-4000-8000-0000000000e1', 'gamma-11.test') $$,
  'P0001', 'a tenant has at most 10 domains', 'an eleventh is refused');
select throws_ok(
  $$ insert into public.tenant_domains (tenant_id, hostname) values ('a2000000-0000-4000-8000-0000000000a1', 'direct.alpha.test') $$,
  '42501', null, 'owners do not insert rows themselves');
select throws_ok(
  $$ update public.tenant_domains set status = 'active' where hostname = 'www.alpha-two.test' $$,
  '42501', null, 'owners do not set a status');
select throws_ok(
  $$ delete from public.tenant_domains where hostname = 'www.alpha-two.test' $$,
  '42501', null, 'owners do not delete rows');
select ok(
  (select count(*) = 2 and bool_and(tenant_id = 'a2000000-0000-4000-8000-0000000000a1')
   from public.tenant_domains where tenant_id = 'a2000000-0000-4000-8000-0000000000a1'),
  'an owner reads their tenant''s domains');
select lives_ok(
  $$ select verification_errors, cloudflare_id, ownership_txt_value, ssl_status from public.tenant_domains $$,
  'an owner reads every column of their own domains');
select throws_ok(
  $$ select public.set_primary_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'www.alpha-two.test') $$,
  'PT409', null, 'a pending domain cannot be primary');
select throws_ok(
  $$ select public.remove_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'nowhere.alpha.test') $$,
  'PT404', null, 'removing a domain the tenant does not have is an error');
select tests.clear_authentication();

-------------------------------------------------------------------------------
-- Another signed-in user
-------------------------------------------------------------------------------
select tests.authenticate_as('c2000000-0000-4000-8000-000000000003');
select is_empty($$ select hostname from public.tenant_domains $$, 'a stranger sees no domain');
set local request.headers to '{"x-tenant-lookup":"domain:coach.alpha.test"}';
select is_empty($$ select hostname from public.tenant_domains $$, 'not even one it names');
select throws_ok(
  $$ select public.remove_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'coach.alpha.test') $$,
  '42501', null, 'a stranger cannot remove another tenant''s domain');
select throws_ok(
  $$ select public.set_primary_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'coach.alpha.test') $$,
  '42501', null, 'nor choose its primary');
select throws_ok(
  $$ update public.tenant_domains set status = 'active' $$,
  '42501', null, 'nor set a status');
select tests.clear_authentication();

-------------------------------------------------------------------------------
-- The anon key
-------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok($$ select * from public.tenant_domains $$, '42501', null, 'anon cannot read every column');
select is_empty($$ select hostname from public.tenant_domains $$, 'a request that names no domain sees none');
set local request.headers to '{"x-tenant-lookup":"domain:www.alpha-two.test"}';
select is_empty(
  $$ select hostname, status, tenant_id from public.tenant_domains $$,
  'a request that names a pending domain sees nothing of it, not even its tenant');
select throws_ok($$ select verification_errors from public.tenant_domains $$, '42501', null, 'but not its verification errors');
select throws_ok($$ select cloudflare_id from public.tenant_domains $$, '42501', null, 'nor its Cloudflare id');
select is_empty(
  $$ select slug from public.tenant_profiles $$,
  'a pending domain names no tenant');
set local request.headers to '{"x-tenant-lookup":"domain:coach.alpha.test"}';
select results_eq(
  $$ select slug from public.tenant_profiles $$,
  $$ values ('d20-alpha') $$,
  'an active domain names its tenant');
select results_eq(
  $$ select hostname, status from public.tenant_domains $$,
  $$ values ('coach.alpha.test', 'active') $$,
  'and shows its row');
set local request.headers to '{"x-tenant-lookup":"domain:COACH.ALPHA.TEST"}';
select is_empty($$ select slug from public.tenant_profiles $$, 'in its stored spelling only');
select throws_ok(
  $$ select public.add_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'anon.alpha.test') $$,
  '42501', null, 'anon cannot call the owner functions');
select tests.clear_authentication();

-------------------------------------------------------------------------------
-- The lifecycle, as the service role drives it
-------------------------------------------------------------------------------
select tests.as_service_role($$
  update public.tenant_domains
  set status = 'active', ssl_status = 'active', verified_at = now(), cloudflare_id = 'cf-alpha-two', proven_at = now()
  where hostname = 'www.alpha-two.test'
$$);
select results_eq(
  $$ select * from pg_temp.domains_of('a2000000-0000-4000-8000-0000000000a1') $$,
  $$ values ('coach.alpha.test', 'active', true), ('www.alpha-two.test', 'active', false) $$,
  'a second active domain is not primary: the tenant has one');

select throws_ok(
  $$ select tests.as_service_role('update public.tenant_domains set is_primary = true where hostname = ''gamma-1.test''') $$,
  '23514', null, 'only an active domain can be primary');
select throws_ok(
  $$ select tests.as_service_role('insert into public.tenant_domains (tenant_id, hostname, proven_at) values (''b2000000-0000-4000-8000-0000000000b1'', ''coach.alpha.test'', now())') $$,
  '23505', null, 'a hostname is held by one proven row at a time');
select throws_ok(
  $$ select tests.as_service_role('update public.tenant_domains set status = ''sleeping'' where hostname = ''gamma-1.test''') $$,
  '23514', null, 'a status is one of the lifecycle''s');

select tests.as_user('a2000000-0000-4000-8000-000000000001', $$
  select public.set_primary_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'www.alpha-two.test')
$$);
select results_eq(
  $$ select * from pg_temp.domains_of('a2000000-0000-4000-8000-0000000000a1') $$,
  $$ values ('coach.alpha.test', 'active', false), ('www.alpha-two.test', 'active', true) $$,
  'an owner makes an active domain primary');
select is(pg_temp.custom_domain_of('a2000000-0000-4000-8000-0000000000a1'), 'www.alpha-two.test', 'custom_domain follows the primary');

select tests.as_service_role($$ update public.tenant_domains set status = 'moved' where hostname = 'www.alpha-two.test' $$);
select results_eq(
  $$ select * from pg_temp.domains_of('a2000000-0000-4000-8000-0000000000a1') $$,
  $$ values ('coach.alpha.test', 'active', true), ('www.alpha-two.test', 'moved', false) $$,
  'a primary that stops being active hands over to the oldest other active domain');
select is(pg_temp.custom_domain_of('a2000000-0000-4000-8000-0000000000a1'), 'coach.alpha.test', 'and custom_domain follows');

select tests.as_user('a2000000-0000-4000-8000-000000000001', $$
  select public.remove_tenant_domain('a2000000-0000-4000-8000-0000000000a1', 'coach.alpha.test')
$$);
select results_eq(
  $$ select * from pg_temp.domains_of('a2000000-0000-4000-8000-0000000000a1') $$,
  $$ values ('coach.alpha.test', 'removing', false), ('www.alpha-two.test', 'moved', false) $$,
  'a removed domain is removing, and no longer primary');
select is(pg_temp.custom_domain_of('a2000000-0000-4000-8000-0000000000a1'), null, 'without an active domain, custom_domain is null');
select tests.authenticate_as_anon();
set local request.headers to '{"x-tenant-lookup":"domain:coach.alpha.test"}';
select is_empty($$ select slug from public.tenant_profiles $$, 'a removed domain names no tenant');
select tests.clear_authentication();

select lives_ok(
  $$ select tests.as_service_role('insert into public.tenant_domains (tenant_id, hostname) values (''b2000000-0000-4000-8000-0000000000b1'', ''coach.alpha.test'')') $$,
  'a hostname being removed no longer holds it');

select tests.as_service_role($$
  update public.tenant_domains set status = 'active', proven_at = now() where hostname = 'coach.alpha.test' and tenant_id = 'b2000000-0000-4000-8000-0000000000b1'
$$);
select results_eq(
  $$ select * from pg_temp.domains_of('b2000000-0000-4000-8000-0000000000b1') $$,
  $$ values ('coach.alpha.test', 'active', true) $$,
  'the first domain of a tenant to become active becomes its primary');
select is(pg_temp.custom_domain_of('b2000000-0000-4000-8000-0000000000b1'), 'coach.alpha.test', 'and its custom_domain');

select lives_ok(
  $$ select tests.as_service_role('delete from public.tenant_domains where hostname = ''coach.alpha.test'' and status = ''removing''') $$,
  'the control plane deletes a removed row');

-------------------------------------------------------------------------------
-- A direct write of custom_domain by trusted code
-------------------------------------------------------------------------------
select tests.as_service_role($$
  update public.tenant_domains set cloudflare_id = 'cf-beta-1' where hostname = 'coach.alpha.test'
$$);
select tests.as_service_role($$
  update public.tenant_profiles set custom_domain = 'coach.beta.test' where id = 'b2000000-0000-4000-8000-0000000000b1'
$$);
select results_eq(
  $$ select * from pg_temp.domains_of('b2000000-0000-4000-8000-0000000000b1') $$,
  $$ values ('coach.alpha.test', 'removing', false), ('coach.beta.test', 'active', true) $$,
  'written directly, custom_domain becomes the active primary; the previous one is retired (removing: Cloudflare has a hostname for it)');
select tests.as_service_role($$
  update public.tenant_profiles set custom_domain = null where id = 'b2000000-0000-4000-8000-0000000000b1'
$$);
select results_eq(
  $$ select * from pg_temp.domains_of('b2000000-0000-4000-8000-0000000000b1') $$,
  $$ values ('coach.alpha.test', 'removing', false) $$,
  'written null, the primary is retired (deleted: Cloudflare never had it)');
select is(pg_temp.custom_domain_of('b2000000-0000-4000-8000-0000000000b1'), null, 'and custom_domain stays null');
select throws_ok(
  $$ select tests.as_service_role('update public.tenant_profiles set custom_domain = ''www.alpha-two.test'' where id = ''b2000000-0000-4000-8000-0000000000b1''') $$,
  '23505', null, 'a direct write cannot take a hostname another tenant holds');

-------------------------------------------------------------------------------
-- The change feed: every change of tenant_domains under its tenant's hash
-------------------------------------------------------------------------------
delete from public.tenant_changes;
set constraints all immediate;
delete from public.tenant_changes;
set constraints all deferred;
select tests.as_service_role($$ update public.tenant_domains set ssl_status = 'pending_issuance' where hostname = 'gamma-3.test' $$);
set constraints all immediate;
select results_eq(
  $$ select distinct tenant_hash from public.tenant_changes $$,
  $$ values (encode(sha256(convert_to('e2000000-0000-4000-8000-0000000000e1', 'UTF8')), 'hex')) $$,
  'a change of a domain is recorded under its tenant''s hash');
set constraints all deferred;
delete from public.tenant_changes;
select tests.as_service_role($$ delete from public.tenant_domains where hostname = 'gamma-4.test' $$);
set constraints all immediate;
select results_eq(
  $$ select distinct tenant_hash from public.tenant_changes $$,
  $$ values (encode(sha256(convert_to('e2000000-0000-4000-8000-0000000000e1', 'UTF8')), 'hex')) $$,
  'so is a deleted domain');
set constraints all deferred;

-------------------------------------------------------------------------------
-- Grants
-------------------------------------------------------------------------------
select ok(not has_table_privilege('anon', 'public.tenant_domains', 'select'), 'anon has no table-wide select');
select ok(has_column_privilege('anon', 'public.tenant_domains', 'ownership_http_body', 'select'), 'anon reads the ownership token the Worker serves');
select ok(not has_column_privilege('anon', 'public.tenant_domains', 'verification_errors', 'select'), 'anon cannot read verification errors');
select ok(not has_column_privilege('anon', 'public.tenant_domains', 'cloudflare_id', 'select'), 'anon cannot read Cloudflare ids');
select ok(not has_table_privilege('authenticated', 'public.tenant_domains', 'insert, update, delete'), 'authenticated writes nothing directly');
select ok(not has_function_privilege('anon', 'public.add_tenant_domain(uuid, text)', 'execute'), 'anon cannot execute add_tenant_domain');
select ok(has_function_privilege('authenticated', 'public.add_tenant_domain(uuid, text)', 'execute'), 'authenticated can');
select is_definer('public', 'add_tenant_domain', array['uuid', 'text'], 'add_tenant_domain is security definer (owners hold no write privilege)');

select * from finish();
rollback;
