-- The brand contract: brand_config values that are safe to write into CSS and HTML.
--
-- The Worker writes a tenant's branding into brand.css, a web app manifest
-- and the <head> of the app's pages. The first check of brand_config only
-- asked for strings in the right places, so a font named
-- 'x;}</style><script>…' was a valid brand. Now the database, the JSON
-- Schema (schema/brand-config.schema.json) and the Worker (src/brand.rs)
-- accept exactly the same documents, proven by one shared corpus
-- (schema/corpus/brand-config.json) in the test command:
--   * colours: #rgb or #rrggbb, all eight, no other keys;
--   * fonts: heading and body, each a comma-separated list of names of
--     letters, digits, spaces and hyphens, at most 200 characters;
--   * logo: url, an https:// URL of RFC 3986 characters other than quotes and
--     parentheses (no quote, space, parenthesis, backslash or angle bracket),
--     at most 2048 characters; alt, at most 200; an optional positive width;
--   * tagline at most 200 characters, welcomeMessage and completionMessage at
--     most 2000: free text, escaped where it is written;
--   * showPoweredBy, a boolean. Other top-level keys stay allowed, so the
--     frontend can grow without a migration; they are never written into CSS.
-- Lengths count characters (code points), as the JSON Schema and the Worker do.
--
-- The CHECK is re-created so that it holds for existing rows too. If a row
-- breaks the contract, the push does not fail: the constraint stays NOT VALID
-- (every new or edited brand is checked), a warning names the tenants to fix,
-- and the Worker writes no value of such a brand into CSS or HTML.

-- Whether a jsonb value is a brand configuration under the contract above.
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
          and (config -> 'logo' ->> 'width')::numeric > 0)
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
