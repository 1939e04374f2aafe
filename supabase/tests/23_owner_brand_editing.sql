-- A tenant's owner edits their own brand (20261208000001): through the six
-- owner functions only, with versions and drafts, and nobody else. Sectioned
-- by what each caller may do: the anon key nothing; another signed-in user
-- nothing (not_owner, and nothing changes); the owner publishes, rolls back
-- and drafts, within a budget, never past a version they did not read and
-- never an invalid brand; every publish is kept as a version and reaches the
-- change feed, a draft does not. No function touches anything but the brand.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(89);

-- Fixture: the owner has Alpha (professional) and Sleepy (inactive); the
-- stranger, another signed-in user, has Beta.
insert into auth.users (id, email) values
  ('a2300000-0000-4000-8000-000000000001', 'owner@brand.test'),
  ('b2300000-0000-4000-8000-000000000002', 'stranger@brand.test');

insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config, subscription_tier, is_active)
select t.id, t.user_id, t.slug, t.display_name, tests.brand_config(), t.tier, t.active
from (values
  ('a2300000-0000-4000-8000-0000000000a1'::uuid, 'a2300000-0000-4000-8000-000000000001'::uuid, 'b23-alpha', 'Alpha', 'professional', true),
  ('c2300000-0000-4000-8000-0000000000c1'::uuid, 'a2300000-0000-4000-8000-000000000001'::uuid, 'b23-sleepy', 'Sleepy', 'starter', false),
  ('b2300000-0000-4000-8000-0000000000b1'::uuid, 'b2300000-0000-4000-8000-000000000002'::uuid, 'b23-beta', 'Beta', 'free', true)
) as t (id, user_id, slug, display_name, tier, active);

-- What no owner function may change.
create temp table untouched as
select id, slug, is_active, subscription_tier, user_id, custom_domain, tenant_type, email_config, enabled_assessments, created_at
from public.tenant_profiles
where id in ('a2300000-0000-4000-8000-0000000000a1', 'c2300000-0000-4000-8000-0000000000c1', 'b2300000-0000-4000-8000-0000000000b1');

-- A statement's answer, and how it fails (SQLSTATE, hint, detail, message),
-- as the owner or the stranger (tests.call_as, tests.refusal_as).
create function pg_temp.user_id(who text)
returns uuid language sql immutable
as $$ select case who when 'owner' then 'a2300000-0000-4000-8000-000000000001'::uuid
                      else 'b2300000-0000-4000-8000-000000000002'::uuid end $$;

create function pg_temp.call(who text, statement text)
returns jsonb language sql
as $$ select tests.call_as(pg_temp.user_id(who), statement) $$;

create function pg_temp.refusal(who text, statement text)
returns table (state text, reason text, about text, said text) language sql
as $$ select * from tests.refusal_as(pg_temp.user_id(who), statement) $$;

-- The calls of the six functions, as the control plane makes them.
create function pg_temp.tenant_brand_sql(tenant uuid)
returns text language sql immutable
as $$ select format('select public.tenant_brand(%L)', tenant) $$;

create function pg_temp.publish_sql(tenant uuid, name text, config jsonb, expected integer)
returns text language sql immutable
as $$ select format('select public.publish_tenant_brand(%L, %L, %L, %s)', tenant, name, config, coalesce(expected::text, 'null')) $$;

create function pg_temp.versions_sql(tenant uuid)
returns text language sql immutable
as $$ select format('select public.tenant_brand_versions(%L)', tenant) $$;

create function pg_temp.rollback_sql(tenant uuid, version integer, expected integer)
returns text language sql immutable
as $$ select format('select public.rollback_tenant_brand(%L, %s, %s)', tenant, version, expected) $$;

create function pg_temp.save_draft_sql(tenant uuid, name text, config jsonb)
returns text language sql immutable
as $$ select format('select public.save_tenant_brand_draft(%L, %L, %L)', tenant, name, config) $$;

create function pg_temp.publish_draft_sql(tenant uuid, expected integer)
returns text language sql immutable
as $$ select format('select public.publish_tenant_brand_draft(%L, %s)', tenant, expected) $$;

-- A tenant's published brand, version and versions kept, as the database has them.
create function pg_temp.published(tenant uuid)
returns table (display_name text, brand_config jsonb, brand_version integer, versions_kept bigint)
language sql
as $$
  select t.display_name, t.brand_config, t.brand_version,
    (select count(*) from private.tenant_brand_versions as v where v.tenant_id = t.id)
  from public.tenant_profiles as t
  where t.id = tenant
$$;

create function pg_temp.hash_of(tenant uuid)
returns text
language sql
immutable
as $$ select encode(sha256(convert_to(tenant::text, 'UTF8')), 'hex') $$;

-------------------------------------------------------------------------------
-- Structure: the version column, the private tables, who may call what
-------------------------------------------------------------------------------
select has_column('public', 'tenant_profiles', 'brand_version', 'tenant_profiles has brand_version');
select col_type_is('public', 'tenant_profiles', 'brand_version', 'integer', 'brand_version is an integer');
select col_default_is('public', 'tenant_profiles', 'brand_version', '1', 'brand_version starts at 1');
select ok(
  not has_column_privilege('anon', 'public.tenant_profiles', 'brand_version', 'select')
  and not has_column_privilege('authenticated', 'public.tenant_profiles', 'brand_version', 'select'),
  'brand_version is not a public column: neither the anon key nor a signed-in user reads it from the table');
select has_table('private', 'tenant_brand_versions', 'private.tenant_brand_versions exists');
select has_table('private', 'tenant_brand_drafts', 'private.tenant_brand_drafts exists');
select has_table('private', 'brand_write_budgets', 'private.brand_write_budgets exists');
select is_empty(
  $$ select t.slug from public.tenant_profiles as t
     where not exists (
       select 1 from private.tenant_brand_versions as v
       where v.tenant_id = t.id and v.version = t.brand_version
         and v.display_name = t.display_name and v.brand_config = t.brand_config
     ) $$,
  'every tenant''s published brand is its current version: backfilled by the migration, recorded for a new tenant');
select results_eq(
  $$ select version, display_name, published_by from private.tenant_brand_versions
     where tenant_id = 'a2300000-0000-4000-8000-0000000000a1' $$,
  $$ values (1, 'Alpha', null::uuid) $$,
  'a tenant created by trusted code starts at version 1, published by nobody');
select results_eq(
  $$ select count(*)::int from pg_catalog.pg_proc as p
     where p.pronamespace = 'public'::regnamespace
       and p.proname in ('tenant_brand', 'publish_tenant_brand', 'tenant_brand_versions',
                         'rollback_tenant_brand', 'save_tenant_brand_draft', 'publish_tenant_brand_draft')
       and p.prosecdef
       and p.proconfig @> array['search_path=""']
       and p.prorettype = 'jsonb'::regtype
       and has_function_privilege('authenticated', p.oid, 'execute')
       and not has_function_privilege('anon', p.oid, 'execute')
       and not has_function_privilege('service_role', p.oid, 'execute') $$,
  $$ values (6) $$,
  'the six owner functions: security definer, an empty search_path, jsonb, for signed-in users only');
select is_empty(
  $$ select p.oid::regprocedure::text from pg_catalog.pg_proc as p
     where p.pronamespace = 'private'::regnamespace
       and p.proname in ('spend_brand_write', 'brand_config_problem', 'require_valid_brand', 'require_brand_version',
                         'publish_brand', 'brand_of', 'next_brand_version', 'record_brand_version')
       and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute')) $$,
  'no API role may call the private helpers');

-------------------------------------------------------------------------------
-- The anon key: no function, no table
-------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok($$ select public.tenant_brand('a2300000-0000-4000-8000-0000000000a1') $$,
  '42501', 'permission denied for function tenant_brand', 'anon: tenant_brand() is denied');
select throws_ok($$ select public.publish_tenant_brand('a2300000-0000-4000-8000-0000000000a1', 'X', '{}', 1) $$,
  '42501', 'permission denied for function publish_tenant_brand', 'anon: publish_tenant_brand() is denied');
select throws_ok($$ select public.tenant_brand_versions('a2300000-0000-4000-8000-0000000000a1') $$,
  '42501', 'permission denied for function tenant_brand_versions', 'anon: tenant_brand_versions() is denied');
select throws_ok($$ select public.rollback_tenant_brand('a2300000-0000-4000-8000-0000000000a1', 1, 1) $$,
  '42501', 'permission denied for function rollback_tenant_brand', 'anon: rollback_tenant_brand() is denied');
select throws_ok($$ select public.save_tenant_brand_draft('a2300000-0000-4000-8000-0000000000a1', 'X', '{}') $$,
  '42501', 'permission denied for function save_tenant_brand_draft', 'anon: save_tenant_brand_draft() is denied');
select throws_ok($$ select public.publish_tenant_brand_draft('a2300000-0000-4000-8000-0000000000a1', 1) $$,
  '42501', 'permission denied for function publish_tenant_brand_draft', 'anon: publish_tenant_brand_draft() is denied');
select throws_ok($$ select * from private.tenant_brand_versions $$,
  '42501', 'permission denied for table tenant_brand_versions', 'anon: select tenant_brand_versions is denied');
select throws_ok($$ select * from private.tenant_brand_drafts $$,
  '42501', 'permission denied for table tenant_brand_drafts', 'anon: select tenant_brand_drafts is denied');
select throws_ok($$ select * from private.brand_write_budgets $$,
  '42501', 'permission denied for table brand_write_budgets', 'anon: select brand_write_budgets is denied');
select throws_ok($$ select brand_version from public.tenant_profiles $$,
  '42501', 'permission denied for table tenant_profiles', 'anon: select brand_version is denied');
select tests.clear_authentication();

-- Nor the owner, but through the functions; nor the service role, which has
-- no user to own anything.
select tests.authenticate_as('a2300000-0000-4000-8000-000000000001');
select throws_ok($$ select * from private.tenant_brand_versions $$,
  '42501', 'permission denied for table tenant_brand_versions', 'owner: select tenant_brand_versions itself is denied');
select throws_ok($$ insert into private.tenant_brand_drafts (tenant_id, display_name, brand_config) values ('a2300000-0000-4000-8000-0000000000a1', 'X', '{}') $$,
  '42501', 'permission denied for table tenant_brand_drafts', 'owner: insert tenant_brand_drafts itself is denied');
select throws_ok($$ update private.brand_write_budgets set tokens = 20 $$,
  '42501', 'permission denied for table brand_write_budgets', 'owner: update brand_write_budgets itself is denied');
select throws_ok($$ update public.tenant_profiles set brand_version = 1 $$,
  '42501', 'permission denied for table tenant_profiles', 'owner: update tenant_profiles itself is denied');
select tests.clear_authentication();
select tests.authenticate_as_service_role();
select throws_ok($$ select public.tenant_brand('a2300000-0000-4000-8000-0000000000a1') $$,
  '42501', 'permission denied for function tenant_brand', 'service_role: the owner functions are not its');
select tests.clear_authentication();

-------------------------------------------------------------------------------
-- Another signed-in user: not_owner for every function, and nothing changes
-------------------------------------------------------------------------------
select is(
  (select array[r.state, r.reason, r.said] from pg_temp.refusal('stranger', s.statement) as r),
  array['42501', 'not_owner', 'you do not own this tenant'],
  format('another user: %s is refused, not_owner', s.name))
from (values
  ('tenant_brand', pg_temp.tenant_brand_sql('a2300000-0000-4000-8000-0000000000a1')),
  ('publish_tenant_brand', pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Hijacked', tests.brand_config('#f00'), 1)),
  ('tenant_brand_versions', pg_temp.versions_sql('a2300000-0000-4000-8000-0000000000a1')),
  ('rollback_tenant_brand', pg_temp.rollback_sql('a2300000-0000-4000-8000-0000000000a1', 1, 1)),
  ('save_tenant_brand_draft', pg_temp.save_draft_sql('a2300000-0000-4000-8000-0000000000a1', 'Hijacked', tests.brand_config('#f00'))),
  ('publish_tenant_brand_draft', pg_temp.publish_draft_sql('a2300000-0000-4000-8000-0000000000a1', 1))
) as s (name, statement);
select results_eq(
  $$ select *, (select count(*) from private.tenant_brand_drafts where tenant_id = 'a2300000-0000-4000-8000-0000000000a1'),
       (select count(*) from private.brand_write_budgets where tenant_id = 'a2300000-0000-4000-8000-0000000000a1')
     from pg_temp.published('a2300000-0000-4000-8000-0000000000a1') $$,
  $$ values ('Alpha', tests.brand_config(), 1, 1::bigint, 0::bigint, 0::bigint) $$,
  'and nothing changed: the brand, its versions, no draft, no budget spent');
select is(
  (select array[r.state, r.reason] from pg_temp.refusal('owner', pg_temp.tenant_brand_sql('00000000-0000-4000-8000-00000000dead')) as r),
  array['42501', 'not_owner'],
  'a tenant that does not exist is not_owner too: nothing tells it from another''s');
select is(
  (select array[r.state, r.reason] from pg_temp.refusal('owner', pg_temp.publish_sql(null, 'Alpha', tests.brand_config(), 1)) as r),
  array['42501', 'not_owner'],
  'and so is no tenant at all');

-------------------------------------------------------------------------------
-- The owner publishes: a new version, kept, and in the change feed
-------------------------------------------------------------------------------
select is(
  pg_temp.call('owner', pg_temp.tenant_brand_sql('a2300000-0000-4000-8000-0000000000a1')),
  jsonb_build_object('displayName', 'Alpha', 'brandConfig', tests.brand_config(), 'version', 1, 'draft', null),
  'the owner reads the published brand, its version and no draft');

set constraints all immediate;
set constraints all deferred;
delete from public.tenant_changes;

select is(
  pg_temp.call('owner', pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Two', tests.brand_config('#1d3557'), 1)),
  jsonb_build_object('displayName', 'Alpha Two', 'brandConfig', tests.brand_config('#1d3557'), 'version', 2, 'draft', null),
  'the owner publishes version 2 and gets the new brand back');
select results_eq(
  $$ select * from pg_temp.published('a2300000-0000-4000-8000-0000000000a1') $$,
  $$ values ('Alpha Two', tests.brand_config('#1d3557'), 2, 2::bigint) $$,
  'tenant_profiles has the new brand at version 2, and both versions are kept');
select results_eq(
  $$ select version, display_name, brand_config, published_by from private.tenant_brand_versions
     where tenant_id = 'a2300000-0000-4000-8000-0000000000a1' order by version $$,
  $$ values (1, 'Alpha', tests.brand_config(), null::uuid),
            (2, 'Alpha Two', tests.brand_config('#1d3557'), 'a2300000-0000-4000-8000-000000000001'::uuid) $$,
  'version 2 is recorded as published by the owner; version 1 is as it was');
set constraints all immediate;
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('a2300000-0000-4000-8000-0000000000a1')) $$,
  'the publish is in the change feed: every data center re-reads the tenant');
set constraints all deferred;
select is(
  pg_temp.call('owner', pg_temp.tenant_brand_sql('a2300000-0000-4000-8000-0000000000a1')),
  jsonb_build_object('displayName', 'Alpha Two', 'brandConfig', tests.brand_config('#1d3557'), 'version', 2, 'draft', null),
  'tenant_brand() answers what the publish answered');

-------------------------------------------------------------------------------
-- A stale version and an invalid brand change nothing
-------------------------------------------------------------------------------
select results_eq(
  format('select * from pg_temp.refusal(%L, %L)', 'owner',
    pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Late', tests.brand_config('#999'), 1)),
  $$ values ('PT412', 'stale', '2', 'the brand changed since version 1 was read') $$,
  'publishing over a version that is no longer the published one is PT412 stale, with the published version in detail');
select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner',
    pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Late', tests.brand_config('#999'), null)) as r),
  array['PT412', 'stale', '2'],
  'so is publishing without a version');
select results_eq(
  format('select * from pg_temp.refusal(%L, %L)', 'owner',
    pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Bad', tests.brand_config('#12'), 2)),
  $$ values ('22023', 'invalid_brand', '/colors/primary', 'brand_config breaks the brand contract at /colors/primary') $$,
  'a bad colour is 22023 invalid_brand, its JSON Pointer in detail and in the message');
select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner',
    pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Bad',
      jsonb_set(tests.brand_config(), '{logo,url}', '"javascript:alert(1)"'), 2)) as r),
  array['22023', 'invalid_brand', '/logo/url'],
  'a bad logo url is invalid_brand at /logo/url');
select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner',
    pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Bad', '["not", "a", "brand"]', 2)) as r),
  array['22023', 'invalid_brand', ''],
  'a brand that is not an object is invalid_brand at the document itself ('''')');
select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner',
    pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', '   ', tests.brand_config(), 2)) as r),
  array['22023', 'invalid_brand', '/displayName'],
  'a blank display name is invalid_brand at /displayName');
select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner',
    pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', repeat('n', 121), tests.brand_config(), 2)) as r),
  array['22023', 'invalid_brand', '/displayName'],
  'so is one of 121 characters');
select results_eq(
  $$ select * from pg_temp.published('a2300000-0000-4000-8000-0000000000a1') $$,
  $$ values ('Alpha Two', tests.brand_config('#1d3557'), 2, 2::bigint) $$,
  'and none of them changed anything');

-------------------------------------------------------------------------------
-- brand_config_problem() says where, and agrees with is_valid_brand_config()
-------------------------------------------------------------------------------
create temp table problem_cases (name, document, pointer) as
select c.name, c.document, c.pointer
from (select tests.brand_config() as doc) as b,
lateral (values
  ('the fixture brand', b.doc, null::text),
  ('with every optional text', b.doc || '{"tagline":"Grow.","welcomeMessage":"Hi <b>","completionMessage":"Bye & thanks"}', null),
  ('a logo width of 160', jsonb_set(b.doc, '{logo,width}', '160'), null),
  ('a logo width of 10000', jsonb_set(b.doc, '{logo,width}', '10000'), null),
  ('an extra top-level key holding 1e400', b.doc || '{"frontendScale":1e400}', null),
  ('an array', '[]'::jsonb, ''),
  ('a string', '"brand"'::jsonb, ''),
  ('JSON null', 'null'::jsonb, ''),
  ('an empty object', '{}'::jsonb, '/logo'),
  ('no logo', b.doc - 'logo', '/logo'),
  ('a logo that is a string', jsonb_set(b.doc, '{logo}', '"https://example.com/logo.svg"'), '/logo'),
  ('an extra key in logo', jsonb_set(b.doc, '{logo,height}', '10'), '/logo'),
  ('a zero width', jsonb_set(b.doc, '{logo,width}', '0'), '/logo/width'),
  ('a width of 1e400', jsonb_set(b.doc, '{logo,width}', '1e400'), '/logo/width'),
  ('a width as a string', jsonb_set(b.doc, '{logo,width}', '"160"'), '/logo/width'),
  ('a null width', jsonb_set(b.doc, '{logo,width}', 'null'), '/logo/width'),
  ('a bad width and an extra key in logo: the width first', jsonb_set(jsonb_set(b.doc, '{logo,width}', '0'), '{logo,h}', '1'), '/logo/width'),
  ('an http logo url', jsonb_set(b.doc, '{logo,url}', '"http://example.com/logo.svg"'), '/logo/url'),
  ('a logo url with a space', jsonb_set(b.doc, '{logo,url}', '"https://example.com/a b.svg"'), '/logo/url'),
  ('a logo url of 2049 characters', jsonb_set(b.doc, '{logo,url}', to_jsonb('https://example.com/' || repeat('a', 2029))), '/logo/url'),
  ('no logo url', b.doc #- '{logo,url}', '/logo/url'),
  ('an alt of 201 characters', jsonb_set(b.doc, '{logo,alt}', to_jsonb(repeat('a', 201))), '/logo/alt'),
  ('no alt', b.doc #- '{logo,alt}', '/logo/alt'),
  ('a primary of two hex digits', jsonb_set(b.doc, '{colors,primary}', '"#12"'), '/colors/primary'),
  ('a border named red', jsonb_set(b.doc, '{colors,border}', '"red"'), '/colors/border'),
  ('no primaryHover', b.doc #- '{colors,primaryHover}', '/colors/primaryHover'),
  ('an extra colour', jsonb_set(b.doc, '{colors,accent}', '"#fff"'), '/colors'),
  ('no colours', b.doc - 'colors', '/colors'),
  ('the issue''s injection in a font', jsonb_set(b.doc, '{fonts,heading}', '"x;}</style><script>alert(1)</script>"'), '/fonts/heading'),
  ('an empty body font', jsonb_set(b.doc, '{fonts,body}', '""'), '/fonts/body'),
  ('an extra font', jsonb_set(b.doc, '{fonts,mono}', '"Inter"'), '/fonts'),
  ('a tagline that is a number', b.doc || '{"tagline":42}', '/tagline'),
  ('a tagline of 201 characters', b.doc || jsonb_build_object('tagline', repeat('t', 201)), '/tagline'),
  ('a null welcome message', b.doc || '{"welcomeMessage":null}', '/welcomeMessage'),
  ('a completion message of 2001 characters', b.doc || jsonb_build_object('completionMessage', repeat('c', 2001)), '/completionMessage'),
  ('no showPoweredBy', b.doc - 'showPoweredBy', '/showPoweredBy'),
  ('showPoweredBy as a string', jsonb_set(b.doc, '{showPoweredBy}', '"yes"'), '/showPoweredBy'),
  ('a bad url and a bad colour: the url first', jsonb_set(jsonb_set(b.doc, '{colors,primary}', '"#12"'), '{logo,url}', '"http://x.test"'), '/logo/url'),
  ('a bad font and a bad flag: the font first', jsonb_set(jsonb_set(b.doc, '{showPoweredBy}', '1'), '{fonts,heading}', '"a;b"'), '/fonts/heading')
) as c (name, document, pointer);

select is_empty(
  $$ select name from pg_temp.problem_cases
     where (private.brand_config_problem(document) is null) is distinct from public.is_valid_brand_config(document)
     union all
     select slug from public.tenant_profiles
     where (private.brand_config_problem(brand_config) is null) is distinct from public.is_valid_brand_config(brand_config) $$,
  'brand_config_problem() is null exactly when is_valid_brand_config() accepts a document (the cases, every stored brand)');
select is_empty(
  $$ select name || ': ' || coalesce(private.brand_config_problem(document), 'null') || ', not ' || coalesce(pointer, 'null')
     from pg_temp.problem_cases
     where private.brand_config_problem(document) is distinct from pointer $$,
  'brand_config_problem() points at the first wrong field, in the control plane''s order');
select is(private.brand_config_problem(null), '', 'no document at all is wrong at the document itself');

-------------------------------------------------------------------------------
-- Versions, newest first; a rollback publishes an old one as a new version
-------------------------------------------------------------------------------
select is(
  pg_temp.call('owner', pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Three', tests.brand_config('#e9c46a'), 2)) -> 'version',
  '3'::jsonb,
  'the owner publishes version 3');
select results_eq(
  $$ select (v ->> 'version')::int, v ->> 'displayName', v -> 'brandConfig' ->> 'colors', v ->> 'publishedAt' is not null
     from jsonb_array_elements(pg_temp.call('owner', pg_temp.versions_sql('a2300000-0000-4000-8000-0000000000a1')) -> 'versions') as v $$,
  $$ values (3, 'Alpha Three', tests.brand_config('#e9c46a') ->> 'colors', true),
            (2, 'Alpha Two', tests.brand_config('#1d3557') ->> 'colors', true),
            (1, 'Alpha', tests.brand_config() ->> 'colors', true) $$,
  'tenant_brand_versions() lists every version, newest first');
select is(
  (select array_agg(k order by k) from jsonb_object_keys(
    pg_temp.call('owner', pg_temp.versions_sql('a2300000-0000-4000-8000-0000000000a1')) -> 'versions' -> 0) as k),
  array['brandConfig', 'displayName', 'publishedAt', 'version'],
  'each version is {version, displayName, brandConfig, publishedAt}');

select is(
  pg_temp.call('owner', pg_temp.rollback_sql('a2300000-0000-4000-8000-0000000000a1', 1, 3)),
  jsonb_build_object('displayName', 'Alpha', 'brandConfig', tests.brand_config(), 'version', 4, 'draft', null),
  'a rollback to version 1 publishes its brand as version 4');
select results_eq(
  $$ select version, display_name, brand_config from private.tenant_brand_versions
     where tenant_id = 'a2300000-0000-4000-8000-0000000000a1' order by version $$,
  $$ values (1, 'Alpha', tests.brand_config()), (2, 'Alpha Two', tests.brand_config('#1d3557')),
            (3, 'Alpha Three', tests.brand_config('#e9c46a')), (4, 'Alpha', tests.brand_config()) $$,
  'history is never rewritten: versions 1 to 3 as they were, and a new one');
select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner',
    pg_temp.rollback_sql('a2300000-0000-4000-8000-0000000000a1', 2, 3)) as r),
  array['PT412', 'stale', '4'],
  'a rollback over a version that is no longer published is stale');
select results_eq(
  format('select * from pg_temp.refusal(%L, %L)', 'owner', pg_temp.rollback_sql('a2300000-0000-4000-8000-0000000000a1', 99, 4)),
  $$ values ('P0002', 'version_not_found', '', 'this tenant has no brand version 99') $$,
  'a rollback to a version the tenant never had is P0002 version_not_found');
select is(
  pg_temp.call('owner', pg_temp.rollback_sql('a2300000-0000-4000-8000-0000000000a1', 1, 4)) -> 'version',
  '5'::jsonb,
  'a rollback to the same version again is one more new version, 5');
select results_eq(
  $$ select * from pg_temp.published('a2300000-0000-4000-8000-0000000000a1') $$,
  $$ values ('Alpha', tests.brand_config(), 5, 5::bigint) $$,
  'after the refusals, only the rollbacks were published');

-------------------------------------------------------------------------------
-- Drafts: saved beside the published brand, published once
-------------------------------------------------------------------------------
set constraints all immediate;
set constraints all deferred;
delete from public.tenant_changes;

select results_eq(
  $$ select a ->> 'displayName', (a ->> 'version')::int, a -> 'draft' ->> 'displayName', a -> 'draft' -> 'brandConfig',
       (a -> 'draft' ->> 'savedAt')::timestamptz = now()
     from pg_temp.call('owner', pg_temp.save_draft_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Draft', tests.brand_config('#2a9d8f'))) as a $$,
  $$ values ('Alpha', 5, 'Alpha Draft', tests.brand_config('#2a9d8f'), true) $$,
  'the owner saves a draft: the answer has the published brand and the draft beside it');
select results_eq(
  $$ select * from pg_temp.published('a2300000-0000-4000-8000-0000000000a1') $$,
  $$ values ('Alpha', tests.brand_config(), 5, 5::bigint) $$,
  'a draft does not change the published brand');
set constraints all immediate;
select is_empty($$ select tenant_hash from public.tenant_changes $$, 'and records nothing in the change feed');
set constraints all deferred;
select lives_ok(
  $$ select pg_temp.call('owner', pg_temp.save_draft_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Draft Two', tests.brand_config('#264653'))) $$,
  'the owner saves the draft again');
select results_eq(
  $$ select display_name, brand_config from private.tenant_brand_drafts where tenant_id = 'a2300000-0000-4000-8000-0000000000a1' $$,
  $$ values ('Alpha Draft Two', tests.brand_config('#264653')) $$,
  'one draft per tenant: the last one saved');
select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner',
    pg_temp.save_draft_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Draft', jsonb_set(tests.brand_config(), '{fonts,heading}', '"Comic Sans; color: red"'))) as r),
  array['22023', 'invalid_brand', '/fonts/heading'],
  'an invalid draft is refused as a publish is');
select is(
  (select array[r.state, r.reason, r.about] from pg_temp.refusal('owner',
    pg_temp.publish_draft_sql('a2300000-0000-4000-8000-0000000000a1', 4)) as r),
  array['PT412', 'stale', '5'],
  'publishing the draft over a version that is no longer published is stale');
select is(
  pg_temp.call('owner', pg_temp.publish_draft_sql('a2300000-0000-4000-8000-0000000000a1', 5)),
  jsonb_build_object('displayName', 'Alpha Draft Two', 'brandConfig', tests.brand_config('#264653'), 'version', 6, 'draft', null),
  'the owner publishes the draft: version 6, and no draft left');
select results_eq(
  $$ select *, (select count(*) from private.tenant_brand_drafts where tenant_id = 'a2300000-0000-4000-8000-0000000000a1')
     from pg_temp.published('a2300000-0000-4000-8000-0000000000a1') $$,
  $$ values ('Alpha Draft Two', tests.brand_config('#264653'), 6, 6::bigint, 0::bigint) $$,
  'the draft is the published brand and version 6, and it is gone');
set constraints all immediate;
select results_eq(
  $$ select tenant_hash from public.tenant_changes $$,
  $$ values (pg_temp.hash_of('a2300000-0000-4000-8000-0000000000a1')) $$,
  'publishing the draft is in the change feed');
set constraints all deferred;
select results_eq(
  format('select * from pg_temp.refusal(%L, %L)', 'owner', pg_temp.publish_draft_sql('a2300000-0000-4000-8000-0000000000a1', 6)),
  $$ values ('P0002', 'no_draft', '', 'this tenant has no brand draft to publish') $$,
  'with no draft, publishing it is P0002 no_draft');
select is(
  (select array[r.state, r.reason] from pg_temp.refusal('stranger',
    pg_temp.save_draft_sql('a2300000-0000-4000-8000-0000000000a1', 'Hijacked', tests.brand_config())) as r),
  array['42501', 'not_owner'],
  'another user cannot leave a draft for the owner to publish');

-------------------------------------------------------------------------------
-- An inactive tenant's owner edits it too; it stays inactive
-------------------------------------------------------------------------------
select is(
  pg_temp.call('owner', pg_temp.publish_sql('c2300000-0000-4000-8000-0000000000c1', 'Sleepy Two', tests.brand_config('#abc'), 1)) -> 'version',
  '2'::jsonb,
  'the owner publishes the inactive tenant''s brand');

-------------------------------------------------------------------------------
-- Trusted code writing a brand directly makes a version too
-------------------------------------------------------------------------------
select tests.as_service_role($$
  update public.tenant_profiles set brand_config = jsonb_set(brand_config, '{colors,primary}', '"#0f0"')
  where id = 'b2300000-0000-4000-8000-0000000000b1'
$$);
select results_eq(
  $$ select t.brand_version, v.brand_config ->> 'colors', v.published_by
     from public.tenant_profiles as t
     join private.tenant_brand_versions as v on v.tenant_id = t.id and v.version = t.brand_version
     where t.id = 'b2300000-0000-4000-8000-0000000000b1' $$,
  $$ values (2, tests.brand_config('#0f0') ->> 'colors', null::uuid) $$,
  'the service role''s edit of a brand is version 2, published by nobody');
select tests.as_service_role($$
  update public.tenant_profiles set subscription_tier = 'starter', display_name = display_name
  where id = 'b2300000-0000-4000-8000-0000000000b1'
$$);
select results_eq(
  $$ select brand_version, (select count(*)::int from private.tenant_brand_versions where tenant_id = t.id)
     from public.tenant_profiles as t where id = 'b2300000-0000-4000-8000-0000000000b1' $$,
  $$ values (2, 2) $$,
  'an edit that leaves the brand as it was makes no version');
update public.tenant_profiles set subscription_tier = 'free' where id = 'b2300000-0000-4000-8000-0000000000b1';

-- At most 100 versions are listed: the newest.
insert into private.tenant_brand_versions (tenant_id, version, display_name, brand_config)
select 'b2300000-0000-4000-8000-0000000000b1', n, 'Beta ' || n, tests.brand_config()
from generate_series(3, 121) as n;
select results_eq(
  $$ select jsonb_array_length(l), l -> 0 ->> 'version', l -> 99 ->> 'version'
     from (select pg_temp.call('stranger', pg_temp.versions_sql('b2300000-0000-4000-8000-0000000000b1')) -> 'versions') as a (l) $$,
  $$ values (100, '121', '22') $$,
  'tenant_brand_versions() lists the 100 newest versions');

-------------------------------------------------------------------------------
-- The budget: 20 brand writes in a burst, then one every 10 seconds
-------------------------------------------------------------------------------
delete from private.brand_write_budgets;
select is(
  (select r.reason from pg_temp.refusal('owner',
    pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha', tests.brand_config('#12'), 6)) as r),
  'invalid_brand', 'a refused write...');
select is_empty(
  $$ select tokens from private.brand_write_budgets where tenant_id = 'a2300000-0000-4000-8000-0000000000a1' $$,
  '...spends nothing');
select lives_ok(
  $$ select pg_temp.call('owner', pg_temp.save_draft_sql('a2300000-0000-4000-8000-0000000000a1', 'Burst ' || n, tests.brand_config()))
     from generate_series(1, 20) as n $$,
  'the owner writes 20 times in a burst');
select is(
  (select round(tokens)::int from private.brand_write_budgets where tenant_id = 'a2300000-0000-4000-8000-0000000000a1'),
  0, 'and has spent its 20 writes');
select results_eq(
  format('select * from pg_temp.refusal(%L, %L)', 'owner',
    pg_temp.save_draft_sql('a2300000-0000-4000-8000-0000000000a1', 'Burst 21', tests.brand_config())),
  $$ values ('PT429', 'rate_limited', '10', 'too many brand changes for this tenant: try again in 10 seconds') $$,
  'the 21st write is refused: PT429 rate_limited, the seconds to wait in detail');
select is(
  (select array[r.state, r.reason] from pg_temp.refusal('owner',
    pg_temp.publish_sql('a2300000-0000-4000-8000-0000000000a1', 'Alpha Flood', tests.brand_config(), 6)) as r),
  array['PT429', 'rate_limited'],
  'publishing is refused as well');
select results_eq(
  $$ select (b ->> 'version')::int, b ->> 'displayName', b -> 'draft' ->> 'displayName'
     from pg_temp.call('owner', pg_temp.tenant_brand_sql('a2300000-0000-4000-8000-0000000000a1')) as b $$,
  $$ values (6, 'Alpha Draft Two', 'Burst 20') $$,
  'reading spends nothing, and the refused writes wrote nothing');
select lives_ok(
  $$ select pg_temp.call('stranger', pg_temp.save_draft_sql('b2300000-0000-4000-8000-0000000000b1', 'Beta Draft', tests.brand_config())) $$,
  'another tenant''s budget is its own');
select is_empty(
  $$ select 1 from private.owner_write_budgets where tenant_id = 'a2300000-0000-4000-8000-0000000000a1' $$,
  'and the domain budget is another: brand writes spend none of it');
update private.brand_write_budgets set refilled_at = refilled_at - interval '10 seconds'
where tenant_id = 'a2300000-0000-4000-8000-0000000000a1';
select lives_ok(
  $$ select pg_temp.call('owner', pg_temp.publish_draft_sql('a2300000-0000-4000-8000-0000000000a1', 6)) $$,
  'ten seconds later, one more write');

-------------------------------------------------------------------------------
-- Nothing but the brand ever changed; a deleted tenant takes its brand along
-------------------------------------------------------------------------------
select bag_eq(
  $$ select id, slug, is_active, subscription_tier, user_id, custom_domain, tenant_type, email_config, enabled_assessments, created_at
     from public.tenant_profiles
     where id in ('a2300000-0000-4000-8000-0000000000a1', 'c2300000-0000-4000-8000-0000000000c1', 'b2300000-0000-4000-8000-0000000000b1') $$,
  $$ select * from pg_temp.untouched $$,
  'slug, is_active, subscription_tier, owner, domain and every other column but the brand are as they were');
select tests.as_service_role($$ delete from public.tenant_profiles where id = 'b2300000-0000-4000-8000-0000000000b1' $$);
select is_empty(
  $$ select 1 from private.tenant_brand_versions where tenant_id = 'b2300000-0000-4000-8000-0000000000b1'
     union all select 1 from private.tenant_brand_drafts where tenant_id = 'b2300000-0000-4000-8000-0000000000b1'
     union all select 1 from private.brand_write_budgets where tenant_id = 'b2300000-0000-4000-8000-0000000000b1' $$,
  'deleting a tenant deletes its versions, its draft and its budget');

select * from finish();
rollback;
