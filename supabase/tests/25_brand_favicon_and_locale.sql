-- The brand names the tenant's favicon and the site's language (issue 28,
-- 20261208000004): favicon under the logo URL's rules, locale a BCP 47 tag of
-- 2 or 3 letters and subtags of 1 to 8 letters or digits, at most 35
-- characters; both optional, neither null. The whole shared corpus
-- (schema/corpus/brand-config.json, these fields' tricky cases among them)
-- runs through public.is_valid_brand_config in tests/database.test.mjs; this
-- file proves the CHECK refuses a wrong one, private.brand_config_problem()
-- names it by its pointer, after every other field, and the owner functions'
-- refusal carries that pointer.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(11);

-- A complete, valid brand_config with `extra` (jsonb) merged into its top level.
create function pg_temp.brand(extra jsonb default '{}')
returns jsonb
language sql
as $$
  select '{"logo":{"url":"https://cdn.example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#2d5a3d","primaryHover":"#234730","secondary":"#c9a227","background":"#ffffff",
              "backgroundSubtle":"#f6f4ec","text":"#1f2a24","textMuted":"#5e6b63","border":"#e2ddcc"},
    "fonts":{"heading":"Lato","body":"Lato"},"showPoweredBy":false}'::jsonb || extra
$$;

select ok(
  (select convalidated from pg_catalog.pg_constraint
   where conrelid = 'public.tenant_profiles'::regclass and conname = 'tenant_profiles_brand_config_valid'),
  'the brand CHECK still holds for every existing row (it is validated)'
);

-------------------------------------------------------------------------------
-- What the contract accepts and refuses, and where it says the problem is
-------------------------------------------------------------------------------
create temp table cases (name, document, pointer) as
select c.name, pg_temp.brand(c.extra), c.pointer
from (values
  ('a favicon', '{"favicon":"https://cdn.example.com/favicon.ico"}'::jsonb, null::text),
  ('a favicon with a query and a fragment', '{"favicon":"https://cdn.example.com/i.png?v=2&s=32#x"}', null),
  ('a favicon of 2048 characters', jsonb_build_object('favicon', 'https://cdn.example.com/' || repeat('f', 2020) || '.ico'), null),
  ('a locale', '{"locale":"fr-CA"}', null),
  ('a locale with script and region', '{"locale":"zh-Hant-TW"}', null),
  ('a locale in upper case', '{"locale":"EN"}', null),
  ('a locale of 35 characters', '{"locale":"en-US-abcdefgh-abcdefgh-abcdefgh-ab"}', null),
  ('both', '{"favicon":"https://cdn.example.com/icon.svg","locale":"en"}', null),
  ('a javascript: favicon', '{"favicon":"javascript:alert(1)"}', '/favicon'),
  ('an http favicon', '{"favicon":"http://cdn.example.com/favicon.ico"}', '/favicon'),
  ('a relative favicon', '{"favicon":"/favicon.ico"}', '/favicon'),
  ('a favicon with a quote', '{"favicon":"https://cdn.example.com/x\"onerror=\"alert(1)"}', '/favicon'),
  ('a favicon with a parenthesis', '{"favicon":"https://cdn.example.com/a).ico"}', '/favicon'),
  ('a favicon of 2049 characters', jsonb_build_object('favicon', 'https://cdn.example.com/' || repeat('f', 2021) || '.ico'), '/favicon'),
  ('an empty favicon', '{"favicon":""}', '/favicon'),
  ('a null favicon', '{"favicon":null}', '/favicon'),
  ('a favicon that is a number', '{"favicon":1e400}', '/favicon'),
  ('a locale en_US', '{"locale":"en_US"}', '/locale'),
  ('an empty locale', '{"locale":""}', '/locale'),
  ('a locale of 36 characters', '{"locale":"en-US-abcdefgh-abcdefgh-abcdefgh-abc"}', '/locale'),
  ('a locale with a trailing newline', '{"locale":"en\n"}', '/locale'),
  ('a locale with a subtag of 9 characters', '{"locale":"en-abcdefghi"}', '/locale'),
  ('a locale that is a number', '{"locale":42}', '/locale'),
  ('a null locale', '{"locale":null}', '/locale'),
  ('a bad favicon and a bad locale: the favicon first', '{"favicon":"data:x","locale":"en_US"}', '/favicon'),
  ('a bad colour and a bad locale: the colour first', '{"colors":{"primary":"red","primaryHover":"#000","secondary":"#000","background":"#fff","backgroundSubtle":"#fff","text":"#000","textMuted":"#000","border":"#000"},"locale":"en_US"}', '/colors/primary'),
  ('a bad flag and a bad favicon: the flag first', '{"showPoweredBy":"yes","favicon":"x"}', '/showPoweredBy')
) as c (name, extra, pointer);

select is_empty(
  $$ select name from pg_temp.cases
     where public.is_valid_brand_config(document) is distinct from (pointer is null) $$,
  'the CHECK accepts the valid favicons and locales and refuses the others, without an error');
select is_empty(
  $$ select name || ': ' || coalesce(private.brand_config_problem(document), 'null') || ', not ' || coalesce(pointer, 'null')
     from pg_temp.cases
     where private.brand_config_problem(document) is distinct from pointer $$,
  'brand_config_problem() names /favicon or /locale, after every other field');
select is_empty(
  $$ select slug from public.tenant_profiles
     where brand_config ?| array['favicon', 'locale'] and not public.is_valid_brand_config(brand_config) $$,
  'no stored brand holds a favicon or a locale the contract refuses');

-------------------------------------------------------------------------------
-- The CHECK itself, and the owner functions' refusal
-------------------------------------------------------------------------------
select throws_ok(
  $$ insert into public.tenant_profiles (slug, display_name, brand_config)
     values ('script-icon-25', 'Script icon', pg_temp.brand('{"favicon":"javascript:alert(1)"}')) $$,
  '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'a javascript: favicon cannot be stored'
);
select throws_ok(
  $$ insert into public.tenant_profiles (slug, display_name, brand_config)
     values ('underscore-25', 'Underscore', pg_temp.brand('{"locale":"en_US"}')) $$,
  '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'a locale en_US cannot be stored'
);
select lives_ok(
  $$ insert into public.tenant_profiles (slug, display_name, brand_config)
     values ('icon-and-lang-25', 'Icon and language',
             pg_temp.brand('{"favicon":"https://cdn.example.com/favicon.ico","locale":"fr-CA"}')) $$,
  'a favicon and a locale under the contract can be stored'
);
select is(
  (select brand_config ->> 'locale' from public.tenant_profiles where slug = 'icon-and-lang-25'),
  'fr-CA',
  'and are kept as written'
);
select throws_ok(
  $$ update public.tenant_profiles
     set brand_config = brand_config || '{"favicon":"https://cdn.example.com/a b.ico"}'
     where slug = 'icon-and-lang-25' $$,
  '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'nor can a brand be edited to a favicon with a space'
);
select throws_ok(
  $$ select private.require_valid_brand('Name', pg_temp.brand('{"locale":"en_US"}')) $$,
  '22023',
  'brand_config breaks the brand contract at /locale',
  'an owner''s edit with a locale en_US is refused, naming /locale'
);
select throws_ok(
  $$ select private.require_valid_brand('Name', pg_temp.brand('{"favicon":"javascript:alert(1)"}')) $$,
  '22023',
  'brand_config breaks the brand contract at /favicon',
  'an owner''s edit with a javascript: favicon is refused, naming /favicon'
);

select * from finish();
rollback;
