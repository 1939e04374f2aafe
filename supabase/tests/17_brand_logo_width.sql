-- The brand contract agrees on numbers (issue 20): logo.width is 1 to 10000
-- as a JSON parser reads it, the nearest double. The whole shared corpus
-- (schema/corpus/brand-config.json, its long decimals beside the bounds among
-- them) is run through public.is_valid_brand_config by tests/database.test.mjs;
-- this file proves the CHECK refuses what JSON parsers cannot read as a width
-- in range, answers false rather than failing for any number jsonb holds, and
-- still holds for every row.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(8);

-- A complete, valid brand_config with a logo width of `width` (jsonb text).
create function pg_temp.brand(width text)
returns jsonb
language sql
as $$
  select jsonb_set('{"logo":{"url":"https://cdn.example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#2d5a3d","primaryHover":"#234730","secondary":"#c9a227","background":"#ffffff",
              "backgroundSubtle":"#f6f4ec","text":"#1f2a24","textMuted":"#5e6b63","border":"#e2ddcc"},
    "fonts":{"heading":"Lato","body":"Lato"},"showPoweredBy":false}'::jsonb,
    '{logo,width}', width::jsonb)
$$;

select ok(
  (select convalidated from pg_catalog.pg_constraint
   where conrelid = 'public.tenant_profiles'::regclass and conname = 'tenant_profiles_brand_config_valid'),
  'the brand CHECK holds for every existing row (it is validated)'
);
select ok(public.is_valid_brand_config(pg_temp.brand('1')), 'a width of 1 is valid');
select ok(public.is_valid_brand_config(pg_temp.brand('1e4')), 'a width of 1e4 (10000) is valid');
select ok(
  public.is_valid_brand_config(pg_temp.brand('0.999999999999999944488848768742172978818416595458984375')),
  'a decimal a JSON parser reads as 1 is valid, as JSON parsers judge it'
);
select is(
  array(select public.is_valid_brand_config(pg_temp.brand(w))
        from unnest(array['0', '0.5', '10000.5', '1e308', '1e400', '1e-400', '-1e400', '1e131071', '1e-16383']) as w),
  array[false, false, false, false, false, false, false, false, false],
  'widths out of range, beyond a double or below one, are refused without an error'
);

-- The CHECK itself refuses the row.
select throws_ok(
  $$ insert into public.tenant_profiles (slug, display_name, brand_config)
     values ('huge-logo-17', 'Huge', pg_temp.brand('1e400')) $$,
  '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'a width of 1e400 cannot be stored'
);
select throws_ok(
  $$ insert into public.tenant_profiles (slug, display_name, brand_config)
     values ('tiny-logo-17', 'Tiny', pg_temp.brand('1e-400')) $$,
  '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'a width of 1e-400 cannot be stored'
);
select lives_ok(
  $$ insert into public.tenant_profiles (slug, display_name, brand_config)
     values ('wide-logo-17', 'Wide', pg_temp.brand('10000')) $$,
  'a width of 10000 can be stored'
);

select * from finish();
rollback;
