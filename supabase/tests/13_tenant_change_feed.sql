-- The tenant change feed (issue 10): every insert, update and delete of
-- tenant_profiles, of any column, active tenant or not, is recorded in
-- tenant_changes by a deferred trigger, as the SHA-256 of the tenant's id and
-- the time its transaction ended; rows older than an hour are pruned. anon and
-- authenticated read tenant_hash and changed_at of every recent row through
-- tenant_changes_since() and nothing else (18_tenant_change_feed_reads.sql),
-- and cannot write, so no tenant id, slug, domain or private value reaches
-- them. Writers of tenant_profiles need no privilege on the feed.
--
-- The trigger fires when a transaction ends, and this file's transaction ends
-- in a rollback: `set constraints ... immediate` fires it instead.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(61);

-------------------------------------------------------------------------------
-- Structure
-------------------------------------------------------------------------------
select has_table('public', 'tenant_changes', 'tenant_changes exists');
select columns_are('public', 'tenant_changes', array['id', 'tenant_hash', 'changed_at'],
  'tenant_changes has exactly id, tenant_hash and changed_at');
select col_type_is('public', 'tenant_changes', 'id', 'bigint', 'id is bigint');
select col_type_is('public', 'tenant_changes', 'tenant_hash', 'text', 'tenant_hash is text');
select col_type_is('public', 'tenant_changes', 'changed_at', 'timestamp with time zone', 'changed_at is timestamptz');
select col_is_pk('public', 'tenant_changes', 'id', 'id is the primary key');
select is(
  (select attidentity from pg_catalog.pg_attribute where attrelid = 'public.tenant_changes'::regclass and attname = 'id'),
  'a',
  'id is generated always as identity'
);
select col_not_null('public', 'tenant_changes', 'tenant_hash', 'tenant_hash is required');
select col_not_null('public', 'tenant_changes', 'changed_at', 'changed_at is required');
select col_default_is('public', 'tenant_changes', 'changed_at', 'clock_timestamp()',
  'changed_at defaults to clock_timestamp(), the time of recording, not of the transaction''s start');
select has_index('public', 'tenant_changes', 'tenant_changes_changed_at_idx', array['changed_at'],
  'changed_at is indexed for the readers'' window and the prune');
select throws_ok(
  $$ insert into public.tenant_changes (tenant_hash) values (upper(encode(sha256('x'), 'hex'))) $$,
  '23514', 'new row for relation "tenant_changes" violates check constraint "tenant_changes_tenant_hash_format"',
  'tenant_hash must be 64 lowercase hex digits'
);
select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.tenant_changes'::regclass),
  true,
  'RLS is enabled on tenant_changes'
);
select policies_are('public', 'tenant_changes', array['Recent tenant changes are readable through tenant_changes_since()'],
  'tenant_changes has one policy, for reading');
select policy_roles_are('public', 'tenant_changes', 'Recent tenant changes are readable through tenant_changes_since()',
  array['anon', 'authenticated'], 'the policy applies to anon and authenticated');
select policy_cmd_is('public', 'tenant_changes', 'Recent tenant changes are readable through tenant_changes_since()', 'select',
  'the policy is for select only');

select has_trigger('public', 'tenant_profiles', 'tenant_profiles_record_change',
  'tenant_profiles has the change feed trigger');
select trigger_is('public', 'tenant_profiles', 'tenant_profiles_record_change',
  'public', 'record_tenant_change', 'the trigger calls public.record_tenant_change()');
select results_eq(
  $$
    select t.tgconstraint <> 0, t.tgdeferrable, t.tginitdeferred,
      (t.tgtype & 2) = 0, (t.tgtype & 1) <> 0,
      (t.tgtype & 4) <> 0, (t.tgtype & 16) <> 0, (t.tgtype & 8) <> 0,
      cardinality(t.tgattr::int2[]) = 0
    from pg_catalog.pg_trigger as t
    where t.tgrelid = 'public.tenant_profiles'::regclass and t.tgname = 'tenant_profiles_record_change'
  $$,
  $$ values (true, true, true, true, true, true, true, true, true) $$,
  'the trigger is a constraint trigger, deferrable initially deferred, after insert, update and delete of any column, for each row'
);
select is_definer('public', 'record_tenant_change', array[]::text[],
  'record_tenant_change() is security definer: writers need no privilege on tenant_changes');
select ok(
  (select 'search_path=""' = any (proconfig) from pg_catalog.pg_proc where oid = to_regprocedure('public.record_tenant_change()')),
  'record_tenant_change() runs with an empty search_path'
);
select function_privs_are('public', 'record_tenant_change', array[]::text[], 'anon', array[]::text[],
  'anon cannot execute record_tenant_change()');
select function_privs_are('public', 'record_tenant_change', array[]::text[], 'authenticated', array[]::text[],
  'authenticated cannot execute record_tenant_change()');
select is_empty(
  $$
    select 1
    from pg_catalog.pg_proc as p, aclexplode(p.proacl) as acl
    where p.oid = to_regprocedure('public.record_tenant_change()') and acl.grantee = 0
  $$,
  'PUBLIC cannot execute record_tenant_change()'
);

-------------------------------------------------------------------------------
-- Privileges
-------------------------------------------------------------------------------
select table_privs_are('public', 'tenant_changes', 'anon', array[]::text[],
  'anon holds no table-wide privilege on tenant_changes');
select table_privs_are('public', 'tenant_changes', 'authenticated', array[]::text[],
  'authenticated holds no table-wide privilege on tenant_changes');
select results_eq(
  $$
    select r.rolname, a.attname::text collate "default", p.privilege
    from pg_catalog.pg_attribute as a
    cross join (values ('anon'), ('authenticated')) as r (rolname)
    cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) as p (privilege)
    where a.attrelid = 'public.tenant_changes'::regclass
      and a.attnum > 0
      and not a.attisdropped
      and has_column_privilege(r.rolname, a.attrelid, a.attnum, p.privilege)
    order by 1, 2, 3
  $$,
  $$
    values
      ('anon', 'changed_at', 'SELECT'),
      ('anon', 'tenant_hash', 'SELECT'),
      ('authenticated', 'changed_at', 'SELECT'),
      ('authenticated', 'tenant_hash', 'SELECT')
  $$,
  'anon and authenticated may select tenant_hash and changed_at, and nothing else'
);
select ok(
  not has_sequence_privilege('anon', 'public.tenant_changes_id_seq', 'usage, select, update')
    and not has_sequence_privilege('authenticated', 'public.tenant_changes_id_seq', 'usage, select, update'),
  'anon and authenticated hold no privilege on the id sequence'
);
select table_privs_are('public', 'tenant_changes', 'service_role',
  array['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'],
  'service_role holds every privilege on tenant_changes');

-- Two helpers for this file: the hash the feed publishes for a tenant id, and
-- "empty the feed, then make this change as the service role".
create function pg_temp.hash_of(tenant_id text)
returns text
language sql
immutable
as $$ select encode(sha256(convert_to(tenant_id, 'UTF8')), 'hex') $$;

create function pg_temp.change_as_service_role(statement text)
returns void
language plpgsql
as $$
begin
  delete from public.tenant_changes;
  perform tests.authenticate_as_service_role();
  execute statement;
  perform tests.clear_authentication();
end;
$$;

-------------------------------------------------------------------------------
-- The trigger records every change. The feed starts empty before each change,
-- and the writer is the service role with no privilege at all on the feed.
-------------------------------------------------------------------------------
delete from public.tenant_changes;
revoke all on table public.tenant_changes from service_role;

-- Alpha: active, with a domain and private settings. Dormant: inactive. Beta: active.
select tests.authenticate_as_service_role();
insert into public.tenant_profiles (id, slug, display_name, brand_config, email_config, subscription_tier, is_active, custom_domain)
select t.id, t.slug, t.display_name,
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb,
  t.email_config, 'professional', t.is_active, t.domain
from (values
  ('a1300000-0000-4000-8000-0000000000a1'::uuid, 'f13-alpha', 'Alpha Feed', '{"replyTo":"owner@alpha-mail.test"}'::jsonb, true, 'alpha.feed.test'),
  ('d1300000-0000-4000-8000-0000000000d1'::uuid, 'f13-dormant', 'Dormant Feed', '{"replyTo":"owner@dormant-mail.test"}'::jsonb, false, 'dormant.feed.test'),
  ('b1300000-0000-4000-8000-0000000000b1'::uuid, 'f13-beta', 'Beta Feed', '{}'::jsonb, true, null)
) as t (id, slug, display_name, email_config, is_active, domain);
select tests.clear_authentication();

select is_empty(
  $$ select tenant_hash from public.tenant_changes $$,
  'insert: nothing is recorded before the transaction ends (the trigger is deferred)'
);

-- Time passes before the transaction ends.
select pg_sleep(0.2);

select tests.authenticate_as_service_role();
select lives_ok(
  $$ set constraints public.tenant_profiles_record_change immediate $$,
  'insert: the trigger records at the end of the transaction, for a writer without privileges on the feed'
);
select tests.clear_authentication();

select bag_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$
    values
      (pg_temp.hash_of('a1300000-0000-4000-8000-0000000000a1')),
      (pg_temp.hash_of('d1300000-0000-4000-8000-0000000000d1')),
      (pg_temp.hash_of('b1300000-0000-4000-8000-0000000000b1'))
  $$,
  'insert: one row per new tenant, active or not, holding the hash of its id'
);
select is(
  (select tenant_hash from public.tenant_changes order by id limit 1),
  '536832597d09f68110d1eff7cae66b12e77b42ec55a4a92e120d211a9400f1a8',
  'insert: tenant_hash is the plain hex SHA-256 of the id''s lowercase text, as any SHA-256 library computes it'
);
select ok(
  (select bool_and(changed_at >= now() + interval '200 milliseconds') from public.tenant_changes),
  'insert: changed_at is when the trigger ran at the end of the transaction, not when the transaction began'
);

-- From here on the trigger fires at the end of each statement.

-- brand_config
select pg_temp.change_as_service_role($$
  update public.tenant_profiles set brand_config = jsonb_set(brand_config, '{colors,primary}', '"#123456"')
  where id = 'a1300000-0000-4000-8000-0000000000a1'
$$);
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('a1300000-0000-4000-8000-0000000000a1')) $$,
  'update of brand_config: one row for the tenant'
);

-- slug
select pg_temp.change_as_service_role($$
  update public.tenant_profiles set slug = 'f13-alpha-renamed' where id = 'a1300000-0000-4000-8000-0000000000a1'
$$);
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('a1300000-0000-4000-8000-0000000000a1')) $$,
  'update of slug: one row for the tenant'
);

-- custom_domain
select pg_temp.change_as_service_role($$
  update public.tenant_profiles set custom_domain = 'coach.alpha.feed.test' where id = 'a1300000-0000-4000-8000-0000000000a1'
$$);
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('a1300000-0000-4000-8000-0000000000a1')) $$,
  'update of custom_domain: one row for the tenant'
);

-- is_active
select pg_temp.change_as_service_role($$
  update public.tenant_profiles set is_active = false where id = 'b1300000-0000-4000-8000-0000000000b1'
$$);
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('b1300000-0000-4000-8000-0000000000b1')) $$,
  'update of is_active (deactivation): one row for the tenant'
);

-- a private column of an inactive tenant
select pg_temp.change_as_service_role($$
  update public.tenant_profiles set email_config = '{"replyTo":"new-owner@dormant-mail.test"}' where id = 'd1300000-0000-4000-8000-0000000000d1'
$$);
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('d1300000-0000-4000-8000-0000000000d1')) $$,
  'update of a private column of an inactive tenant: one row for the tenant'
);

-- several tenants in one statement
select pg_temp.change_as_service_role($$
  update public.tenant_profiles set display_name = display_name || ' (renamed)'
  where id in ('a1300000-0000-4000-8000-0000000000a1', 'd1300000-0000-4000-8000-0000000000d1')
$$);
select bag_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('a1300000-0000-4000-8000-0000000000a1')), (pg_temp.hash_of('d1300000-0000-4000-8000-0000000000d1')) $$,
  'an update of two tenants in one statement: one row for each'
);

-- id
select pg_temp.change_as_service_role($$
  update public.tenant_profiles set id = 'b1300000-0000-4000-8000-0000000000b2' where id = 'b1300000-0000-4000-8000-0000000000b1'
$$);
select bag_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('b1300000-0000-4000-8000-0000000000b1')), (pg_temp.hash_of('b1300000-0000-4000-8000-0000000000b2')) $$,
  'update of id: one row for the old id and one for the new'
);

-- delete
select pg_temp.change_as_service_role($$
  delete from public.tenant_profiles where id = 'b1300000-0000-4000-8000-0000000000b2'
$$);
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('b1300000-0000-4000-8000-0000000000b2')) $$,
  'delete: one row for the tenant'
);

-------------------------------------------------------------------------------
-- Pruning: each change deletes the rows older than an hour
-------------------------------------------------------------------------------
delete from public.tenant_changes;
insert into public.tenant_changes (tenant_hash, changed_at) values
  (repeat('0', 64), clock_timestamp() - interval '2 days'),
  (repeat('1', 64), clock_timestamp() - interval '61 minutes'),
  (repeat('2', 64), clock_timestamp() - interval '59 minutes');

select tests.authenticate_as_service_role();
update public.tenant_profiles set display_name = 'Alpha Feed' where id = 'a1300000-0000-4000-8000-0000000000a1';
select tests.clear_authentication();

select results_eq(
  $$ select tenant_hash from public.tenant_changes order by changed_at $$,
  $$ values (repeat('2', 64)), (pg_temp.hash_of('a1300000-0000-4000-8000-0000000000a1')) $$,
  'the next change prunes the rows older than an hour and keeps the others'
);

-------------------------------------------------------------------------------
-- anon: every change, of active and inactive tenants, as hashes and times
-------------------------------------------------------------------------------
select pg_temp.change_as_service_role($$
  update public.tenant_profiles set display_name = display_name || '.'
  where id in ('a1300000-0000-4000-8000-0000000000a1', 'd1300000-0000-4000-8000-0000000000d1')
$$);

select tests.authenticate_as_anon();

select bag_eq(
  $$ select c ->> 'tenant_hash' from jsonb_array_elements(public.tenant_changes_since(now() - interval '15 minutes')) as c $$,
  $$ values (pg_temp.hash_of('a1300000-0000-4000-8000-0000000000a1')), (pg_temp.hash_of('d1300000-0000-4000-8000-0000000000d1')) $$,
  'anon: reads every change, of an active and of an inactive tenant, without naming a tenant (through tenant_changes_since())'
);
select is(
  jsonb_array_length(public.tenant_changes_since(now() + interval '1 minute')),
  0,
  'anon: reads the changes since the time it names'
);
select is_empty(
  $$
    select n.needle
    from (values
      ('a1300000-0000-4000-8000-0000000000a1'), ('a13000000000400080000000000000a1'),
      ('d1300000-0000-4000-8000-0000000000d1'), ('d13000000000400080000000000000d1'),
      ('f13-alpha'), ('f13-dormant'), ('alpha.feed.test'), ('dormant.feed.test'),
      ('alpha-mail.test'), ('dormant-mail.test'), ('Alpha Feed'), ('Dormant Feed'), ('professional')
    ) as n (needle)
    where position(lower(n.needle) in lower(public.tenant_changes_since('-infinity')::text)) > 0
  $$,
  'anon: no tenant id, slug, domain, name or private value, of an active or inactive tenant, appears in what it reads'
);

select throws_ok($$ select id from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'anon: select id is denied');
select throws_ok($$ select * from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'anon: select * is denied');
select throws_ok($$ select tenant_hash from public.tenant_changes order by id $$,
  '42501', 'permission denied for table tenant_changes', 'anon: ordering by id is denied');
select throws_ok($$ insert into public.tenant_changes (tenant_hash) values (repeat('3', 64)) $$,
  '42501', 'permission denied for table tenant_changes', 'anon: insert is denied');
select throws_ok($$ update public.tenant_changes set changed_at = now() $$,
  '42501', 'permission denied for table tenant_changes', 'anon: update is denied');
select throws_ok($$ delete from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'anon: delete is denied');
select throws_ok($$ truncate public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'anon: truncate is denied');
select throws_ok($$ select public.record_tenant_change() $$,
  '42501', 'permission denied for function record_tenant_change', 'anon: calling the trigger function is denied');

select tests.clear_authentication();

-------------------------------------------------------------------------------
-- authenticated: the same, even for the owner of a tenant
-------------------------------------------------------------------------------
insert into auth.users (id, email) values ('a1300000-0000-4000-8000-000000000001', 'owner@feed.test');
update public.tenant_profiles set user_id = 'a1300000-0000-4000-8000-000000000001'
where id = 'a1300000-0000-4000-8000-0000000000a1';
delete from public.tenant_changes;
update public.tenant_profiles set display_name = display_name || '.'
where id in ('a1300000-0000-4000-8000-0000000000a1', 'd1300000-0000-4000-8000-0000000000d1');

select tests.authenticate_as('a1300000-0000-4000-8000-000000000001');

select bag_eq(
  $$ select c ->> 'tenant_hash' from jsonb_array_elements(public.tenant_changes_since('-infinity')) as c $$,
  $$ values (pg_temp.hash_of('a1300000-0000-4000-8000-0000000000a1')), (pg_temp.hash_of('d1300000-0000-4000-8000-0000000000d1')) $$,
  'authenticated: reads every change, its own tenant''s and others'', as hashes (through tenant_changes_since())'
);
select throws_ok($$ select id from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'authenticated: select id is denied');
select throws_ok($$ select * from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'authenticated: select * is denied');
select throws_ok($$ insert into public.tenant_changes (tenant_hash) values (repeat('3', 64)) $$,
  '42501', 'permission denied for table tenant_changes', 'authenticated: insert is denied');
select throws_ok($$ update public.tenant_changes set changed_at = now() $$,
  '42501', 'permission denied for table tenant_changes', 'authenticated: update is denied');
select throws_ok($$ delete from public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'authenticated: delete is denied');
select throws_ok($$ truncate public.tenant_changes $$,
  '42501', 'permission denied for table tenant_changes', 'authenticated: truncate is denied');

select tests.clear_authentication();

select * from finish();
rollback;
