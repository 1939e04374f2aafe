-- The change feed is read through public.tenant_changes_since() only (issue
-- 20, findings 2 and 6): a direct read of tenant_changes by anon or
-- authenticated is refused before any row is read, so no filter (a regular
-- expression with back-references, say) ever runs on the feed's rows; the
-- function answers one JSON array, newest first, at most 1000 changes, and
-- only of the last 16 minutes, whatever is still stored. The service role
-- reads the table as before.
--
-- A regression would let the costly filter below run on every row: the
-- statement timeout turns that into a failure here instead of a stall.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
set local statement_timeout = '2s';

select plan(36);

-- A change of Alpha and of Dormant now; synthetic changes 15, 17 and 20
-- minutes old, as a feed that nobody wrote to for a while still holds them.
insert into public.tenant_profiles (id, slug, display_name, brand_config, is_active)
select t.id, t.slug, t.slug,
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb,
  t.is_active
from (values
  ('a1800000-0000-4000-8000-0000000000a1'::uuid, 'f18-alpha', true),
  ('d1800000-0000-4000-8000-0000000000d1'::uuid, 'f18-dormant', false)
) as t (id, slug, is_active);
delete from public.tenant_changes;
set constraints public.tenant_profiles_record_change immediate;
insert into public.tenant_changes (tenant_hash, changed_at) values
  (repeat('c', 64), now() - interval '15 minutes'),
  (repeat('b', 64), now() - interval '17 minutes'),
  (repeat('a', 64), now() - interval '20 minutes');

-- The hashes of a tenant_changes_since() answer, newest first.
create function pg_temp.hashes(changes jsonb)
returns text[]
language sql
immutable
as $$
  select coalesce(array_agg(c.change ->> 'tenant_hash' order by c.position), '{}')
  from jsonb_array_elements(changes) with ordinality as c (change, position)
$$;

-------------------------------------------------------------------------------
-- Structure
-------------------------------------------------------------------------------
select has_function('public', 'tenant_changes_since', array['timestamp with time zone', 'integer'],
  'tenant_changes_since(since, max_changes) exists');
select function_returns('public', 'tenant_changes_since', array['timestamp with time zone', 'integer'], 'jsonb',
  'it returns one jsonb value, not rows: PostgREST has nothing to filter');
select isnt_definer('public', 'tenant_changes_since', array['timestamp with time zone', 'integer'],
  'tenant_changes_since() is security invoker');
select is(
  (select proconfig from pg_catalog.pg_proc where oid = to_regprocedure('public.tenant_changes_since(timestamptz, integer)')),
  array['search_path=""'],
  'tenant_changes_since() runs with an empty search_path'
);
select has_function('private', 'tenant_changes_are_read_through_the_function', array[]::text[],
  'the policy''s gate exists, in the schema the API does not expose');
select isnt_definer('private', 'tenant_changes_are_read_through_the_function', array[]::text[],
  'the gate is security invoker');
select policies_are('public', 'tenant_changes', array['Recent tenant changes are readable through tenant_changes_since()'],
  'tenant_changes has one policy, the gate and the window');
select schema_privs_are('private', 'anon', array['USAGE'], 'anon may use the private schema (its policies'' helpers), not create in it');
select schema_privs_are('private', 'authenticated', array['USAGE'], 'authenticated may use the private schema, not create in it');
select is_empty(
  $$
    select 1 from pg_catalog.pg_proc as p, aclexplode(p.proacl) as acl
    where p.oid in (to_regprocedure('public.tenant_changes_since(timestamptz, integer)'),
                    to_regprocedure('private.tenant_changes_are_read_through_the_function()'))
      and acl.grantee = 0
  $$,
  'PUBLIC cannot execute either function'
);

-------------------------------------------------------------------------------
-- anon
-------------------------------------------------------------------------------
select tests.authenticate_as_anon();

select function_privs_are('public', 'tenant_changes_since', array['timestamp with time zone', 'integer'], 'anon', array['EXECUTE'],
  'anon: may execute tenant_changes_since()');
select throws_ok($$ select tenant_hash, changed_at from public.tenant_changes $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()', 'anon: a direct read of tenant_changes is refused');
select throws_ok(
  $$ select tenant_hash from public.tenant_changes where tenant_hash ~ '^(.*)(.*)(.*)(.*)(.*)(.*)\6\5\4\3\2\1$' $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()',
  'anon: a direct read with a backtracking regular expression is refused before the expression runs on any row'
);
select throws_ok(
  $$ select count(*) from public.tenant_changes where to_jsonb(changed_at) ->> 0 ~ '^(.*)(.*)(.*)(.*)(.*)(.*)\6\5\4\3\2\1$' $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()',
  'anon: so is one on changed_at read as text, as PostgREST reads changed_at->>0'
);
select throws_ok($$ select count(*) from public.tenant_changes $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()', 'anon: a count is refused too');
select throws_ok($$ select private.tenant_changes_are_read_through_the_function() $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()', 'anon: the gate refuses outside the function');

select is(
  pg_temp.hashes(public.tenant_changes_since(now() - interval '1 hour')),
  array[
    encode(sha256(convert_to('d1800000-0000-4000-8000-0000000000d1', 'UTF8')), 'hex'),
    encode(sha256(convert_to('a1800000-0000-4000-8000-0000000000a1', 'UTF8')), 'hex'),
    repeat('c', 64)
  ]::text[],
  'anon: the changes of the last 16 minutes, newest first, though it asked for an hour and the table holds more'
);
select ok(
  (select bool_and(c ->> 'changed_at' is not null and (c ->> 'changed_at')::timestamptz > now() - interval '16 minutes'
                   and (select array_agg(k order by k) from jsonb_object_keys(c) as k) = array['changed_at', 'tenant_hash'])
   from jsonb_array_elements(public.tenant_changes_since('-infinity')) as c),
  'anon: each change is {"tenant_hash", "changed_at"} and nothing else'
);
select is(
  pg_temp.hashes(public.tenant_changes_since(now() - interval '1 hour', 1)),
  array[encode(sha256(convert_to('d1800000-0000-4000-8000-0000000000d1', 'UTF8')), 'hex')]::text[],
  'anon: at most max_changes, the newest'
);
select is(jsonb_array_length(public.tenant_changes_since(now() - interval '1 hour', -5)), 0,
  'anon: a negative max_changes is none');
select is(jsonb_array_length(public.tenant_changes_since(now() - interval '16 minutes')), 3,
  'anon: since the time it names: the 15-minute-old change and today''s two');
select is(public.tenant_changes_since(now() + interval '1 minute'), '[]'::jsonb, 'anon: nothing since a later time: an empty array');
select is(public.tenant_changes_since(null), '[]'::jsonb, 'anon: a null time: an empty array');
select throws_ok($$ select public.tenant_changes_since(now()) as ok, (select count(*) from public.tenant_changes) as leaked $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()',
  'anon: once the function has returned, the table is closed again in the same statement');
select throws_ok($$ select tenant_hash from public.tenant_changes $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()',
  'anon: and for the rest of the transaction');

select tests.clear_authentication();

insert into public.tenant_changes (tenant_hash, changed_at)
select encode(sha256(convert_to(i::text, 'UTF8')), 'hex'), now() - i * interval '1 millisecond' from generate_series(1, 1200) as i;
select tests.authenticate_as_anon();
select is(jsonb_array_length(public.tenant_changes_since(now() - interval '1 hour', 100000)), 1000,
  'anon: never more than 1000 changes, whatever it asks for');
select is(jsonb_array_length(public.tenant_changes_since(now() - interval '1 hour')), 1000,
  'anon: 1000 by default');
select tests.clear_authentication();
delete from public.tenant_changes where changed_at < now() and changed_at > now() - interval '2 seconds';

-------------------------------------------------------------------------------
-- authenticated: a signed-in user is held to the same
-------------------------------------------------------------------------------
insert into auth.users (id, email) values ('a1800000-0000-4000-8000-000000000001', 'someone@feed-reads.test');
select tests.authenticate_as('a1800000-0000-4000-8000-000000000001');

select function_privs_are('public', 'tenant_changes_since', array['timestamp with time zone', 'integer'], 'authenticated', array['EXECUTE'],
  'authenticated: may execute tenant_changes_since()');
select throws_ok($$ select tenant_hash, changed_at from public.tenant_changes $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()', 'authenticated: a direct read of tenant_changes is refused');
select throws_ok(
  $$ select tenant_hash from public.tenant_changes where tenant_hash ~ '^(.*)(.*)(.*)(.*)(.*)(.*)\6\5\4\3\2\1$' $$,
  '42501', 'tenant changes are read through public.tenant_changes_since()',
  'authenticated: a direct read with a backtracking regular expression is refused'
);
select is(jsonb_array_length(public.tenant_changes_since(now() - interval '1 hour')), 3,
  'authenticated: the changes of the last 16 minutes');
select throws_ok($$ select id from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'authenticated: id stays out of reach');

select tests.clear_authentication();

-------------------------------------------------------------------------------
-- service_role: trusted server code reads the table, every row
-------------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select function_privs_are('public', 'tenant_changes_since', array['timestamp with time zone', 'integer'], 'service_role', array['EXECUTE'],
  'service_role: may execute tenant_changes_since()');
select is(
  (select count(*)::int from public.tenant_changes where tenant_hash in (repeat('a', 64), repeat('b', 64), repeat('c', 64))),
  3,
  'service_role: reads the table directly, the rows older than 16 minutes too'
);
select lives_ok($$ select tenant_hash from public.tenant_changes where tenant_hash ~ '^[0-9a-f]+$' $$,
  'service_role: with any filter');
select is(jsonb_array_length(public.tenant_changes_since(now() - interval '1 hour')), 5,
  'service_role: through the function, every row it asks for (row level security does not bind it)');

select tests.clear_authentication();

select * from finish();
rollback;
