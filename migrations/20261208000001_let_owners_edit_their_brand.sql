-- A tenant's owner edits their own brand: versions, drafts, and nobody else.
--
-- Until now only the service role could write tenant_profiles, so a coach's
-- brand changed only when an operator changed it. Now the owner does, through
-- six security definer functions that the control plane calls with the
-- coach's token (docs/control-plane.md, "The brand"), as it calls the domain
-- functions:
--
--   tenant_brand(tenant_id)                      the published brand, its version and the draft;
--   publish_tenant_brand(tenant_id, display_name, brand_config, expected_version)
--                                                publishes a brand as the next version;
--   tenant_brand_versions(tenant_id)             the published versions, newest first (100);
--   rollback_tenant_brand(tenant_id, version, expected_version)
--                                                publishes an old version again, as a new one;
--   save_tenant_brand_draft(tenant_id, display_name, brand_config)
--                                                keeps a draft beside the published brand;
--   publish_tenant_brand_draft(tenant_id, expected_version)
--                                                publishes the draft as the next version.
--
-- Each one first refuses a caller who does not own the tenant (42501
-- not_owner, whether or not the tenant exists), and each answers jsonb. They
-- change display_name, brand_config and brand_version of tenant_profiles and
-- nothing else: slug, is_active, subscription_tier, custom_domain, user_id
-- and the rest stay the service role's. Errors carry a machine-readable reason
-- in their hint, which the control plane maps to its answers:
--
--   42501 not_owner          the caller does not own the tenant (or it does not exist);
--   PT412 stale              expected_version is not the published version (detail: the
--                            published version), so another writer came first: nothing changes;
--   22023 invalid_brand      display_name is not 1 to 120 characters (detail: /displayName), or
--                            brand_config breaks the brand contract (detail: a JSON Pointer,
--                            RFC 6901, to the first field that does, '' for the whole document);
--   P0002 version_not_found  the tenant has no such version;
--   P0002 no_draft           the tenant has no draft to publish;
--   PT429 rate_limited       the tenant's brand budget is spent (detail: seconds to wait).
--
-- Every published brand is a version, kept in private.tenant_brand_versions:
-- each tenant's current brand becomes its version 1 here, and from now on the
-- database records a version whenever a tenant is created or its brand
-- changes, whoever writes it (an owner function, or trusted code such as the
-- service role or a seed), so the history is complete and brand_version always
-- names the version that is published. A rollback publishes an old version's
-- content as a new version: history is never rewritten. A draft,
-- private.tenant_brand_drafts, sits beside the published brand until it is
-- published; saving one changes nothing anyone else reads.
--
-- The versions, the drafts and the budget live in private, which the Data API
-- does not serve: the anon key and signed-in users read them only through the
-- functions, and only for the tenants they own. Publishing updates
-- tenant_profiles, so the change feed (20261207001005) records it and every
-- data center re-reads the tenant; saving a draft records nothing.
--
-- Writes are budgeted per tenant as domain writes are (20261207001002), in a
-- bucket of their own: 20 in a burst, then one every 10 seconds. A refused
-- call (not owner, stale, invalid, nothing to publish) spends nothing: the
-- refusal undoes the spend with the rest of the call.

-- The published version of a tenant's brand. Maintained by the database:
-- each change of display_name or brand_config makes it one more.
alter table public.tenant_profiles
  add column brand_version integer not null default 1
    constraint tenant_profiles_brand_version_positive check (brand_version >= 1);

comment on column public.tenant_profiles.brand_version is 'The version of the published brand (display_name and brand_config), one more at each change; maintained by the database, private (owners read it through public.tenant_brand()).';

-- No grant: anon and authenticated keep the public columns they had, and
-- brand_version is not one of them (a column added later is covered by no
-- earlier column grant).

-- Every brand a tenant has published.
create table private.tenant_brand_versions (
  tenant_id uuid not null references public.tenant_profiles (id) on update cascade on delete cascade,
  version integer not null,
  display_name text not null,
  brand_config jsonb not null,
  published_at timestamptz not null default now(),
  published_by uuid,
  primary key (tenant_id, version)
);

comment on table private.tenant_brand_versions is 'Every brand a tenant has published, one row per version; read by its owner through public.tenant_brand_versions(), never rewritten.';
comment on column private.tenant_brand_versions.tenant_id is 'The tenant that published it; its versions go with it when it is deleted.';
comment on column private.tenant_brand_versions.version is 'The tenant''s brand_version while this brand was published: 1, 2, ...';
comment on column private.tenant_brand_versions.display_name is 'The display_name published with this version.';
comment on column private.tenant_brand_versions.brand_config is 'The brand_config published with this version, as it was then (the brand contract may have changed since).';
comment on column private.tenant_brand_versions.published_at is 'When it was published (for version 1 of a tenant older than this table: when the table was made).';
comment on column private.tenant_brand_versions.published_by is 'The user who published it (auth.uid()); null when trusted code (the service role, a migration, a seed) did.';

-- A brand an owner is working on, not published yet: one per tenant.
create table private.tenant_brand_drafts (
  tenant_id uuid primary key references public.tenant_profiles (id) on update cascade on delete cascade,
  display_name text not null,
  brand_config jsonb not null,
  saved_at timestamptz not null default now()
);

comment on table private.tenant_brand_drafts is 'Each tenant''s unpublished brand, at most one; written by public.save_tenant_brand_draft(), published and deleted by public.publish_tenant_brand_draft().';
comment on column private.tenant_brand_drafts.tenant_id is 'The tenant whose draft it is: one draft per tenant.';
comment on column private.tenant_brand_drafts.display_name is 'The display_name the draft would publish.';
comment on column private.tenant_brand_drafts.brand_config is 'The brand_config the draft would publish; valid under the brand contract when it was saved.';
comment on column private.tenant_brand_drafts.saved_at is 'When the draft was last saved.';

-- Per-tenant token buckets of the brand writes.
create table private.brand_write_budgets (
  tenant_id uuid primary key references public.tenant_profiles (id) on update cascade on delete cascade,
  tokens double precision not null,
  refilled_at timestamptz not null
);

comment on table private.brand_write_budgets is 'Per-tenant token buckets of the owner functions'' brand writes.';
comment on column private.brand_write_budgets.tenant_id is 'The tenant whose brand writes this bucket counts.';
comment on column private.brand_write_budgets.tokens is 'Writes left when last refilled (negative never stays: a refused write is undone).';
comment on column private.brand_write_budgets.refilled_at is 'When tokens was last brought up to date.';

-- In private, which the Data API does not serve, and no API role's: row level
-- security would guard nothing (and leave a policy-less table for the advisor).
revoke all on table private.tenant_brand_versions from public, anon, authenticated;
revoke all on table private.tenant_brand_drafts from public, anon, authenticated;
revoke all on table private.brand_write_budgets from public, anon, authenticated;

-- Each tenant's brand as it is now is its version 1.
insert into private.tenant_brand_versions (tenant_id, version, display_name, brand_config)
select id, brand_version, display_name, brand_config
from public.tenant_profiles;

-- The brand of a tenant changes its version, whoever writes it: the owner
-- functions ask for the next version, trusted code may write display_name or
-- brand_config directly. Either way the published version becomes exactly one
-- more, and never anything else, so that no version is skipped or reused.
create or replace function private.next_brand_version()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.display_name, new.brand_config, new.brand_version)
    is distinct from (old.display_name, old.brand_config, old.brand_version)
  then
    new.brand_version := old.brand_version + 1;
  end if;
  return new;
end;
$$;

comment on function private.next_brand_version() is 'Trigger function: an update of a tenant''s display_name or brand_config (or a request for a new brand_version) makes brand_version one more.';

revoke execute on function private.next_brand_version() from public, anon, authenticated;

create trigger tenant_profiles_next_brand_version
  before update of display_name, brand_config, brand_version on public.tenant_profiles
  for each row
  execute function private.next_brand_version();

-- Keeps every published brand: a new tenant's first, and each new version.
-- Security definer, so that trusted code writing tenant_profiles needs no
-- privilege on private.tenant_brand_versions.
create or replace function private.record_brand_version()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or new.brand_version is distinct from old.brand_version then
    insert into private.tenant_brand_versions (tenant_id, version, display_name, brand_config, published_by)
    values (new.id, new.brand_version, new.display_name, new.brand_config, auth.uid());
  end if;
  return null;
end;
$$;

comment on function private.record_brand_version() is 'Trigger function: records a tenant''s published brand in private.tenant_brand_versions when the tenant is created and at each new brand_version.';

revoke execute on function private.record_brand_version() from public, anon, authenticated;

create trigger tenant_profiles_record_brand_version
  after insert or update of display_name, brand_config, brand_version on public.tenant_profiles
  for each row
  execute function private.record_brand_version();

-- Spends one brand write of the tenant's budget, or refuses (PT429) when none
-- is left; the refusal undoes the spend with the rest of the call.
create or replace function private.spend_brand_write(tenant uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  capacity constant double precision := 20;
  seconds_per_change constant double precision := 10;
  remaining double precision;
begin
  insert into private.brand_write_budgets as b (tenant_id, tokens, refilled_at)
  values (tenant, capacity - 1, pg_catalog.now())
  on conflict (tenant_id) do update
  set tokens = least(
        capacity,
        b.tokens + extract(epoch from pg_catalog.now() - b.refilled_at)::double precision / seconds_per_change
      ) - 1,
      refilled_at = pg_catalog.now()
  returning b.tokens into remaining;
  if remaining < 0 then
    raise exception 'too many brand changes for this tenant: try again in % seconds', pg_catalog.ceil(-remaining * seconds_per_change)
      using errcode = 'PT429', hint = 'rate_limited',
        detail = pg_catalog.ceil(-remaining * seconds_per_change)::text;
  end if;
end;
$$;

comment on function private.spend_brand_write(uuid) is 'Spends one brand write of a tenant''s budget (20, one more every 10 s), or refuses with PT429 rate_limited.';

revoke execute on function private.spend_brand_write(uuid) from public, anon, authenticated;

-- Where a brand configuration breaks the brand contract, as a JSON Pointer
-- (RFC 6901) into it: null when public.is_valid_brand_config() accepts it, ''
-- when it is not an object at all. Fields are judged in the order the control
-- plane's reader lists them (tenant_common::brand::problems), which names the
-- same field: the logo's width, the logo (not an object, or a key the
-- contract does not name), its url and alt, the colours (likewise) and each
-- colour, the fonts and each font, tagline, welcomeMessage,
-- completionMessage, showPoweredBy. It agrees with is_valid_brand_config() on
-- every document by construction: it asks it first, and a document it refuses
-- whose wrong field this function cannot name is '' (the document itself).
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

  return '';
end;
$$;

comment on function private.brand_config_problem(jsonb) is 'Where a brand_config breaks the brand contract: a JSON Pointer (RFC 6901) to the first wrong field, '''' for the document itself, null when public.is_valid_brand_config() accepts it.';

revoke execute on function private.brand_config_problem(jsonb) from public, anon, authenticated;

-- The helpers of the owner functions. Security invoker: only those functions
-- (security definer, run as their owner) call them, and no API role may.

-- Refuses a brand that is not 1 to 120 characters of name and a brand_config
-- under the contract (22023 invalid_brand, where in the detail).
create or replace function private.require_valid_brand(new_name text, new_config jsonb)
returns void
language plpgsql
set search_path = ''
as $$
declare
  problem text := private.brand_config_problem(new_config);
begin
  if not coalesce(pg_catalog.char_length(pg_catalog.btrim(new_name)) between 1 and 120, false) then
    raise exception 'the display name must be 1 to 120 characters, not counting spaces at either end'
      using errcode = '22023', hint = 'invalid_brand', detail = '/displayName';
  end if;
  if problem is not null then
    raise exception 'brand_config breaks the brand contract at %',
      case when problem = '' then 'the document itself (a brand is a JSON object)' else problem end
      using errcode = '22023', hint = 'invalid_brand', detail = problem;
  end if;
end;
$$;

comment on function private.require_valid_brand(text, jsonb) is 'Refuses (22023 invalid_brand) a display name that is not 1 to 120 characters or a brand_config that breaks the brand contract, with the JSON Pointer of the wrong field in detail.';

revoke execute on function private.require_valid_brand(text, jsonb) from public, anon, authenticated;

-- Locks the tenant's row, then refuses (PT412 stale) unless its published
-- version is the one the caller read: two writers who read the same version
-- cannot both publish over it.
create or replace function private.require_brand_version(tenant uuid, expected integer)
returns void
language plpgsql
set search_path = ''
as $$
declare
  published integer;
begin
  select t.brand_version into published
  from public.tenant_profiles as t
  where t.id = tenant
  for update;
  if published is distinct from expected then
    raise exception 'the brand changed since version % was read', expected
      using errcode = 'PT412', hint = 'stale', detail = published::text;
  end if;
end;
$$;

comment on function private.require_brand_version(uuid, integer) is 'Locks a tenant''s row and refuses (PT412 stale, the published version in detail) unless its brand_version is the expected one.';

revoke execute on function private.require_brand_version(uuid, integer) from public, anon, authenticated;

-- Publishes a brand as the tenant's next version. The update changes
-- display_name, brand_config and brand_version only; the triggers record the
-- version (published by auth.uid()) and the change feed's entry.
create or replace function private.publish_brand(tenant uuid, new_name text, new_config jsonb)
returns void
language sql
set search_path = ''
as $$
  update public.tenant_profiles as t
  set display_name = new_name,
      brand_config = new_config,
      brand_version = t.brand_version + 1
  where t.id = tenant
$$;

comment on function private.publish_brand(uuid, text, jsonb) is 'Publishes a display name and brand_config as a tenant''s next brand version.';

revoke execute on function private.publish_brand(uuid, text, jsonb) from public, anon, authenticated;

-- What the owner functions answer: the published brand, its version, and the
-- draft or null.
create or replace function private.brand_of(tenant uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'displayName', t.display_name,
    'brandConfig', t.brand_config,
    'version', t.brand_version,
    'draft', (
      select pg_catalog.jsonb_build_object(
        'displayName', d.display_name,
        'brandConfig', d.brand_config,
        'savedAt', d.saved_at
      )
      from private.tenant_brand_drafts as d
      where d.tenant_id = t.id
    )
  )
  from public.tenant_profiles as t
  where t.id = tenant
$$;

comment on function private.brand_of(uuid) is 'A tenant''s brand as the owner functions answer it: {"displayName", "brandConfig", "version", "draft": null or {"displayName", "brandConfig", "savedAt"}}.';

revoke execute on function private.brand_of(uuid) from public, anon, authenticated;

-- The owner functions. Security definer, because owners hold no privilege on
-- tenant_profiles' private columns or on the private tables, and each checks
-- first that the caller owns the tenant (private.require_owner, 42501
-- not_owner); then those that write spend the budget, check the version the
-- caller read, and validate what they publish.

create or replace function public.tenant_brand(tenant_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_owner(tenant_id);
  return private.brand_of(tenant_id);
end;
$$;

comment on function public.tenant_brand(uuid) is 'An owner reads their tenant''s brand: {"displayName", "brandConfig", "version", "draft": null or {"displayName", "brandConfig", "savedAt"}}.';

create or replace function public.publish_tenant_brand(
  tenant_id uuid,
  display_name text,
  brand_config jsonb,
  expected_version integer
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform private.require_owner(tenant_id);
  perform private.spend_brand_write(tenant_id);
  perform private.require_brand_version(tenant_id, expected_version);
  perform private.require_valid_brand(display_name, brand_config);
  perform private.publish_brand(tenant_id, display_name, brand_config);
  return private.brand_of(tenant_id);
end;
$$;

comment on function public.publish_tenant_brand(uuid, text, jsonb, integer) is 'An owner publishes a display name and brand_config as their tenant''s next version, if expected_version is still the published one (else PT412 stale); answers as public.tenant_brand().';

create or replace function public.tenant_brand_versions(tenant_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  versions jsonb;
begin
  perform private.require_owner(tenant_id);
  select coalesce(
    pg_catalog.jsonb_agg(
      pg_catalog.jsonb_build_object(
        'version', latest.version,
        'displayName', latest.display_name,
        'brandConfig', latest.brand_config,
        'publishedAt', latest.published_at
      )
      order by latest.version desc
    ),
    '[]'::jsonb
  )
  into versions
  from (
    select v.version, v.display_name, v.brand_config, v.published_at
    from private.tenant_brand_versions as v
    where v.tenant_id = tenant_brand_versions.tenant_id
    order by v.version desc
    limit 100
  ) as latest;
  return pg_catalog.jsonb_build_object('versions', versions);
end;
$$;

comment on function public.tenant_brand_versions(uuid) is 'An owner lists their tenant''s published brands: {"versions": [{"version", "displayName", "brandConfig", "publishedAt"}, ...]}, newest first, at most 100.';

create or replace function public.rollback_tenant_brand(
  tenant_id uuid,
  version integer,
  expected_version integer
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  chosen private.tenant_brand_versions;
begin
  perform private.require_owner(tenant_id);
  perform private.spend_brand_write(tenant_id);
  perform private.require_brand_version(tenant_id, expected_version);
  select * into chosen
  from private.tenant_brand_versions as v
  where v.tenant_id = rollback_tenant_brand.tenant_id
    and v.version = rollback_tenant_brand.version;
  if chosen.tenant_id is null then
    raise exception 'this tenant has no brand version %', rollback_tenant_brand.version
      using errcode = 'P0002', hint = 'version_not_found';
  end if;
  -- The contract may have changed since that version was published.
  perform private.require_valid_brand(chosen.display_name, chosen.brand_config);
  perform private.publish_brand(chosen.tenant_id, chosen.display_name, chosen.brand_config);
  return private.brand_of(chosen.tenant_id);
end;
$$;

comment on function public.rollback_tenant_brand(uuid, integer, integer) is 'An owner publishes an earlier version of their tenant''s brand again, as a new version (history is never rewritten), if expected_version is still the published one; answers as public.tenant_brand().';

create or replace function public.save_tenant_brand_draft(
  tenant_id uuid,
  display_name text,
  brand_config jsonb
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform private.require_owner(tenant_id);
  perform private.spend_brand_write(tenant_id);
  perform private.require_valid_brand(display_name, brand_config);
  insert into private.tenant_brand_drafts as d (tenant_id, display_name, brand_config, saved_at)
  values (
    save_tenant_brand_draft.tenant_id,
    save_tenant_brand_draft.display_name,
    save_tenant_brand_draft.brand_config,
    pg_catalog.now()
  )
  on conflict on constraint tenant_brand_drafts_pkey do update
  set display_name = excluded.display_name,
      brand_config = excluded.brand_config,
      saved_at = excluded.saved_at;
  return private.brand_of(tenant_id);
end;
$$;

comment on function public.save_tenant_brand_draft(uuid, text, jsonb) is 'An owner saves a draft of their tenant''s brand (replacing the previous draft); the published brand does not change. Answers as public.tenant_brand().';

create or replace function public.publish_tenant_brand_draft(tenant_id uuid, expected_version integer)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  draft private.tenant_brand_drafts;
begin
  perform private.require_owner(tenant_id);
  perform private.spend_brand_write(tenant_id);
  perform private.require_brand_version(tenant_id, expected_version);
  select * into draft
  from private.tenant_brand_drafts as d
  where d.tenant_id = publish_tenant_brand_draft.tenant_id
  for update;
  if draft.tenant_id is null then
    raise exception 'this tenant has no brand draft to publish'
      using errcode = 'P0002', hint = 'no_draft';
  end if;
  -- The contract may have changed since the draft was saved.
  perform private.require_valid_brand(draft.display_name, draft.brand_config);
  perform private.publish_brand(draft.tenant_id, draft.display_name, draft.brand_config);
  delete from private.tenant_brand_drafts as d where d.tenant_id = draft.tenant_id;
  return private.brand_of(draft.tenant_id);
end;
$$;

comment on function public.publish_tenant_brand_draft(uuid, integer) is 'An owner publishes their tenant''s draft as its next brand version and deletes the draft, if expected_version is still the published one; answers as public.tenant_brand().';

-- Function privileges: Supabase grants execute on new functions to everyone.
-- Signed-in users only; the service role has no user, so it could only be
-- refused (not_owner).
revoke execute on function public.tenant_brand(uuid) from public, anon, authenticated, service_role;
revoke execute on function public.publish_tenant_brand(uuid, text, jsonb, integer) from public, anon, authenticated, service_role;
revoke execute on function public.tenant_brand_versions(uuid) from public, anon, authenticated, service_role;
revoke execute on function public.rollback_tenant_brand(uuid, integer, integer) from public, anon, authenticated, service_role;
revoke execute on function public.save_tenant_brand_draft(uuid, text, jsonb) from public, anon, authenticated, service_role;
revoke execute on function public.publish_tenant_brand_draft(uuid, integer) from public, anon, authenticated, service_role;
grant execute on function public.tenant_brand(uuid) to authenticated;
grant execute on function public.publish_tenant_brand(uuid, text, jsonb, integer) to authenticated;
grant execute on function public.tenant_brand_versions(uuid) to authenticated;
grant execute on function public.rollback_tenant_brand(uuid, integer, integer) to authenticated;
grant execute on function public.save_tenant_brand_draft(uuid, text, jsonb) to authenticated;
grant execute on function public.publish_tenant_brand_draft(uuid, integer) to authenticated;
