-- The brand names the tenant's favicon and the site's language.
--
-- Two optional top-level keys of brand_config enter the brand contract, in
-- the database CHECK, the JSON Schema (schema/brand-config.schema.json) and
-- the Worker (crates/common/src/brand.rs) at once, proven by the shared
-- corpus (schema/corpus/brand-config.json):
--   * favicon: the tenant's favicon, under exactly the rules of logo.url (an
--     https:// URL of RFC 3986 characters other than quotes and parentheses,
--     at most 2048 characters); the logo stands in when there is none;
--   * locale: the site's language, a BCP 47 language tag as written: 2 or 3
--     ASCII letters, then any number of '-' and 1 to 8 ASCII letters or
--     digits, at most 35 characters (en, fr-CA, zh-Hant-TW; not en_US, and
--     not the grandfathered i-klingon or the private-use x-...).
-- Either may be absent; neither may be null, empty or another type. Every
-- other rule is unchanged. private.brand_config_problem() names /favicon,
-- then /locale, after every other field, as tenant_common::brand::problems
-- lists them.
--
-- Until now the contract allowed any other top-level key (kept for the
-- frontend to grow), so a stored brand may already hold a favicon or a locale
-- of another shape. Such a key is removed from the published brand, and
-- nothing else: the tenant keeps the rest of its brand, which the Worker goes
-- on writing into CSS and HTML (kept as it was, the whole brand would break
-- the contract and the Worker would write none of it). Removing it publishes
-- a new brand version (published_by null, as trusted code's), so the version
-- before keeps the removed value in private.tenant_brand_versions, and the
-- change feed carries the new one to every data center; a warning names the
-- tenants. A brand that breaks the contract elsewhere as well is left as it
-- was, and a warning names it, as 20261202002001 did. Drafts
-- are left as they are: publishing one with such a key is refused, naming it.

-- Whether a jsonb value is a brand configuration under the contract.
create or replace function public.is_valid_brand_config(config jsonb)
returns boolean
language sql
immutable
security invoker
set search_path = ''
as $$
  select coalesce(
    jsonb_typeof(config) = 'object'
    -- logo
    and jsonb_typeof(config -> 'logo') = 'object'
    and not exists (
      select 1 from jsonb_object_keys(config -> 'logo') as key
      where key not in ('url', 'alt', 'width')
    )
    and jsonb_typeof(config -> 'logo' -> 'url') = 'string'
    and char_length(config -> 'logo' ->> 'url') <= 2048
    and (config -> 'logo' ->> 'url')
      ~ '^https://[A-Za-z0-9._~:@!$&*+,;=%-]+([/?#][A-Za-z0-9._~:/?#@!$&*+,;=%-]*)?$'
    and jsonb_typeof(config -> 'logo' -> 'alt') = 'string'
    and char_length(config -> 'logo' ->> 'alt') <= 200
    and (
      config -> 'logo' -> 'width' is null
      or (jsonb_typeof(config -> 'logo' -> 'width') = 'number'
          -- 1 to 10000 as a JSON parser reads the number (the nearest double, ties
          -- to even): from halfway between 1 and the double below it (1 - 2^-54) to
          -- halfway between 10000 and the double above it (10000 + 2^-40), both
          -- read as the bound. Exact decimals, so no cast can fail or round.
          and (config -> 'logo' ->> 'width')::numeric
            between 0.999999999999999944488848768742172978818416595458984375
            and 10000.0000000000009094947017729282379150390625)
    )
    -- colors
    and jsonb_typeof(config -> 'colors') = 'object'
    and not exists (
      select 1 from jsonb_object_keys(config -> 'colors') as key
      where key not in (
        'primary', 'primaryHover', 'secondary', 'background',
        'backgroundSubtle', 'text', 'textMuted', 'border'
      )
    )
    and (
      select bool_and(
        coalesce(
          jsonb_typeof(config -> 'colors' -> color) = 'string'
          and (config -> 'colors' ->> color) ~ '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$',
          false
        )
      )
      from unnest(array[
        'primary', 'primaryHover', 'secondary', 'background',
        'backgroundSubtle', 'text', 'textMuted', 'border'
      ]) as color
    )
    -- fonts
    and jsonb_typeof(config -> 'fonts') = 'object'
    and not exists (
      select 1 from jsonb_object_keys(config -> 'fonts') as key
      where key not in ('heading', 'body')
    )
    and (
      select bool_and(
        coalesce(
          jsonb_typeof(config -> 'fonts' -> font) = 'string'
          and char_length(config -> 'fonts' ->> font) <= 200
          and (config -> 'fonts' ->> font)
            ~ '^ *[A-Za-z0-9-]+( +[A-Za-z0-9-]+)* *(, *[A-Za-z0-9-]+( +[A-Za-z0-9-]+)* *)*$',
          false
        )
      )
      from unnest(array['heading', 'body']) as font
    )
    -- texts and the flag
    and coalesce(jsonb_typeof(config -> 'tagline'), 'string') = 'string'
    and coalesce(char_length(config ->> 'tagline'), 0) <= 200
    and coalesce(jsonb_typeof(config -> 'welcomeMessage'), 'string') = 'string'
    and coalesce(char_length(config ->> 'welcomeMessage'), 0) <= 2000
    and coalesce(jsonb_typeof(config -> 'completionMessage'), 'string') = 'string'
    and coalesce(char_length(config ->> 'completionMessage'), 0) <= 2000
    and jsonb_typeof(config -> 'showPoweredBy') = 'boolean'
    -- the favicon, as the logo's url, and the locale
    and (
      config -> 'favicon' is null
      or (jsonb_typeof(config -> 'favicon') = 'string'
          and char_length(config ->> 'favicon') <= 2048
          and (config ->> 'favicon') ~ '^https://[A-Za-z0-9._~:@!$&*+,;=%-]+([/?#][A-Za-z0-9._~:/?#@!$&*+,;=%-]*)?$')
    )
    and (
      config -> 'locale' is null
      or (jsonb_typeof(config -> 'locale') = 'string'
          and char_length(config ->> 'locale') <= 35
          and (config ->> 'locale') ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$')
    ),
    false
  )
$$;

comment on function public.is_valid_brand_config(jsonb) is 'The brand contract (schema/brand-config.schema.json): whether a jsonb value is a brand configuration safe to write into CSS and HTML; used by a CHECK constraint.';

-- Where a brand configuration breaks the brand contract, as a JSON Pointer
-- (RFC 6901) into it: null when public.is_valid_brand_config() accepts it, ''
-- when it is not an object at all; fields in the order of 20261208000001, then
-- the favicon and the locale.
create or replace function private.brand_config_problem(config jsonb)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  logo jsonb := config -> 'logo';
  colors jsonb := config -> 'colors';
  fonts jsonb := config -> 'fonts';
  color text;
  font text;
  text_key text;
begin
  if public.is_valid_brand_config(config) then
    return null;
  end if;
  if config is null or pg_catalog.jsonb_typeof(config) <> 'object' then
    return '';
  end if;

  -- logo: the width first, as the control plane compares it as written
  if pg_catalog.jsonb_typeof(logo) = 'object' and logo -> 'width' is not null and not coalesce(
    pg_catalog.jsonb_typeof(logo -> 'width') = 'number'
    and (logo ->> 'width')::numeric
      between 0.999999999999999944488848768742172978818416595458984375
      and 10000.0000000000009094947017729282379150390625,
    false
  ) then
    return '/logo/width';
  end if;
  if coalesce(pg_catalog.jsonb_typeof(logo), '') <> 'object' or exists (
    select 1 from pg_catalog.jsonb_object_keys(logo) as k (name)
    where k.name not in ('url', 'alt', 'width')
  ) then
    return '/logo';
  end if;
  if not coalesce(
    pg_catalog.jsonb_typeof(logo -> 'url') = 'string'
    and pg_catalog.char_length(logo ->> 'url') <= 2048
    and (logo ->> 'url') ~ '^https://[A-Za-z0-9._~:@!$&*+,;=%-]+([/?#][A-Za-z0-9._~:/?#@!$&*+,;=%-]*)?$',
    false
  ) then
    return '/logo/url';
  end if;
  if not coalesce(
    pg_catalog.jsonb_typeof(logo -> 'alt') = 'string'
    and pg_catalog.char_length(logo ->> 'alt') <= 200,
    false
  ) then
    return '/logo/alt';
  end if;

  -- colors
  if coalesce(pg_catalog.jsonb_typeof(colors), '') <> 'object' or exists (
    select 1 from pg_catalog.jsonb_object_keys(colors) as k (name)
    where k.name not in (
      'primary', 'primaryHover', 'secondary', 'background',
      'backgroundSubtle', 'text', 'textMuted', 'border'
    )
  ) then
    return '/colors';
  end if;
  foreach color in array array[
    'primary', 'primaryHover', 'secondary', 'background',
    'backgroundSubtle', 'text', 'textMuted', 'border'
  ] loop
    if not coalesce(
      pg_catalog.jsonb_typeof(colors -> color) = 'string'
      and (colors ->> color) ~ '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$',
      false
    ) then
      return '/colors/' || color;
    end if;
  end loop;

  -- fonts
  if coalesce(pg_catalog.jsonb_typeof(fonts), '') <> 'object' or exists (
    select 1 from pg_catalog.jsonb_object_keys(fonts) as k (name)
    where k.name not in ('heading', 'body')
  ) then
    return '/fonts';
  end if;
  foreach font in array array['heading', 'body'] loop
    if not coalesce(
      pg_catalog.jsonb_typeof(fonts -> font) = 'string'
      and pg_catalog.char_length(fonts ->> font) <= 200
      and (fonts ->> font) ~ '^ *[A-Za-z0-9-]+( +[A-Za-z0-9-]+)* *(, *[A-Za-z0-9-]+( +[A-Za-z0-9-]+)* *)*$',
      false
    ) then
      return '/fonts/' || font;
    end if;
  end loop;

  -- texts and the flag
  if config -> 'tagline' is not null and not coalesce(
    pg_catalog.jsonb_typeof(config -> 'tagline') = 'string'
    and pg_catalog.char_length(config ->> 'tagline') <= 200,
    false
  ) then
    return '/tagline';
  end if;
  foreach text_key in array array['welcomeMessage', 'completionMessage'] loop
    if config -> text_key is not null and not coalesce(
      pg_catalog.jsonb_typeof(config -> text_key) = 'string'
      and pg_catalog.char_length(config ->> text_key) <= 2000,
      false
    ) then
      return '/' || text_key;
    end if;
  end loop;
  if coalesce(pg_catalog.jsonb_typeof(config -> 'showPoweredBy'), '') <> 'boolean' then
    return '/showPoweredBy';
  end if;

  -- the favicon and the locale
  if config -> 'favicon' is not null and not coalesce(
    pg_catalog.jsonb_typeof(config -> 'favicon') = 'string'
    and pg_catalog.char_length(config ->> 'favicon') <= 2048
    and (config ->> 'favicon') ~ '^https://[A-Za-z0-9._~:@!$&*+,;=%-]+([/?#][A-Za-z0-9._~:/?#@!$&*+,;=%-]*)?$',
    false
  ) then
    return '/favicon';
  end if;
  if config -> 'locale' is not null and not coalesce(
    pg_catalog.jsonb_typeof(config -> 'locale') = 'string'
    and pg_catalog.char_length(config ->> 'locale') <= 35
    and (config ->> 'locale') ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$',
    false
  ) then
    return '/locale';
  end if;

  return '';
end;
$$;

comment on function private.brand_config_problem(jsonb) is 'Where a brand_config breaks the brand contract: a JSON Pointer (RFC 6901) to the first wrong field, '''' for the document itself, null when public.is_valid_brand_config() accepts it.';

-- Existing rows. The CHECK calls is_valid_brand_config(), so it judges every
-- new or edited brand by the rules above from now on; it is not re-created,
-- since an ALTER TABLE after the updates below would fail (55006: the change
-- feed's triggers on them are deferred to the commit). It does not need to
-- be: a published brand whose favicon or locale breaks the contract, and
-- nothing else does, loses that key here (see above), so if the CHECK held for
-- every row under the old rules (it is validated) it holds under the new ones.
-- A brand that breaks the contract elsewhere is left as it was, and named.
do $$
declare
  tenant record;
  fixed jsonb;
  problem text;
  removed text[] := '{}';
  offenders text;
begin
  for tenant in
    select t.id, t.slug, t.brand_config
    from public.tenant_profiles as t
    where t.brand_config ?| array['favicon', 'locale']
      and not public.is_valid_brand_config(t.brand_config)
    order by t.slug
    for update
  loop
    fixed := tenant.brand_config;
    problem := private.brand_config_problem(fixed);
    while problem in ('/favicon', '/locale') loop
      fixed := fixed - pg_catalog.substr(problem, 2);
      problem := private.brand_config_problem(fixed);
    end loop;
    if problem is null then
      update public.tenant_profiles as t
      set brand_config = fixed
      where t.id = tenant.id;
      removed := removed || tenant.slug::text;
    end if;
  end loop;
  if pg_catalog.cardinality(removed) > 0 then
    raise warning 'brand_config of % had a favicon or a locale the brand contract refuses: removed from the published brand, which is a new version (the version before keeps it)',
      pg_catalog.array_to_string(removed, ', ');
  end if;

  select pg_catalog.string_agg(t.slug, ', ' order by t.slug)
  into offenders
  from public.tenant_profiles as t
  where not public.is_valid_brand_config(t.brand_config);
  if offenders is not null then
    raise warning 'brand_config of % breaks the brand contract: fix it (the CHECK holds for new and edited brands; the Worker writes none of its values into CSS or HTML meanwhile)', offenders;
  end if;
end
$$;
