-- The control plane's Cloudflare call budget (issue 24): webhooks read a
-- hostname back from Cloudflare only within CLOUDFLARE_CALLS_PER_RUN calls a
-- minute, counted here for every isolate by public.spend_cloudflare_calls().
-- The service role spends; nobody else may call it or read the counts.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(17);

-- Structure: a table the Data API does not serve, with RLS on; a function
-- the service role alone executes.
select has_table('private', 'cloudflare_calls', 'the counts live in private');
select ok(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'private.cloudflare_calls'::regclass),
  'private.cloudflare_calls has row level security on'
);
select col_is_pk('private', 'cloudflare_calls', array['kind', 'minute'], 'one count per kind and minute');
select isnt_definer('public', 'spend_cloudflare_calls', array['text', 'integer', 'integer'],
  'spend_cloudflare_calls() is security invoker');
select ok(
  (select 'search_path=""' = any (proconfig) from pg_catalog.pg_proc
   where oid = 'public.spend_cloudflare_calls(text, integer, integer)'::regprocedure),
  'spend_cloudflare_calls() runs with an empty search_path'
);

-------------------------------------------------------------------------------
-- anonymous and signed-in callers
-------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok($$ select public.spend_cloudflare_calls('webhook', 1, 25) $$,
  '42501', 'permission denied for function spend_cloudflare_calls', 'anon: spending calls is denied');
select throws_ok($$ select calls from private.cloudflare_calls $$,
  '42501', 'permission denied for table cloudflare_calls', 'anon: reading the counts is denied');

select tests.authenticate_as('00000000-0000-4000-8000-000000000021');
select throws_ok($$ select public.spend_cloudflare_calls('webhook', 1, 25) $$,
  '42501', 'permission denied for function spend_cloudflare_calls', 'authenticated: spending calls is denied');
select throws_ok($$ insert into private.cloudflare_calls (kind, minute, calls) values ('webhook', now(), 0) $$,
  '42501', 'permission denied for table cloudflare_calls', 'authenticated: writing the counts is denied');

-------------------------------------------------------------------------------
-- the service role (the control plane)
-------------------------------------------------------------------------------
-- A count left from an earlier minute is pruned by the next call.
select tests.clear_authentication();
insert into private.cloudflare_calls (kind, minute, calls)
values ('webhook', date_trunc('minute', now()) - interval '5 minutes', 7);

select tests.authenticate_as_service_role();
-- now() is the transaction's start: every call below is in one minute.
select results_eq(
  $$ select public.spend_cloudflare_calls('webhook', 1, 2) union all
     select public.spend_cloudflare_calls('webhook', 1, 2) union all
     select public.spend_cloudflare_calls('webhook', 1, 2) $$,
  $$ values (true), (true), (false) $$,
  'service_role: calls are granted until the minute''s budget is spent, then refused'
);
select results_eq(
  $$ select kind, minute, calls from private.cloudflare_calls $$,
  $$ values ('webhook', date_trunc('minute', now()), 2) $$,
  'service_role: a refused spend counts nothing, and earlier minutes are pruned'
);
select is(public.spend_cloudflare_calls('cron', 2, 2), true, 'service_role: each kind has its own budget');
select is(public.spend_cloudflare_calls('other', 3, 2), false, 'service_role: more calls than the budget are refused at once');
select is(
  (select count(*)::int from private.cloudflare_calls where kind = 'other'),
  0,
  'service_role: and count nothing'
);
select throws_ok($$ select public.spend_cloudflare_calls('webhook', 0, 25) $$,
  '22023', 'calls and per_minute must be positive', 'service_role: spending no calls is refused');
select throws_ok($$ select public.spend_cloudflare_calls('Webhook; drop', 1, 25) $$,
  '22023', 'kind must be a lowercase name, e.g. webhook', 'service_role: a kind must be a name');
select throws_ok($$ select public.spend_cloudflare_calls('webhook', 1, null) $$,
  '22023', 'calls and per_minute must be positive', 'service_role: a budget is required');

select tests.clear_authentication();

select * from finish();
rollback;
