-- Domain events (issue 29): every status change of a tenant_domains row, by
-- whoever makes it, queues exactly one event in private.domain_events, and
-- nothing else does; the control plane claims the due ones (a hostname's in
-- order) and settles each attempt, as the service role; nobody else can read
-- the queue or call the functions.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(31);

-- Fixture: one owner, one tenant, no domain yet.
insert into auth.users (id, email) values
  ('a2600000-0000-4000-8000-000000000001', 'owner@events.test');
insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config)
values ('a2600000-0000-4000-8000-0000000000a1', 'a2600000-0000-4000-8000-000000000001',
  'd26-events', 'Events', tests.brand_config());

-- The events queued for a hostname, oldest first.
create function pg_temp.events_of(name text)
returns table (type text, status text, previous_status text)
language sql
as $$
  select e.type, e.status, e.previous_status
  from private.domain_events as e
  where e.hostname = name
  order by e.seq
$$;

-------------------------------------------------------------------------------
-- structure
-------------------------------------------------------------------------------
select has_table('private', 'domain_events', 'the queue lives in private');
select ok(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'private.domain_events'::regclass),
  'private.domain_events has row level security on'
);
select isnt_definer('public', 'claim_domain_events', array['integer'], 'claim_domain_events() is security invoker');
select isnt_definer('public', 'settle_domain_event', array['uuid', 'text', 'integer', 'text'],
  'settle_domain_event() is security invoker');

-------------------------------------------------------------------------------
-- the trigger: one event per status change, none for anything else
-------------------------------------------------------------------------------
insert into public.tenant_domains (id, tenant_id, hostname)
values ('a2600000-0000-4000-8000-0000000000d1', 'a2600000-0000-4000-8000-0000000000a1', 'coach.events.test');
select is_empty($$ select * from pg_temp.events_of('coach.events.test') $$, 'a new pending claim queues nothing');

update public.tenant_domains
set proven_at = now(), cloudflare_id = 'cf-events-1', ssl_status = 'pending_validation',
    verification_errors = array['custom hostname does not CNAME to this zone.']
where hostname = 'coach.events.test';
select is_empty($$ select * from pg_temp.events_of('coach.events.test') $$,
  'proof, a hostname id, a certificate status and errors (no status change) queue nothing');

update public.tenant_domains set status = 'pending' where hostname = 'coach.events.test';
select is_empty($$ select * from pg_temp.events_of('coach.events.test') $$,
  'writing the same status queues nothing');

update public.tenant_domains
set status = 'active', ssl_status = 'active', verified_at = now(), verification_errors = '{}'
where hostname = 'coach.events.test';
select results_eq($$ select * from pg_temp.events_of('coach.events.test') $$,
  $$ values ('domain.active', 'active', 'pending') $$,
  'pending -> active queues one domain.active, its previous status pending');

update public.tenant_domains set ssl_status = 'pending_deployment' where hostname = 'coach.events.test';
update public.tenant_domains set updated_at = now() where hostname = 'coach.events.test';
select is((select count(*)::int from pg_temp.events_of('coach.events.test')), 1,
  'other columns of an active row queue nothing');

update public.tenant_domains set status = 'moved' where hostname = 'coach.events.test';
update public.tenant_domains set status = 'blocked' where hostname = 'coach.events.test';
update public.tenant_domains
set status = 'failed', verification_errors = array['Cloudflare no longer has this hostname']
where hostname = 'coach.events.test';
update public.tenant_domains set status = 'removing' where hostname = 'coach.events.test';
select results_eq($$ select * from pg_temp.events_of('coach.events.test') $$,
  $$ values ('domain.active', 'active', 'pending'), ('domain.moved', 'moved', 'active'),
            ('domain.blocked', 'blocked', 'moved'), ('domain.failed', 'failed', 'blocked'),
            ('domain.removed', 'removing', 'failed') $$,
  'each status change queues exactly one event, in order; removing is told as domain.removed');
select is(
  (select reason from private.domain_events where hostname = 'coach.events.test' and type = 'domain.failed'),
  'Cloudflare no longer has this hostname',
  'a failure carries the row''s first error as its reason'
);

delete from public.tenant_domains where hostname = 'coach.events.test';
select is((select count(*)::int from pg_temp.events_of('coach.events.test')), 5,
  'deleting a removing row queues nothing more (it was told removed)');

insert into public.tenant_domains (tenant_id, hostname, status, proven_at, verified_at)
values ('a2600000-0000-4000-8000-0000000000a1', 'www.events.test', 'active', now(), now());
select results_eq($$ select * from pg_temp.events_of('www.events.test') $$,
  $$ values ('domain.active', 'active', null::text) $$,
  'a row inserted active (by an operator) queues domain.active, with no previous status');
delete from public.tenant_domains where hostname = 'www.events.test';
select results_eq($$ select * from pg_temp.events_of('www.events.test') $$,
  $$ values ('domain.active', 'active', null::text), ('domain.removed', 'removing', 'active') $$,
  'deleting a row that was not removing (a tenant deleted, a row by hand) queues domain.removed');

-- An owner's removal, through the owner function, queues its event too.
insert into public.tenant_domains (tenant_id, hostname, status, proven_at, verified_at)
values ('a2600000-0000-4000-8000-0000000000a1', 'owned.events.test', 'active', now(), now());
select lives_ok(
  $$ select tests.call_as('a2600000-0000-4000-8000-000000000001',
       $q$ select to_jsonb(public.remove_tenant_domain('a2600000-0000-4000-8000-0000000000a1', 'owned.events.test')) $q$) $$,
  'the owner removes a domain'
);
select results_eq($$ select * from pg_temp.events_of('owned.events.test') $$,
  $$ values ('domain.active', 'active', null::text), ('domain.removed', 'removing', 'active') $$,
  'an owner''s removal queues domain.removed');

-------------------------------------------------------------------------------
-- anonymous and signed-in callers
-------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok($$ select id from private.domain_events $$,
  '42501', 'permission denied for table domain_events', 'anon: reading the queue is denied');
select throws_ok($$ select * from public.claim_domain_events(10) $$,
  '42501', 'permission denied for function claim_domain_events', 'anon: claiming events is denied');

select tests.authenticate_as('a2600000-0000-4000-8000-000000000001');
select throws_ok($$ select id from private.domain_events $$,
  '42501', 'permission denied for table domain_events', 'authenticated (even the owner): reading the queue is denied');
select throws_ok($$ update private.domain_events set delivered_at = now() $$,
  '42501', 'permission denied for table domain_events', 'authenticated: writing the queue is denied');
select throws_ok($$ select * from public.claim_domain_events(10) $$,
  '42501', 'permission denied for function claim_domain_events', 'authenticated: claiming events is denied');
select throws_ok($$ select public.settle_domain_event(gen_random_uuid(), 'delivered') $$,
  '42501', 'permission denied for function settle_domain_event', 'authenticated: settling events is denied');

-------------------------------------------------------------------------------
-- the service role (the control plane)
-------------------------------------------------------------------------------
select tests.clear_authentication();
-- Only this file's events: the seed's are not this test's.
delete from private.domain_events where hostname not like '%events.test';

select tests.authenticate_as_service_role();
create temp table claimed as select * from public.claim_domain_events(10);
select results_eq(
  $$ select hostname, type, attempts from claimed order by hostname $$,
  $$ values ('coach.events.test', 'domain.active', 1), ('owned.events.test', 'domain.active', 1),
            ('www.events.test', 'domain.active', 1) $$,
  'a claim gives each hostname''s oldest event only, its attempt counted'
);
select ok(
  (select bool_and(at ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' and age_seconds >= 0) from claimed),
  'at is RFC 3339 UTC with milliseconds; age_seconds is how long ago'
);
select is_empty($$ select * from public.claim_domain_events(10) $$,
  'claimed events are leased: a second claim gets nothing (a hostname''s later events wait)');

select ok(public.settle_domain_event((select id from claimed where hostname = 'coach.events.test'), 'delivered'),
  'settling a delivery applies');
select ok(not public.settle_domain_event((select id from claimed where hostname = 'coach.events.test'), 'given_up', null, 'late'),
  'an event already settled stays settled');
select ok(public.settle_domain_event((select id from claimed where hostname = 'www.events.test'), 'retry', 0, 'HTTP 500'),
  'a retry applies');
select results_eq(
  $$ select hostname, type, attempts from public.claim_domain_events(10) order by hostname $$,
  $$ values ('coach.events.test', 'domain.moved', 1), ('www.events.test', 'domain.active', 2) $$,
  'after a delivery the hostname''s next event is due; a retried event is due again, the same one'
);
select throws_ok($$ select public.settle_domain_event(gen_random_uuid(), 'maybe') $$,
  '22023', 'outcome must be delivered, retry or given_up', 'service_role: an outcome is one of three');
select throws_ok($$ select public.settle_domain_event(gen_random_uuid(), 'retry') $$,
  '22023', 'a retry needs retry_in_seconds from 0 to 86400', 'service_role: a retry says when');

select tests.clear_authentication();

select * from finish();
rollback;
