-- A tenant's owner switches maintenance on and off (20261208000002) and makes
-- preview links of their brand draft (20261208000003). Sectioned by caller:
-- the anon key calls no owner function, reads the switch only of the tenant a
-- request names, and reads a draft only through a live preview key; another
-- signed-in user is refused (not_owner) and changes nothing; the owner
-- switches and previews within the brand budget. A switch reaches the change
-- feed and makes no brand version; a preview key names one tenant's draft
-- for an hour, at most 20 at a time.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(71);

-- Fixture: the owner has Alpha (with a custom domain) and Sleepy (inactive);
-- the stranger, another signed-in user, has Beta.
insert into auth.users (id, email) values
  ('a2400000-0000-4000-8000-000000000001', 'owner@maintenance.test'),
  ('b2400000-0000-4000-8000-000000000002', 'stranger@maintenance.test');

insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config, is_active, custom_domain)
select t.id, t.user_id, t.slug, t.display_name, tests.brand_config(), t.active, t.domain
from (values
  ('a2400000-0000-4000-8000-0000000000a1'::uuid, 'a2400000-0000-4000-8000-000000000001'::uuid, 'm24-alpha', 'Alpha', true, 'alpha.maintenance.test'),
  ('c2400000-0000-4000-8000-0000000000c1'::uuid, 'a2400000-0000-4000-8000-000000000001'::uuid, 'm24-sleepy', 'Sleepy', false, null),
  ('b2400000-0000-4000-8000-0000000000b1'::uuid, 'b2400000-0000-4000-8000-000000000002'::uuid, 'm24-beta', 'Beta', true, null)
) as t (id, user_id, slug, display_name, active, domain);

set constraints public.tenant_profiles_record_change immediate;
set constraints public.tenant_profiles_record_change deferred;

-- A statement's answer, and how it fails, as the owner or the stranger
-- (tests.call_as, tests.refusal_as).
create function pg_temp.user_id(who text)
returns uuid language sql immutable
as $$ select case who when 'owner' then 'a2400000-0000-4000-8000-000000000001'::uuid
                      else 'b2400000-0000-4000-8000-000000000002'::uuid end $$;

create function pg_temp.call(who text, statement text)
returns jsonb language sql
as $$ select tests.call_as(pg_temp.user_id(who), statement) $$;

create function pg_temp.refusal(who text, statement text)
returns table (state text, reason text, about text, said text) language sql
as $$ select * from tests.refusal_as(pg_temp.user_id(who), statement) $$;

create function pg_temp.set_sql(tenant uuid, maintenance jsonb)
returns text language sql immutable
as $$ select format('select public.set_tenant_maintenance(%L, %L)', tenant, maintenance) $$;

create function pg_temp.read_sql(tenant uuid)
returns text language sql immutable
as $$ select format('select public.tenant_maintenance(%L)', tenant) $$;

create function pg_temp.preview_sql(tenant uuid)
returns text language sql immutable
as $$ select format('select public.create_tenant_brand_preview(%L)', tenant) $$;

-- Whether the table's CHECK accepts a switch (written, then undone).
create function pg_temp.accepted(maintenance jsonb)
returns boolean
language plpgsql
as $$
begin
  begin
    update public.tenant_profiles set maintenance = accepted.maintenance
    where id = 'b2400000-0000-4000-8000-0000000000b1';
    raise exception using errcode = 'P0001', message = 'undo';
  exception
    when check_violation then return false;
    when raise_exception then return true;
  end;
end;
$$;

-- A tenant's maintenance switch and brand as stored.
create function pg_temp.stored(tenant uuid)
returns table (maintenance jsonb, brand_version integer, versions_kept bigint)
language sql
as $$
  select t.maintenance, t.brand_version,
    (select count(*) from private.tenant_brand_versions as v where v.tenant_id = t.id)
  from public.tenant_profiles as t
  where t.id = tenant
$$;

create function pg_temp.hash_of(tenant uuid)
returns text language sql immutable
as $$ select encode(sha256(convert_to(tenant::text, 'UTF8')), 'hex') $$;

-------------------------------------------------------------------------------
-- Structure: the column, its shape, who may call what
-------------------------------------------------------------------------------
select col_type_is('public', 'tenant_profiles', 'maintenance', 'jsonb', 'tenant_profiles.maintenance is jsonb');
select col_is_null('public', 'tenant_profiles', 'maintenance', 'maintenance may be null (off)');
select col_hasnt_default('public', 'tenant_profiles', 'maintenance', 'maintenance has no default: off');
select ok(
  has_column_privilege('anon', 'public.tenant_profiles', 'maintenance', 'select')
  and has_column_privilege('authenticated', 'public.tenant_profiles', 'maintenance', 'select')
  and not has_column_privilege('anon', 'public.tenant_profiles', 'maintenance', 'update')
  and not has_column_privilege('authenticated', 'public.tenant_profiles', 'maintenance', 'update'),
  'maintenance is a public column: selected by the anon key and signed-in users, written by neither');

create temp table shapes (name, document, pointer) as values
  ('a message and a delay', '{"message":"Back soon","retryAfterSeconds":3600}'::jsonb, null::text),
  ('the shortest message and delay', '{"message":"x","retryAfterSeconds":1}', null),
  ('500 characters and a week', jsonb_build_object('message', repeat('é', 500), 'retryAfterSeconds', 604800), null),
  ('an array', '[]', ''),
  ('a string', '"maintenance"', ''),
  ('an empty object', '{}', '/message'),
  ('an extra key', '{"message":"x","retryAfterSeconds":1,"on":true}', ''),
  ('no delay', '{"message":"x"}', '/retryAfterSeconds'),
  ('no message', '{"retryAfterSeconds":60}', '/message'),
  ('an empty message', '{"message":"","retryAfterSeconds":60}', '/message'),
  ('501 characters', jsonb_build_object('message', repeat('m', 501), 'retryAfterSeconds', 60), '/message'),
  ('a message with a newline', '{"message":"Back\nsoon","retryAfterSeconds":60}', '/message'),
  ('a message with a C1 control', jsonb_build_object('message', 'Back' || chr(133) || 'soon', 'retryAfterSeconds', 60), '/message'),
  ('a message that is a number', '{"message":1,"retryAfterSeconds":60}', '/message'),
  ('a delay of 0', '{"message":"x","retryAfterSeconds":0}', '/retryAfterSeconds'),
  ('a delay over a week', '{"message":"x","retryAfterSeconds":604801}', '/retryAfterSeconds'),
  ('a fractional delay', '{"message":"x","retryAfterSeconds":1.5}', '/retryAfterSeconds'),
  ('a negative delay', '{"message":"x","retryAfterSeconds":-5}', '/retryAfterSeconds'),
  ('a delay of 1e400', '{"message":"x","retryAfterSeconds":1e400}', '/retryAfterSeconds'),
  ('a delay as a string', '{"message":"x","retryAfterSeconds":"60"}', '/retryAfterSeconds');

select is_empty(
  $$ select name from pg_temp.shapes where pg_temp.accepted(document) is distinct from (pointer is null) $$,
  'the CHECK accepts exactly {"message": 1 to 500 characters without control characters, "retryAfterSeconds": 1 to 604800}');
select is_empty(
  $$ select name || ': ' || coalesce(private.maintenance_problem(document), 'null') from pg_temp.shapes
     where private.maintenance_problem(document) is distinct from pointer $$,
  'maintenance_problem() names the wrong field of each refused switch, and nothing of an accepted one');
select throws_ok(
  $$ update public.tenant_profiles set maintenance = '{"message":""}' where id = 'b2400000-0000-4000-8000-0000000000b1' $$,
  '23514', null, 'a write of another shape is a check violation');
select has_check('public', 'tenant_profiles', 'tenant_profiles has CHECK constraints');
select ok(
  exists (select 1 from pg_catalog.pg_constraint
          where conrelid = 'public.tenant_profiles'::regclass
            and conname = 'tenant_profiles_maintenance_is_a_message_and_a_delay'),
  'the CHECK is tenant_profiles_maintenance_is_a_message_and_a_delay');

select results_eq(
  $$ select count(*)::int from pg_catalog.pg_proc as p
     where p.pronamespace = 'public'::regnamespace
       and p.proname in ('tenant_maintenance', 'set_tenant_maintenance', 'create_tenant_brand_preview')
       and p.prosecdef
       and p.proconfig @> array['search_path=""']
       and p.prorettype = 'jsonb'::regtype
       and has_function_privilege('authenticated', p.oid, 'execute')
       and not has_function_privilege('anon', p.oid, 'execute')
       and not has_function_privilege('service_role', p.oid, 'execute') $$,
  $$ values (3) $$,
  'the three owner functions: security definer, an empty search_path, jsonb, for signed-in users only');
select results_eq(
  $$ select p.prosecdef, p.provolatile::text, p.proconfig @> array['search_path=""'], p.prorettype::regtype::text,
       has_function_privilege('anon', p.oid, 'execute'), has_function_privilege('authenticated', p.oid, 'execute'),
       has_function_privilege('service_role', p.oid, 'execute')
     from pg_catalog.pg_proc as p where p.oid = 'public.tenant_preview(text)'::regprocedure $$,
  $$ values (true, 's', true, 'json', true, true, false) $$,
  'tenant_preview(key): security definer, stable, an empty search_path, json, for the anon key and signed-in users');
select col_is_pk('private', 'brand_previews', 'key_hash', 'a preview is found by the hash of its key: one index probe');
select is_empty(
  $$ select p.oid::regprocedure::text from pg_catalog.pg_proc as p
     where p.pronamespace = 'private'::regnamespace
       and p.proname in ('maintenance_problem', 'maintenance_of')
       and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute')) $$,
  'no API role may call the private helpers');

-------------------------------------------------------------------------------
-- The anon key: no owner function, no preview table; the switch of the
-- tenant a request names only
-------------------------------------------------------------------------------
update public.tenant_profiles set maintenance = '{"message":"Beta is resting","retryAfterSeconds":120}'
where id = 'b2400000-0000-4000-8000-0000000000b1';
update public.tenant_profiles set maintenance = '{"message":"Sleepy sleeps","retryAfterSeconds":120}'
where id = 'c2400000-0000-4000-8000-0000000000c1';

select tests.authenticate_as_anon();
select throws_ok($$ select public.tenant_maintenance('a2400000-0000-4000-8000-0000000000a1') $$,
  '42501', 'permission denied for function tenant_maintenance', 'anon: tenant_maintenance() is denied');
select throws_ok($$ select public.set_tenant_maintenance('a2400000-0000-4000-8000-0000000000a1', null) $$,
  '42501', 'permission denied for function set_tenant_maintenance', 'anon: set_tenant_maintenance() is denied');
select throws_ok($$ select public.create_tenant_brand_preview('a2400000-0000-4000-8000-0000000000a1') $$,
  '42501', 'permission denied for function create_tenant_brand_preview', 'anon: create_tenant_brand_preview() is denied');
select throws_ok($$ select * from private.brand_previews $$,
  '42501', 'permission denied for table brand_previews', 'anon: select brand_previews is denied');
select throws_ok($$ update public.tenant_profiles set maintenance = null $$,
  '42501', 'permission denied for table tenant_profiles', 'anon: update maintenance is denied');
select is_empty($$ select maintenance from public.tenant_profiles $$,
  'anon: a request that names no tenant reads no switch');
set local request.headers to '{"x-tenant-lookup":"slug:m24-beta"}';
select results_eq(
  $$ select slug, maintenance from public.tenant_profiles $$,
  $$ values ('m24-beta', '{"message":"Beta is resting","retryAfterSeconds":120}'::jsonb) $$,
  'anon: a request naming Beta reads Beta''s switch, and only Beta''s');
set local request.headers to '{"x-tenant-lookup":"slug:m24-sleepy"}';
select is_empty($$ select maintenance from public.tenant_profiles $$,
  'anon: an inactive tenant''s switch is not read, as nothing else of it is');
select tests.clear_authentication();

-- The owner writes through the functions only; the service role has no user.
select tests.authenticate_as('a2400000-0000-4000-8000-000000000001');
select throws_ok($$ update public.tenant_profiles set maintenance = null $$,
  '42501', 'permission denied for table tenant_profiles', 'owner: update maintenance itself is denied');
select throws_ok($$ select * from private.brand_previews $$,
  '42501', 'permission denied for table brand_previews', 'owner: select brand_previews itself is denied');
select tests.clear_authentication();
select tests.authenticate_as_service_role();
select throws_ok($$ select public.set_tenant_maintenance('a2400000-0000-4000-8000-0000000000a1', null) $$,
  '42501', 'permission denied for function set_tenant_maintenance', 'service_role: the owner functions are not its');
select tests.clear_authentication();

-------------------------------------------------------------------------------
-- Another signed-in user: not_owner, and nothing changes
-------------------------------------------------------------------------------
select is(
  (select array[r.state, r.reason] from pg_temp.refusal('stranger', s.statement) as r),
  array['42501', 'not_owner'],
  format('another user: %s is refused, not_owner', s.name))
from (values
  ('tenant_maintenance', pg_temp.read_sql('a2400000-0000-4000-8000-0000000000a1')),
  ('set_tenant_maintenance', pg_temp.set_sql('a2400000-0000-4000-8000-0000000000a1', '{"message":"Hijacked","retryAfterSeconds":60}')),
  ('create_tenant_brand_preview', pg_temp.preview_sql('a2400000-0000-4000-8000-0000000000a1'))
) as s (name, statement);
select results_eq(
  $$ select *, (select count(*) from private.brand_write_budgets where tenant_id = 'a2400000-0000-4000-8000-0000000000a1')
     from pg_temp.stored('a2400000-0000-4000-8000-0000000000a1') $$,
  $$ values (null::jsonb, 1, 1::bigint, 0::bigint) $$,
  'and nothing changed: maintenance off, the brand at version 1, no budget spent');

-------------------------------------------------------------------------------
-- The owner switches maintenance on and off
-------------------------------------------------------------------------------
select is(
  pg_temp.call('owner', pg_temp.read_sql('a2400000-0000-4000-8000-0000000000a1')),
  '{"on":false,"message":null,"retryAfterSeconds":null}'::jsonb,
  'the owner reads the switch: off');

set constraints all immediate;
set constraints all deferred;
delete from public.tenant_changes;

select is(
  pg_temp.call('owner', pg_temp.set_sql('a2400000-0000-4000-8000-0000000000a1', '{"message":"Back at noon","retryAfterSeconds":900}')),
  '{"on":true,"message":"Back at noon","retryAfterSeconds":900}'::jsonb,
  'the owner switches it on and gets the switch back');
select results_eq(
  $$ select * from pg_temp.stored('a2400000-0000-4000-8000-0000000000a1') $$,
  $$ values ('{"message":"Back at noon","retryAfterSeconds":900}'::jsonb, 1, 1::bigint) $$,
  'the switch is stored, and the brand version is unchanged: no version made');
set constraints all immediate;
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('a2400000-0000-4000-8000-0000000000a1')) $$,
  'the switch is in the change feed: every data center re-reads the tenant');
set constraints all deferred;
delete from public.tenant_changes;
select is(
  pg_temp.call('owner', pg_temp.read_sql('a2400000-0000-4000-8000-0000000000a1')),
  '{"on":true,"message":"Back at noon","retryAfterSeconds":900}'::jsonb,
  'tenant_maintenance() answers what the write answered');

select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner', pg_temp.set_sql('a2400000-0000-4000-8000-0000000000a1', s.document)) as r),
  array['22023', 'invalid_maintenance', s.pointer],
  format('a switch with %s is 22023 invalid_maintenance at %L', s.name, s.pointer))
from (values
  ('an empty message', '{"message":"","retryAfterSeconds":60}'::jsonb, '/message'),
  ('a delay of 0', '{"message":"x","retryAfterSeconds":0}', '/retryAfterSeconds'),
  ('an extra key', '{"message":"x","retryAfterSeconds":60,"on":true}', '')
) as s (name, document, pointer);
select results_eq(
  $$ select * from pg_temp.stored('a2400000-0000-4000-8000-0000000000a1') $$,
  $$ values ('{"message":"Back at noon","retryAfterSeconds":900}'::jsonb, 1, 1::bigint) $$,
  'and none of them changed anything');
set constraints all immediate;
select is_empty($$ select tenant_hash from public.tenant_changes $$, 'nor recorded anything in the feed');
set constraints all deferred;

select is(
  pg_temp.call('owner', pg_temp.set_sql('a2400000-0000-4000-8000-0000000000a1', null)),
  '{"on":false,"message":null,"retryAfterSeconds":null}'::jsonb,
  'null switches it off');
select lives_ok(
  $$ select pg_temp.call('owner', pg_temp.set_sql('a2400000-0000-4000-8000-0000000000a1', '{"message":"x","retryAfterSeconds":1}')) $$,
  'on again');
select is(
  pg_temp.call('owner', pg_temp.set_sql('a2400000-0000-4000-8000-0000000000a1', 'null'::jsonb)),
  '{"on":false,"message":null,"retryAfterSeconds":null}'::jsonb,
  'and JSON null switches it off too');
set constraints all immediate;
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('a2400000-0000-4000-8000-0000000000a1')) $$,
  'switching off is in the change feed too');
set constraints all deferred;
select results_eq(
  $$ select * from pg_temp.stored('a2400000-0000-4000-8000-0000000000a1') $$,
  $$ values (null::jsonb, 1, 1::bigint) $$,
  'off, and still no brand version made');
select is(
  pg_temp.call('owner', pg_temp.set_sql('c2400000-0000-4000-8000-0000000000c1', null)) -> 'on',
  'false'::jsonb,
  'the owner switches the inactive tenant too');

-- The brand budget: the switch spends it, and is refused when it is spent.
update private.brand_write_budgets set tokens = 0, refilled_at = now()
where tenant_id = 'a2400000-0000-4000-8000-0000000000a1';
select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner',
    pg_temp.set_sql('a2400000-0000-4000-8000-0000000000a1', '{"message":"x","retryAfterSeconds":1}')) as r),
  array['PT429', 'rate_limited', '10'],
  'with the brand budget spent, the switch is PT429 rate_limited');
select is(
  (select array[r.state, r.reason] from pg_temp.refusal('owner', pg_temp.preview_sql('a2400000-0000-4000-8000-0000000000a1')) as r),
  array['PT429', 'rate_limited'],
  'and so is a preview');
select is(
  pg_temp.call('owner', pg_temp.read_sql('a2400000-0000-4000-8000-0000000000a1')) -> 'on',
  'false'::jsonb,
  'reading spends nothing');
delete from private.brand_write_budgets;

-------------------------------------------------------------------------------
-- Previews of the draft
-------------------------------------------------------------------------------
select is(
  (select array[r.state, r.reason] from pg_temp.refusal('owner', pg_temp.preview_sql('a2400000-0000-4000-8000-0000000000a1')) as r),
  array['P0002', 'no_draft'],
  'with no draft, a preview is P0002 no_draft');
select is_empty(
  $$ select 1 from private.brand_write_budgets where tenant_id = 'a2400000-0000-4000-8000-0000000000a1' $$,
  'and spends nothing');

select lives_ok(
  $$ select pg_temp.call('owner', format('select public.save_tenant_brand_draft(%L, %L, %L)',
       'a2400000-0000-4000-8000-0000000000a1', 'Alpha Draft', tests.brand_config('#2a9d8f'))) $$,
  'the owner saves a draft');

create temp table made as
select pg_temp.call('owner', pg_temp.preview_sql('a2400000-0000-4000-8000-0000000000a1')) as answer;
grant select on pg_temp.made to anon, authenticated;

select results_eq(
  $$ select answer ->> 'key' ~ '^[0-9a-f]{64}$', (answer ->> 'expiresAt')::timestamptz = now() + interval '1 hour',
       answer ->> 'slug', answer ->> 'customDomain',
       (select array_agg(k order by k) from jsonb_object_keys(answer) as k)
     from pg_temp.made $$,
  $$ values (true, true, 'm24-alpha', 'alpha.maintenance.test', array['customDomain', 'expiresAt', 'key', 'slug']) $$,
  'the owner makes a preview: 64 lowercase hex digits, live for an hour, with the host to open it on');
select results_eq(
  $$ select p.tenant_id, p.created_by, p.expires_at = now() + interval '1 hour'
     from private.brand_previews as p, pg_temp.made as m
     where p.key_hash = sha256(convert_to(m.answer ->> 'key', 'UTF8')) $$,
  $$ values ('a2400000-0000-4000-8000-0000000000a1'::uuid, 'a2400000-0000-4000-8000-000000000001'::uuid, true) $$,
  'the database keeps the SHA-256 of the key, made by the owner');
select is_empty(
  $$ select 1 from private.brand_previews as p, pg_temp.made as m
     where encode(p.key_hash, 'hex') = m.answer ->> 'key' or p.key_hash = convert_to(m.answer ->> 'key', 'UTF8') $$,
  'and never the key itself');
select isnt(
  (select answer ->> 'key' from pg_temp.made),
  (select pg_temp.call('owner', pg_temp.preview_sql('a2400000-0000-4000-8000-0000000000a1')) ->> 'key'),
  'every preview has a key of its own');

select tests.authenticate_as_anon();
select is(
  (select public.tenant_preview(answer ->> 'key')::text from pg_temp.made),
  json_build_object(
    'id', 'a2400000-0000-4000-8000-0000000000a1'::uuid, 'slug', 'm24-alpha', 'displayName', 'Alpha Draft',
    'tenantType', 'coach', 'customDomain', 'alpha.maintenance.test', 'enabledAssessments', array['industry4'],
    'brand', tests.brand_config('#2a9d8f'), 'maintenance', null::jsonb)::text,
  'anon: a live key gives the tenant as its draft shows it');
select is(
  (select array_agg(k) from pg_temp.made, json_object_keys(public.tenant_preview(answer ->> 'key')) as k),
  array['id', 'slug', 'displayName', 'tenantType', 'customDomain', 'enabledAssessments', 'brand', 'maintenance'],
  'in the public tenant JSON''s key order, as PostgREST writes the resolver''s select');
select is(
  (select array[public.tenant_preview(upper(answer ->> 'key')), public.tenant_preview(left(answer ->> 'key', 63)),
     public.tenant_preview((answer ->> 'key') || '0'), public.tenant_preview(repeat('0', 64)), public.tenant_preview(null),
     public.tenant_preview(encode(sha256(convert_to(answer ->> 'key', 'UTF8')), 'hex'))]::text
   from pg_temp.made),
  array[null, null, null, null, null, null]::json[]::text,
  'anon: a key in capitals, too short, too long, unknown, none, or the stored hash itself gives nothing');
select tests.clear_authentication();
select tests.authenticate_as('b2400000-0000-4000-8000-000000000002');
select is(
  (select public.tenant_preview(answer ->> 'key') ->> 'displayName' from pg_temp.made),
  'Alpha Draft',
  'a signed-in user holding the key sees the draft as well');
select tests.clear_authentication();

-- The published brand is still the published one, for every other request.
select results_eq(
  $$ select display_name, brand_config from public.tenant_profiles where id = 'a2400000-0000-4000-8000-0000000000a1' $$,
  $$ values ('Alpha', tests.brand_config()) $$,
  'the preview publishes nothing');

-- Another tenant's key names that tenant, never this one.
select lives_ok(
  $$ select pg_temp.call('stranger', format('select public.save_tenant_brand_draft(%L, %L, %L)',
       'b2400000-0000-4000-8000-0000000000b1', 'Beta Draft', tests.brand_config('#abcdef'))) $$,
  'the stranger saves a draft of Beta');
select set_config('tests.beta_key', pg_temp.call('stranger', pg_temp.preview_sql('b2400000-0000-4000-8000-0000000000b1')) ->> 'key', true);
select is(
  public.tenant_preview(current_setting('tests.beta_key')) ->> 'id',
  'b2400000-0000-4000-8000-0000000000b1',
  'another tenant''s key names that tenant: the resolver shows it on no other host');

-- An expired key, an inactive tenant's, a tenant whose draft is gone: nothing.
update private.brand_previews set expires_at = now() - interval '1 second'
where key_hash = (select sha256(convert_to(answer ->> 'key', 'UTF8')) from pg_temp.made);
select is((select public.tenant_preview(answer ->> 'key') from pg_temp.made)::text, null,
  'an expired key gives nothing');
update private.brand_previews set expires_at = now() + interval '1 hour'
where key_hash = (select sha256(convert_to(answer ->> 'key', 'UTF8')) from pg_temp.made);

select lives_ok(
  $$ select pg_temp.call('owner', format('select public.save_tenant_brand_draft(%L, %L, %L)',
       'c2400000-0000-4000-8000-0000000000c1', 'Sleepy Draft', tests.brand_config())) $$,
  'the owner saves a draft of the inactive tenant');
select set_config('tests.sleepy_key', pg_temp.call('owner', pg_temp.preview_sql('c2400000-0000-4000-8000-0000000000c1')) ->> 'key', true);
select is(
  public.tenant_preview(current_setting('tests.sleepy_key'))::text,
  null,
  'an inactive tenant''s preview gives nothing');

update public.tenant_profiles set maintenance = '{"message":"Soon","retryAfterSeconds":60}'
where id = 'a2400000-0000-4000-8000-0000000000a1';
select is(
  (select public.tenant_preview(answer ->> 'key') -> 'maintenance' from pg_temp.made)::jsonb,
  '{"message":"Soon","retryAfterSeconds":60}'::jsonb,
  'a preview carries the tenant''s maintenance switch as the published tenant does');
select lives_ok(
  $$ select pg_temp.call('owner', format('select public.publish_tenant_brand_draft(%L, 1)', 'a2400000-0000-4000-8000-0000000000a1')) $$,
  'the owner publishes the draft');
select is((select public.tenant_preview(answer ->> 'key') from pg_temp.made)::text, null,
  'a key whose draft is gone gives nothing');

-- At most 20 live previews per tenant, none expired.
delete from private.brand_write_budgets;
select lives_ok(
  $$ select pg_temp.call('owner', format('select public.save_tenant_brand_draft(%L, %L, %L)',
       'a2400000-0000-4000-8000-0000000000a1', 'Alpha Draft Two', tests.brand_config('#264653'))) $$,
  'the owner saves another draft');
insert into private.brand_previews (key_hash, tenant_id, expires_at)
select sha256(convert_to('expired ' || n, 'UTF8')), 'a2400000-0000-4000-8000-0000000000a1', now() - interval '1 minute'
from generate_series(1, 3) as n;
insert into private.brand_previews (key_hash, tenant_id, expires_at)
select sha256(convert_to('live ' || n, 'UTF8')), 'a2400000-0000-4000-8000-0000000000a1', now() + n * interval '1 second'
from generate_series(1, 19) as n;
select lives_ok(
  $$ select pg_temp.call('owner', pg_temp.preview_sql('a2400000-0000-4000-8000-0000000000a1'))
     from generate_series(1, 3) $$,
  'the owner makes three more previews');
select results_eq(
  $$ select count(*)::int, count(*) filter (where expires_at <= now())::int,
       count(*) filter (where key_hash in (select sha256(convert_to('live ' || n, 'UTF8')) from generate_series(1, 3) as n))::int
     from private.brand_previews where tenant_id = 'a2400000-0000-4000-8000-0000000000a1' $$,
  $$ values (20, 0, 0) $$,
  'the tenant keeps 20 live previews: the expired ones and the oldest live ones are dropped');
select results_eq(
  $$ select count(*)::int from private.brand_previews where tenant_id = 'b2400000-0000-4000-8000-0000000000b1' $$,
  $$ values (1) $$,
  'another tenant''s previews are its own');

select * from finish();
rollback;
