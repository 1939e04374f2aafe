-- The brand contract agrees on numbers: logo.width is 1 to 10000.
--
-- The CHECK asked for a positive number and compared it as an exact decimal,
-- but the JSON Schema (schema/brand-config.schema.json) and the Worker
-- (src/brand.rs) read numbers as JSON parsers do, as the nearest double: a
-- width of 1e400 passed the CHECK and was Infinity (or unreadable) to them,
-- 1e-400 passed and was 0. Such a tenant silently lost all of its branding.
-- Now the three accept the same widths, proven by the shared corpus
-- (schema/corpus/brand-config.json):
--   * logo.width, when present, is a number from 1 to 10000 CSS pixels, as
--     the nearest double reads it, so a long decimal just beside a bound is
--     judged as every JSON parser judges it; every other rule is unchanged.
--
-- The CHECK is re-created so that it holds for existing rows too. If a row
-- breaks the contract, the push does not fail: the constraint stays NOT VALID
-- (every new or edited brand is checked), a warning names the tenants to fix,
-- and the Worker writes no value of such a brand into CSS or HTML.

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
    and jsonb_typeof(config -> 'showPoweredBy') = 'boolean',
    false
  )
$$;

comment on function public.is_valid_brand_config(jsonb) is 'The brand contract (schema/brand-config.schema.json): whether a jsonb value is a brand configuration safe to write into CSS and HTML; used by a CHECK constraint.';

-- Re-create the CHECK so it is judged against existing rows too.
alter table public.tenant_profiles
  drop constraint tenant_profiles_brand_config_valid;

alter table public.tenant_profiles
  add constraint tenant_profiles_brand_config_valid
  check (public.is_valid_brand_config(brand_config))
  not valid;

do $$
declare
  offenders text;
begin
  select string_agg(slug, ', ' order by slug)
  into offenders
  from public.tenant_profiles
  where not public.is_valid_brand_config(brand_config);

  if offenders is null then
    alter table public.tenant_profiles
      validate constraint tenant_profiles_brand_config_valid;
  else
    raise warning 'brand_config of % breaks the brand contract: fix it (the CHECK holds for new and edited brands; the Worker writes none of its values into CSS or HTML meanwhile)', offenders;
  end if;
end
$$;
