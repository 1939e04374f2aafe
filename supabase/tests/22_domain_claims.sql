-- Claims of custom domains (issue 24): only a tenant that proved control of a
-- hostname's DNS can ever serve it, and no coach can slow or break the
-- platform for the others. Sectioned by what a hostile coach with a real
-- account would try: the platform's own names, someone else's domain (just
-- removed, live, or not added yet by its owner), floods of cheap writes, and
-- what the anon key learns of claims.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(64);

-- Fixture: Alpha (owner A), Beta (owner B), Sleepy (owner A, inactive).
insert into auth.users (id, email) values
  ('a2400000-0000-4000-8000-000000000001', 'alpha@claims.test'),
  ('b2400000-0000-4000-8000-000000000002', 'beta@claims.test');

insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config, is_active)
select t.id, t.user_id, t.slug, t.display_name,
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb,
  t.active
from (values
  ('a2400000-0000-4000-8000-0000000000a1'::uuid, 'a2400000-0000-4000-8000-000000000001'::uuid, 'd24-alpha', 'Alpha', true),
  ('b2400000-0000-4000-8000-0000000000b1'::uuid, 'b2400000-0000-4000-8000-000000000002'::uuid, 'd24-beta', 'Beta', true),
  ('c2400000-0000-4000-8000-0000000000c1'::uuid, 'a2400000-0000-4000-8000-000000000001'::uuid, 'd24-sleepy', 'Sleepy', false)
) as t (id, user_id, slug, display_name, active);

-- An owner function called as the owner of `tenant`'s letter.
create function pg_temp.add(owner text, tenant text, hostname text)
returns public.tenant_domains
language plpgsql
as $$
declare
  added public.tenant_domains;
begin
  perform tests.authenticate_as(case owner
    when 'a' then 'a2400000-0000-4000-8000-000000000001'::uuid
    else 'b2400000-0000-4000-8000-000000000002'::uuid
  end);
  select * into added from public.add_tenant_domain(tenant::uuid, hostname);
  perform tests.clear_authentication();
  return added;
end;
$$;

create function pg_temp.row_of(tenant uuid, name text)
returns table (status text, proven boolean, cloudflare_id text)
language sql
as $$
  select status, proven_at is not null, cloudflare_id from public.tenant_domains
  where tenant_id = tenant and hostname = name and status <> 'removing'
$$;

create function pg_temp.id_of(tenant uuid, name text)
returns uuid
language sql
as $$
  select id from public.tenant_domains
  where tenant_id = tenant and hostname = name and status <> 'removing'
$$;

-------------------------------------------------------------------------------
-- No claim before the control plane has said what is the platform's
-------------------------------------------------------------------------------
delete from private.domain_rules;
select throws_ok(
  $$ select tests.as_user('a2400000-0000-4000-8000-000000000001', 'select public.add_tenant_domain(''a2400000-0000-4000-8000-0000000000a1'', ''coach.alpha.test'')') $$,
  'PT503', null, 'a database that does not know the reserved names takes no claim');
select throws_ok(
  $$ select tests.as_user('a2400000-0000-4000-8000-000000000001', 'select public.set_domain_rules(''evil.test'', array[]::text[], 0)') $$,
  '42501', null, 'an owner cannot write the rules');
select lives_ok(
  $$ select tests.as_service_role('select public.set_domain_rules(''Platform.TEST.'', array[''customers.platform.test'', ''control.ops.test'', ''app.ops.test''], 604800)') $$,
  'the control plane (the service role) writes them');
select results_eq(
  $$ select platform_domain, reserved_hostnames, cooldown from private.domain_rules $$,
  $$ values ('platform.test', array['app.ops.test', 'control.ops.test', 'customers.platform.test'], interval '7 days') $$,
  'normalised: lowercase, sorted, without a trailing dot');
select throws_ok(
  $$ select tests.as_service_role('select public.set_domain_rules(''not a host'', array[]::text[], 0)') $$,
  '22023', null, 'rules that are not hostnames are refused');

-------------------------------------------------------------------------------
-- The platform's names and addresses are refused, at any depth
-------------------------------------------------------------------------------
select throws_ok(format($$ select pg_temp.add('a', 'a2400000-0000-4000-8000-0000000000a1', %L) $$, name),
  '22023', null, format('%s is refused', name))
from (values
  ('platform.test'), ('www.platform.test'), ('d24-beta.platform.test'), ('login.d24-beta.platform.test'),
  ('customers.platform.test'), ('control.ops.test'), ('deep.app.ops.test'), ('0x7f.0x1'), ('example.0xff'),
  ('a.b.123')
) as reserved (name);
select lives_ok(
  $$ select pg_temp.add('a', 'a2400000-0000-4000-8000-0000000000a1', 'notplatform.test') $$,
  'a name that merely ends like a reserved one is not reserved');
select throws_ok(
  $$ select pg_temp.add('a', 'c2400000-0000-4000-8000-0000000000c1', 'sleepy.alpha.test') $$,
  '42501', 'this tenant is not active: it cannot add domains', 'an inactive tenant adds no domain');

-------------------------------------------------------------------------------
-- Claims hold nothing until proven; the first to prove takes the name
-------------------------------------------------------------------------------
select results_eq(
  $$ select status, proven_at is null, proof_token ~ '^[0-9a-f]{32}$' from pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'shop.owned.test') $$,
  $$ values ('pending', true, true) $$,
  'a squatter''s claim is pending, unproven, with a token of its own');
select results_eq(
  $$ select status, proven_at is null from pg_temp.add('a', 'a2400000-0000-4000-8000-0000000000a1', 'shop.owned.test') $$,
  $$ values ('pending', true) $$,
  'the real owner may claim the same name: a pending claim holds nothing');
select isnt(
  (select proof_token from public.tenant_domains where hostname = 'shop.owned.test' and tenant_id = 'a2400000-0000-4000-8000-0000000000a1'),
  (select proof_token from public.tenant_domains where hostname = 'shop.owned.test' and tenant_id = 'b2400000-0000-4000-8000-0000000000b1'),
  'each claim has its own token');
select throws_ok(
  $$ select tests.as_service_role('update public.tenant_domains set status = ''active'' where hostname = ''shop.owned.test''') $$,
  '23514', null, 'an unproven claim never becomes active');
select throws_ok(
  $$ select tests.as_user('a2400000-0000-4000-8000-000000000001', format('select public.prove_tenant_domain(%L)', pg_temp.id_of('a2400000-0000-4000-8000-0000000000a1', 'shop.owned.test'))) $$,
  '42501', null, 'an owner cannot record their own proof');
select tests.as_service_role(format('select public.prove_tenant_domain(%L)', pg_temp.id_of('a2400000-0000-4000-8000-0000000000a1', 'shop.owned.test')));
select results_eq(
  $$ select * from pg_temp.row_of('a2400000-0000-4000-8000-0000000000a1', 'shop.owned.test') $$,
  $$ values ('pending', true, null::text) $$,
  'the owner proved control: its claim holds the name');
select results_eq(
  $$ select status, verification_errors[1] ~ '^another account proved control of the DNS of shop.owned.test first' from public.tenant_domains
     where hostname = 'shop.owned.test' and tenant_id = 'b2400000-0000-4000-8000-0000000000b1' $$,
  $$ values ('failed', true) $$,
  'the squatter''s claim fails, saying why');
select results_eq(
  $$ select status from pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'shop.owned.test') $$,
  $$ values ('pending') $$,
  'adding it again replaces its own failed claim');
select is(
  (select count(*)::int from public.tenant_domains where hostname = 'shop.owned.test' and tenant_id = 'b2400000-0000-4000-8000-0000000000b1'),
  1, 'one claim per tenant and name');
select lives_ok(
  $$ select tests.as_user('b2400000-0000-4000-8000-000000000002', 'select public.remove_tenant_domain(''b2400000-0000-4000-8000-0000000000b1'', ''shop.owned.test'')') $$,
  'a claim that never reached Cloudflare is removed');
select is(
  (select count(*)::int from public.tenant_domains where hostname = 'shop.owned.test' and tenant_id = 'b2400000-0000-4000-8000-0000000000b1'),
  0, 'and deleted at once: nothing for the control plane to clean up');

-------------------------------------------------------------------------------
-- A live domain moves only to a tenant that proves control of its DNS
-------------------------------------------------------------------------------
select tests.as_service_role($$
  update public.tenant_domains
  set status = 'active', cloudflare_id = 'cf-shop', ssl_status = 'active', verified_at = now(),
      ownership_http_path = '/.well-known/cf-custom-hostname-challenge/cf-shop', ownership_http_body = 'shop-token'
  where hostname = 'shop.owned.test' and tenant_id = 'a2400000-0000-4000-8000-0000000000a1'
$$);
select is((select custom_domain from public.tenant_profiles where id = 'a2400000-0000-4000-8000-0000000000a1'), 'shop.owned.test',
  'active and Alpha''s primary');
select results_eq(
  $$ select status, proven_at is null from pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'shop.owned.test') $$,
  $$ values ('pending', true) $$,
  'another coach may claim a live domain, and it holds nothing');
select results_eq(
  $$ select * from pg_temp.row_of('a2400000-0000-4000-8000-0000000000a1', 'shop.owned.test') $$,
  $$ values ('active', true, 'cf-shop') $$,
  'the live domain is untouched by the claim');
select tests.as_service_role(format('select public.prove_tenant_domain(%L)', pg_temp.id_of('b2400000-0000-4000-8000-0000000000b1', 'shop.owned.test')));
select results_eq(
  $$ select * from pg_temp.row_of('b2400000-0000-4000-8000-0000000000b1', 'shop.owned.test') $$,
  $$ values ('active', true, 'cf-shop') $$,
  'with the proof, the claimant takes the domain as it was: active, with its Cloudflare hostname');
select results_eq(
  $$ select status, cloudflare_id, verification_errors[1] ~ '^another account proved control of the DNS of shop.owned.test' from public.tenant_domains
     where hostname = 'shop.owned.test' and tenant_id = 'a2400000-0000-4000-8000-0000000000a1' $$,
  $$ values ('failed', null::text, true) $$,
  'the previous holder fails, saying why');
select results_eq(
  $$ select (select custom_domain from public.tenant_profiles where id = 'a2400000-0000-4000-8000-0000000000a1'),
            (select custom_domain from public.tenant_profiles where id = 'b2400000-0000-4000-8000-0000000000b1') $$,
  $$ values (null::text, 'shop.owned.test') $$,
  'the primaries follow: none left for Alpha, the domain for Beta');
select results_eq(
  $$ select domain_id, body from public.domain_challenges where hostname = 'shop.owned.test' $$,
  $$ values (pg_temp.id_of('b2400000-0000-4000-8000-0000000000b1', 'shop.owned.test'), 'shop-token') $$,
  'the ownership check moves with the hostname');

-------------------------------------------------------------------------------
-- A removed domain stays its owner's for the cool-down
-------------------------------------------------------------------------------
select tests.as_user('b2400000-0000-4000-8000-000000000002', $$
  select public.remove_tenant_domain('b2400000-0000-4000-8000-0000000000b1', 'shop.owned.test')
$$);
select results_eq(
  $$ select tenant_id from private.released_domains where hostname = 'shop.owned.test' $$,
  $$ values ('b2400000-0000-4000-8000-0000000000b1'::uuid) $$,
  'a removed domain is reserved to its tenant');
select results_eq(
  $$ select status, proven_at is null from pg_temp.add('a', 'a2400000-0000-4000-8000-0000000000a1', 'shop.owned.test') $$,
  $$ values ('pending', true) $$,
  'another tenant adding it during the cool-down gets an unproven claim, nothing more');
select results_eq(
  $$ select status, proven_at is not null, cloudflare_id from pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'shop.owned.test') $$,
  $$ values ('pending', true, 'cf-shop') $$,
  'its previous owner adds it again within the cool-down: proven at once, its Cloudflare hostname taken back');
select is(
  (select count(*)::int from public.tenant_domains where hostname = 'shop.owned.test' and status = 'removing'),
  0, 'the row being removed is gone: nothing to delete at Cloudflare');
select results_eq(
  $$ select status from public.tenant_domains where hostname = 'shop.owned.test' and tenant_id = 'a2400000-0000-4000-8000-0000000000a1' $$,
  $$ values ('failed') $$,
  'and the other claim fails');
select is_empty($$ select 1 from private.released_domains where hostname = 'shop.owned.test' $$, 'the cool-down ends once the name is held');
update private.released_domains set released_at = now() - interval '8 days';
insert into private.released_domains (hostname, tenant_id, released_at)
values ('old.owned.test', 'b2400000-0000-4000-8000-0000000000b1', now() - interval '8 days');
select results_eq(
  $$ select status, proven_at is null from pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'old.owned.test') $$,
  $$ values ('pending', true) $$,
  'after the cool-down its previous owner proves control like anyone');

-------------------------------------------------------------------------------
-- Floods: the limit of 10 tells nothing, and writes are rate limited
-------------------------------------------------------------------------------
delete from private.owner_write_budgets;
select lives_ok(
  $$ select pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'fill-' || n || '.beta.test') from generate_series(1, 8) as n $$,
  'Beta fills its 10 domains');
select throws_ok(
  $$ select pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'shop.owned.test') $$,
  'P0001', 'a tenant has at most 10 domains', 'at the limit, a name it already has answers "too many"');
select throws_ok(
  $$ select pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'coach.leadingwithmeaning.com') $$,
  'P0001', 'a tenant has at most 10 domains', 'so does a name someone else holds');
select throws_ok(
  $$ select pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'nobody-has-this.test') $$,
  'P0001', 'a tenant has at most 10 domains', 'and one nobody has');
select is((select round(tokens)::int from private.owner_write_budgets where tenant_id = 'b2400000-0000-4000-8000-0000000000b1'), 12,
  'refused calls cost nothing: 8 of 20 changes spent');
select lives_ok(
  $$ select tests.as_user('b2400000-0000-4000-8000-000000000002', format('select public.remove_tenant_domain(%L, %L)', 'b2400000-0000-4000-8000-0000000000b1', 'fill-' || n || '.beta.test')) from generate_series(1, 8) as n $$,
  'and removes 8 of them');
select lives_ok(
  $$ select pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'burst-' || n || '.beta.test') from generate_series(1, 4) as n $$,
  'and adds 4 more: its 20 changes are spent');
select throws_ok(
  $$ select pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'one-more.beta.test') $$,
  'PT429', null, 'the 21st change is refused: rate limited');
select is_empty($$ select 1 from public.tenant_domains where hostname = 'one-more.beta.test' $$, 'and writes nothing');
select results_eq(
  $$ select status from pg_temp.add('a', 'a2400000-0000-4000-8000-0000000000a1', 'own-budget.alpha.test') $$,
  $$ values ('pending') $$,
  'another tenant''s budget is its own');
update private.owner_write_budgets set refilled_at = refilled_at - interval '10 seconds'
where tenant_id = 'b2400000-0000-4000-8000-0000000000b1';
select lives_ok(
  $$ select pg_temp.add('b', 'b2400000-0000-4000-8000-0000000000b1', 'one-more.beta.test') $$,
  'ten seconds later, one more change');

-- Setting the primary that is already primary changes nothing: no budget, no feed entry.
select tests.as_service_role($$
  update public.tenant_domains set status = 'active', verified_at = now()
  where hostname = 'shop.owned.test' and tenant_id = 'b2400000-0000-4000-8000-0000000000b1'
$$);
update private.owner_write_budgets set tokens = 0, refilled_at = now() where tenant_id = 'b2400000-0000-4000-8000-0000000000b1';
set constraints all immediate;
set constraints all deferred;
delete from public.tenant_changes;
select lives_ok(
  $$ select tests.as_user('b2400000-0000-4000-8000-000000000002', 'select public.set_primary_tenant_domain(''b2400000-0000-4000-8000-0000000000b1'', ''shop.owned.test'') from generate_series(1, 50)') $$,
  'the primary set as primary 50 times, out of budget: nothing to refuse');
set constraints all immediate;
select is((select count(*)::int from public.tenant_changes), 0, 'and nothing recorded in the feed');
set constraints all deferred;

-------------------------------------------------------------------------------
-- The feed: one row per tenant, whatever it does
-------------------------------------------------------------------------------
delete from public.tenant_changes;
select tests.as_service_role($$
  update public.tenant_domains set ssl_status = 'x' || n
  from generate_series(1, 30) as n
  where hostname = 'shop.owned.test' and status = 'active'
$$);
select tests.as_service_role($$ update public.tenant_domains set ssl_status = 'pending_issuance' where hostname = 'shop.owned.test' and status = 'active' $$);
select tests.as_service_role($$ update public.tenant_domains set ssl_status = 'active' where hostname = 'shop.owned.test' and status = 'active' $$);
set constraints all immediate;
select is((select count(*)::int from public.tenant_changes), 1, 'a tenant changed three times keeps one row: its latest change');
set constraints all deferred;
select tests.as_service_role($$ update public.tenant_domains set ssl_status = 'active' where hostname = 'shop.owned.test' and status = 'active' $$);
select tests.as_service_role($$ update public.tenant_profiles set display_name = display_name where id = 'b2400000-0000-4000-8000-0000000000b1' $$);
delete from public.tenant_changes;
set constraints all immediate;
select is((select count(*)::int from public.tenant_changes), 0, 'writes that change nothing record nothing');
set constraints all deferred;
insert into public.tenant_changes (tenant_hash, changed_at)
select repeat(a, 64), now() - n * interval '1 second'
from (values ('a'), ('b')) as t (a), generate_series(1, 5) as n;
select tests.authenticate_as_anon();
select results_eq(
  $$ select c ->> 'tenant_hash', (c ->> 'changed_at')::timestamptz > now() - interval '2 seconds'
     from jsonb_array_elements(public.tenant_changes_since(now() - interval '1 minute')) as c order by 1 $$,
  $$ values (repeat('a', 64), true), (repeat('b', 64), true) $$,
  'the feed answers each tenant once, at its latest change');
select tests.clear_authentication();

-------------------------------------------------------------------------------
-- The claims the control plane looks up next: tenants in turn
-------------------------------------------------------------------------------
delete from public.tenant_domains where status = 'pending' and proven_at is null;
insert into public.tenant_domains (tenant_id, hostname, created_at)
select 'a2400000-0000-4000-8000-0000000000a1', 'many-' || n || '.alpha.test', now() - (10 - n) * interval '1 minute'
from generate_series(1, 5) as n;
insert into public.tenant_domains (tenant_id, hostname) values ('b2400000-0000-4000-8000-0000000000b1', 'late.beta.test');
select results_eq(
  $$ select hostname from public.claims_to_prove(3) $$,
  $$ values ('many-1.alpha.test'), ('late.beta.test'), ('many-2.alpha.test') $$,
  'each tenant''s oldest claim first, then each one''s second: five of one tenant''s claims keep no other tenant''s out');
select throws_ok(
  $$ select tests.as_user('a2400000-0000-4000-8000-000000000001', 'select public.claims_to_prove()') $$,
  '42501', null, 'an owner cannot list claims');

-------------------------------------------------------------------------------
-- What the anon key learns of claims
-------------------------------------------------------------------------------
select tests.authenticate_as_anon();
set local request.headers to '{"x-tenant-lookup":"domain:own-budget.alpha.test"}';
select is_empty($$ select hostname from public.tenant_domains $$, 'a pending claim named by domain: nothing');
select throws_ok($$ select proof_token from public.tenant_domains $$, '42501', null, 'a claim''s token is never the anon key''s');
set local request.headers to '{"x-tenant-lookup":"challenge:shop.owned.test/.well-known/cf-custom-hostname-challenge/cf-shop"}';
select results_eq(
  $$ select hostname, path, body from public.domain_challenges $$,
  $$ values ('shop.owned.test', '/.well-known/cf-custom-hostname-challenge/cf-shop', 'shop-token') $$,
  'the ownership check, named by its exact path');
select throws_ok($$ select domain_id from public.domain_challenges $$, '42501', null, 'but not which row it is');
select tests.clear_authentication();

select * from finish();
rollback;
