-- The brand contract (issue 11): brand_config values are safe to write into
-- CSS and HTML. The whole shared corpus (schema/corpus/brand-config.json) is
-- run through public.is_valid_brand_config by tests/database.test.mjs; this
-- file proves the CHECK holds for every row, what it refuses in the places
-- the Worker writes into, and that texts stay free text.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(14);

-- A complete, valid brand_config.
create function pg_temp.brand()
returns jsonb
language sql
as $$
  select '{"logo":{"url":"https://cdn.example.com/logo.svg","alt":"Logo","width":120},
    "colors":{"primary":"#2d5a3d","primaryHover":"#234730","secondary":"#c9a227","background":"#ffffff",
              "backgroundSubtle":"#f6f4ec","text":"#1f2a24","textMuted":"#5e6b63","border":"#e2ddcc"},
    "fonts":{"heading":"Playfair Display, Georgia, serif","body":"Lato"},"showPoweredBy":false}'::jsonb
$$;

select ok(
  (select convalidated from pg_catalog.pg_constraint
   where conrelid = 'public.tenant_profiles'::regclass and conname = 'tenant_profiles_brand_config_valid'),
  'the brand CHECK holds for every existing row (it is validated)'
);
select is_empty(
  $$ select slug from public.tenant_profiles where not public.is_valid_brand_config(brand_config) $$,
  'every stored brand, the seeded ones included, keeps the contract'
);
select ok(public.is_valid_brand_config(pg_temp.brand()), 'the reference brand is valid');

-- Where the Worker writes values into CSS and HTML, nothing but safe values.
select ok(
  not public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{fonts,heading}', to_jsonb('x;}</style><script>alert(1)</script>'::text))),
  'a font that would close the style element is refused'
);
select ok(
  not public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{fonts,body}', '"Open Sans\""')),
  'a font with a quote is refused'
);
select ok(
  not public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{fonts,body}', to_jsonb(repeat('A', 201)))),
  'a font list of 201 characters is refused'
);
select ok(
  not public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{logo,url}', '"https://cdn.example.com/a)b.svg"')),
  'a logo URL with a parenthesis is refused'
);
select ok(
  not public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{logo,url}', '"javascript:alert(1)"')),
  'a logo URL that is not https is refused'
);
select ok(
  not public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{colors,primary}', '"#fff;}"')),
  'a colour that would close the rule is refused'
);
select ok(
  not public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{colors,accent}', '"#fff"')),
  'a colour the contract does not name is refused'
);

-- Texts are free text, bounded in characters (code points).
select ok(
  public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{tagline}', to_jsonb('Grow <fast> & "well" </script>'::text))),
  'a tagline may hold < & and quotes: it is escaped where it is written'
);
select ok(
  public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{tagline}', to_jsonb(repeat(U&'\+01F600', 200)))),
  'a tagline of 200 astral characters is 200 characters'
);
select ok(
  not public.is_valid_brand_config(jsonb_set(pg_temp.brand(), '{welcomeMessage}', to_jsonb(repeat('w', 2001)))),
  'a welcome message of 2001 characters is refused'
);

-- The CHECK itself refuses the row.
select throws_ok(
  $$ insert into public.tenant_profiles (slug, display_name, brand_config)
     values ('bad-brand-14', 'Bad', jsonb_set(pg_temp.brand(), '{fonts,heading}', '"x;}</style>"')) $$,
  '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'an unsafe brand cannot be stored'
);

select * from finish();
rollback;
