-- Tenant profiles: one row per coaching tenant, with its branding.
--
-- The edge Worker resolves a request's host (custom domain) or slug to a
-- tenant and reads its public branding with the anon key. RLS filters rows,
-- not columns, and Supabase grants every new table in public to anon and
-- authenticated, so this migration revokes the table grant and grants back
-- only the public columns. Owners read their full row (email_config,
-- subscription_tier, ...) through public.my_tenant_profile(); tenants are
-- created and edited by the service role only.

-- Keeps updated_at current on every update.
create or replace function public.set_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

comment on function public.set_updated_at() is 'Trigger function: sets updated_at to now() on update.';

-- Whether a jsonb value is a complete brand configuration: logo (https url,
-- alt text, optional positive width), the eight colours as #rgb or #rrggbb,
-- heading and body fonts, showPoweredBy, and optional text fields. Unknown
-- extra keys are allowed so the front end can grow without a migration.
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
    and jsonb_typeof(config -> 'logo' -> 'url') = 'string'
    and (config -> 'logo' ->> 'url') ~ '^https://[^/?#[:space:]]+([/?#][^[:space:]]*)?$'
    and jsonb_typeof(config -> 'logo' -> 'alt') = 'string'
    and (
      config -> 'logo' -> 'width' is null
      or (jsonb_typeof(config -> 'logo' -> 'width') = 'number'
          and (config -> 'logo' ->> 'width')::numeric > 0)
    )
    -- colors
    and jsonb_typeof(config -> 'colors') = 'object'
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
    and jsonb_typeof(config -> 'fonts' -> 'heading') = 'string'
    and jsonb_typeof(config -> 'fonts' -> 'body') = 'string'
    and (config -> 'fonts' ->> 'heading') <> ''
    and (config -> 'fonts' ->> 'body') <> ''
    -- flags and optional text
    and jsonb_typeof(config -> 'showPoweredBy') = 'boolean'
    and coalesce(jsonb_typeof(config -> 'tagline'), 'string') = 'string'
    and coalesce(jsonb_typeof(config -> 'welcomeMessage'), 'string') = 'string'
    and coalesce(jsonb_typeof(config -> 'completionMessage'), 'string') = 'string',
    false
  )
$$;

comment on function public.is_valid_brand_config(jsonb) is 'Validates a tenant brand_config document; used by a CHECK constraint.';

-- A coaching tenant: who owns it, how it is reached and how it looks.
create table public.tenant_profiles (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete set null,
  slug text not null
    constraint tenant_profiles_slug_key unique
    constraint tenant_profiles_slug_format
    check (slug ~ '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'),
  display_name text not null
    constraint tenant_profiles_display_name_length
    check (char_length(btrim(display_name)) between 1 and 120),
  tenant_type text not null default 'coach'
    constraint tenant_profiles_tenant_type_valid
    check (tenant_type in ('coach', 'consultancy', 'enterprise')),
  brand_config jsonb not null
    constraint tenant_profiles_brand_config_valid
    check (public.is_valid_brand_config(brand_config)),
  email_config jsonb not null default '{}'::jsonb
    constraint tenant_profiles_email_config_object
    check (jsonb_typeof(email_config) = 'object'),
  enabled_assessments text[] not null default array['industry4']::text[],
  subscription_tier text not null default 'free'
    constraint tenant_profiles_subscription_tier_valid
    check (subscription_tier in ('free', 'starter', 'professional', 'enterprise')),
  is_active boolean not null default true,
  custom_domain text
    constraint tenant_profiles_custom_domain_format
    check (
      char_length(custom_domain) <= 253
      and custom_domain ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'
      and custom_domain !~ '^[0-9.]+$'
    ),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.tenant_profiles is 'Coaching tenants: slug, custom domain, branding and private settings.';
comment on column public.tenant_profiles.slug is 'URL slug: lowercase letters, digits and hyphens, 3-63 characters, no leading or trailing hyphen.';
comment on column public.tenant_profiles.tenant_type is 'coach (one practitioner), consultancy (a firm of coaches) or enterprise (in-house programme).';
comment on column public.tenant_profiles.brand_config is 'Public branding; shape checked by public.is_valid_brand_config().';
comment on column public.tenant_profiles.email_config is 'Private email settings (fromName, replyTo, ...); never readable with the anon key.';
comment on column public.tenant_profiles.subscription_tier is 'free, starter, professional or enterprise; private.';
comment on column public.tenant_profiles.is_active is 'Inactive tenants are hidden from public lookups; private.';
comment on column public.tenant_profiles.custom_domain is 'Normalized hostname: lowercase, no scheme, port, path or trailing dot.';

-- One tenant per domain, whatever the case (the CHECK already forces lowercase;
-- this index keeps the guarantee even if that CHECK is ever relaxed).
create unique index tenant_profiles_custom_domain_key
  on public.tenant_profiles (lower(custom_domain));

-- Host lookups from the Worker filter on the column itself (custom_domain=eq.x).
create index tenant_profiles_custom_domain_idx
  on public.tenant_profiles (custom_domain);

-- Owner lookups (my_tenant_profile, owned_tenant_ids, policies).
create index tenant_profiles_user_id_idx
  on public.tenant_profiles (user_id);

-- Keep updated_at current.
create trigger tenant_profiles_set_updated_at
  before update on public.tenant_profiles
  for each row
  execute function public.set_updated_at();

alter table public.tenant_profiles enable row level security;

-- Column-level access: drop the table-wide grant, then grant only the public
-- columns. A column REVOKE alone would do nothing while the table grant stands.
revoke all on table public.tenant_profiles from anon, authenticated;
grant select (id, slug, display_name, tenant_type, brand_config, custom_domain, enabled_assessments)
  on table public.tenant_profiles to anon, authenticated;
grant all on table public.tenant_profiles to service_role;

-- Public branding lookups see active tenants only. There is deliberately no
-- insert, update or delete policy: tenants are managed by the service role.
create policy "Active tenant profiles are viewable by everyone"
  on public.tenant_profiles
  for select
  to anon, authenticated
  using (is_active);

-- The caller's own tenant profiles, every column, active or not. Security
-- definer because authenticated may not read user_id or the private columns.
create or replace function public.my_tenant_profile()
returns setof public.tenant_profiles
language sql
stable
security definer
set search_path = ''
as $$
  select *
  from public.tenant_profiles
  where user_id = (select auth.uid())
  order by created_at, id
$$;

comment on function public.my_tenant_profile() is 'Full tenant profile(s) owned by the calling user, including inactive ones; empty for anyone else.';

-- Ids of the tenants the caller owns, for other tables' policies (which
-- cannot read tenant_profiles.user_id as authenticated).
create or replace function public.owned_tenant_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select id
  from public.tenant_profiles
  where user_id = (select auth.uid())
$$;

comment on function public.owned_tenant_ids() is 'Ids of the tenants owned by the calling user (active or not); used by RLS policies.';

-- Function privileges: Supabase grants execute on new functions to everyone.
revoke execute on function public.set_updated_at() from public, anon, authenticated;
revoke execute on function public.is_valid_brand_config(jsonb) from public, anon;
grant execute on function public.is_valid_brand_config(jsonb) to authenticated, service_role;
revoke execute on function public.my_tenant_profile() from public, anon, service_role;
grant execute on function public.my_tenant_profile() to authenticated;
revoke execute on function public.owned_tenant_ids() from public, anon, service_role;
grant execute on function public.owned_tenant_ids() to authenticated;
