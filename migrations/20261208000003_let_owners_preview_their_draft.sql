-- A tenant's owner previews their brand draft on their own site, by a link.
--
-- A draft (20261208000001) sits beside the published brand and nobody sees
-- it. Now the owner makes a preview link (the control plane's POST
-- /brand/preview, docs/control-plane.md, "Previews"): whoever opens it sees
-- the tenant's site with the draft, for an hour; everyone else still sees the
-- published brand. Two functions:
--
--   create_tenant_brand_preview(tenant_id)  the owner's: a new preview key, live for an hour;
--   tenant_preview(key)                     anyone's (the anon key's): the tenant as its draft
--                                           shows it, while the key names a live preview.
--
-- create_tenant_brand_preview() refuses a caller who does not own the tenant
-- (42501 not_owner), spends the tenant's brand budget (PT429 rate_limited),
-- and refuses a tenant with no draft (P0002 no_draft, as publishing one
-- does). It answers {"key", "expiresAt", "slug", "customDomain"}: the key is
-- 64 lowercase hexadecimal digits of randomness (two gen_random_uuid(), 244
-- random bits), shown once and never stored: the table keeps its SHA-256
-- only, so a leak of the table names no live link. Each tenant keeps at most
-- 20 live previews (making another drops the oldest) and none expired.
--
-- tenant_preview() is the one security definer function the anon key may
-- call: the key is the capability, as a password would be, and the draft is
-- what it unlocks. It answers the tenant's public JSON, in exactly the shape
-- (and key order) PostgREST writes for the resolver's select of a tenant,
-- with the draft's display name and brand in place of the published ones;
-- null for a key that is not 64 lowercase hex digits, names no preview, an
-- expired one, an inactive tenant's, or a tenant whose draft is gone
-- (published or never saved). It is one lookup by primary key: a guessed key
-- costs the database an index probe and tells nothing. The control plane
-- signs the key (PREVIEW_SIGNING_SECRET) and the resolver checks the
-- signature before it asks, so forged tokens never reach the database.

-- The live preview links of tenants' drafts, by the SHA-256 of their key.
create table private.brand_previews (
  key_hash bytea primary key,
  tenant_id uuid not null references public.tenant_profiles (id) on update cascade on delete cascade,
  expires_at timestamptz not null,
  created_by uuid
);

create index brand_previews_tenant_id_expires_at_idx on private.brand_previews (tenant_id, expires_at);

comment on table private.brand_previews is 'Preview links of tenants'' brand drafts: made by public.create_tenant_brand_preview(), read by public.tenant_preview(); at most 20 live per tenant.';
comment on column private.brand_previews.key_hash is 'The SHA-256 of the preview key (its 64 hex digits as UTF-8); the key itself is never stored.';
comment on column private.brand_previews.tenant_id is 'The tenant whose draft the link shows; its previews go with it when it is deleted.';
comment on column private.brand_previews.expires_at is 'When the link stops showing the draft: an hour after it was made.';
comment on column private.brand_previews.created_by is 'The owner who made it (auth.uid()).';

-- In private, which the Data API does not serve, and no API role's.
revoke all on table private.brand_previews from public, anon, authenticated;

create or replace function public.create_tenant_brand_preview(tenant_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  key text := pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', '');
  expires timestamptz := pg_catalog.now() + interval '1 hour';
  tenant public.tenant_profiles;
begin
  perform private.require_owner(tenant_id);
  perform private.spend_brand_write(tenant_id);
  if not exists (
    select 1 from private.tenant_brand_drafts as d
    where d.tenant_id = create_tenant_brand_preview.tenant_id
  ) then
    raise exception 'this tenant has no brand draft to preview'
      using errcode = 'P0002', hint = 'no_draft';
  end if;
  select * into tenant from public.tenant_profiles as t where t.id = create_tenant_brand_preview.tenant_id;
  delete from private.brand_previews as p
  where p.tenant_id = create_tenant_brand_preview.tenant_id
    and (
      p.expires_at <= pg_catalog.now()
      or p.key_hash in (
        select live.key_hash
        from private.brand_previews as live
        where live.tenant_id = create_tenant_brand_preview.tenant_id
          and live.expires_at > pg_catalog.now()
        order by live.expires_at desc
        offset 19
      )
    );
  insert into private.brand_previews (key_hash, tenant_id, expires_at, created_by)
  values (pg_catalog.sha256(pg_catalog.convert_to(key, 'UTF8')), tenant.id, expires, auth.uid());
  return pg_catalog.jsonb_build_object(
    'key', key,
    'expiresAt', expires,
    'slug', tenant.slug,
    'customDomain', tenant.custom_domain
  );
end;
$$;

comment on function public.create_tenant_brand_preview(uuid) is 'An owner makes a preview link of their tenant''s brand draft, live for an hour (P0002 no_draft without one), spending a brand write: {"key": 64 hex digits, "expiresAt", "slug", "customDomain"}.';

create or replace function public.tenant_preview(key text)
returns json
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.json_build_object(
    'id', t.id,
    'slug', t.slug,
    'displayName', d.display_name,
    'tenantType', t.tenant_type,
    'customDomain', t.custom_domain,
    'enabledAssessments', t.enabled_assessments,
    'brand', d.brand_config,
    'maintenance', t.maintenance
  )
  from private.brand_previews as p
  join public.tenant_profiles as t on t.id = p.tenant_id
  join private.tenant_brand_drafts as d on d.tenant_id = t.id
  where key ~ '^[0-9a-f]{64}$'
    and p.key_hash = pg_catalog.sha256(pg_catalog.convert_to(key, 'UTF8'))
    and p.expires_at > pg_catalog.now()
    and t.is_active
$$;

comment on function public.tenant_preview(text) is 'The tenant as its brand draft shows it, in the public tenant JSON''s shape (as PostgREST writes the resolver''s select), while key names a live preview of an active tenant that still has a draft; else null. For the anon key: the key is the capability.';

-- Function privileges: Supabase grants execute on new functions to everyone.
-- The owner function is for signed-in users only; the preview's read is for
-- whoever holds a key, the resolver's anon key first.
revoke execute on function public.create_tenant_brand_preview(uuid) from public, anon, authenticated, service_role;
revoke execute on function public.tenant_preview(text) from public, anon, authenticated, service_role;
grant execute on function public.create_tenant_brand_preview(uuid) to authenticated;
grant execute on function public.tenant_preview(text) to anon, authenticated;
