-- A domain and its www serve one tenant (issue 29): no tenant claims www.<d>
-- while another holds <d>, nor <d> while another holds www.<d>; a pending
-- claim holds nothing and blocks no one; the rule holds for trusted code too.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(8);

-- Fixture: Alpha (owner A), Beta (owner B).
insert into auth.users (id, email) values
  ('a2900000-0000-4000-8000-000000000001', 'alpha@pairs.test'),
  ('b2900000-0000-4000-8000-000000000002', 'beta@pairs.test');

insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config)
values
  ('a2900000-0000-4000-8000-0000000000a1', 'a2900000-0000-4000-8000-000000000001', 'd29-alpha', 'Alpha', tests.brand_config()),
  ('b2900000-0000-4000-8000-0000000000b1', 'b2900000-0000-4000-8000-000000000002', 'd29-beta', 'Beta', tests.brand_config());

select tests.as_service_role('select public.set_domain_rules(''platform.test'', array[''customers.platform.test''], 604800)');

-- Alpha holds pair.test (active) and www.reverse.test (proven, pending);
-- it has an unproven claim of soft.test and a failed one of gone.test.
insert into public.tenant_domains (tenant_id, hostname, status, proven_at, verified_at, cloudflare_id)
values
  ('a2900000-0000-4000-8000-0000000000a1', 'pair.test', 'active', now(), now(), 'cf-pair'),
  ('a2900000-0000-4000-8000-0000000000a1', 'www.reverse.test', 'pending', now(), null, null),
  ('a2900000-0000-4000-8000-0000000000a1', 'soft.test', 'pending', null, null, null),
  ('a2900000-0000-4000-8000-0000000000a1', 'gone.test', 'failed', now(), null, null);

-- How Beta's (or Alpha's) claim of a name fails, if it does.
create function pg_temp.claim(owner uuid, tenant uuid, hostname text)
returns table (state text, reason text)
language sql
as $$
  select r.state, r.reason
  from tests.refusal_as(owner, pg_catalog.format('select to_jsonb(public.add_tenant_domain(%L, %L))', tenant, hostname)) as r
$$;

select results_eq(
  $$ select * from pg_temp.claim('b2900000-0000-4000-8000-000000000002', 'b2900000-0000-4000-8000-0000000000b1', 'www.pair.test') $$,
  $$ values ('23505', 'pair_taken') $$,
  'another tenant cannot claim the www of a held domain');
select results_eq(
  $$ select * from pg_temp.claim('b2900000-0000-4000-8000-000000000002', 'b2900000-0000-4000-8000-0000000000b1', 'reverse.test') $$,
  $$ values ('23505', 'pair_taken') $$,
  'nor the domain of a held www');
select is(
  (select count(*)::int from public.tenant_domains where tenant_id = 'b2900000-0000-4000-8000-0000000000b1'),
  0, 'the refusals left no claim');
select results_eq(
  $$ select * from pg_temp.claim('a2900000-0000-4000-8000-000000000001', 'a2900000-0000-4000-8000-0000000000a1', 'www.pair.test') $$,
  $$ values ('00000', null::text) $$,
  'the holder claims its own www');
select results_eq(
  $$ select * from pg_temp.claim('b2900000-0000-4000-8000-000000000002', 'b2900000-0000-4000-8000-0000000000b1', 'www.soft.test') $$,
  $$ values ('00000', null::text) $$,
  'an unproven claim holds nothing and blocks no one');
select results_eq(
  $$ select * from pg_temp.claim('b2900000-0000-4000-8000-000000000002', 'b2900000-0000-4000-8000-0000000000b1', 'www.gone.test') $$,
  $$ values ('00000', null::text) $$,
  'nor does a failed one');
select throws_ok(
  $$ insert into public.tenant_domains (tenant_id, hostname) values ('b2900000-0000-4000-8000-0000000000b1', 'WWW.Pair.Test.') $$,
  '23505', null,
  'trusted code is held to it too (another spelling is the same name)');
select throws_ok(
  $$ insert into public.tenant_domains (tenant_id, hostname) values ('b2900000-0000-4000-8000-0000000000b1', 'reverse.test') $$,
  '23505', null,
  'whichever half it writes');

select * from finish();
rollback;
