-- Custom domains as the platform has them: several per tenant, resolving
-- only once verified, one canonical (primary) host.
--
-- Until now a domain resolved because someone wrote
-- tenant_profiles.custom_domain by hand: nothing proved the tenant controlled
-- it, and a tenant had one. Now each hostname a tenant claims is a row of
-- tenant_domains with Cloudflare for SaaS's lifecycle:
--
--   pending   claimed by its owner (add_tenant_domain), not verified yet;
--   active    Cloudflare verified it and its certificate is deployed: it
--             resolves to its tenant;
--   moved     Cloudflare says its DNS no longer points here;
--   blocked   Cloudflare blocked it;
--   failed    it did not verify in time, or Cloudflare refused it;
--   removing  its owner removed it; the control plane deletes Cloudflare's
--             hostname, then the row.
--
-- Only the service role (the control plane) moves a row through that
-- lifecycle and writes what Cloudflare says (ssl_status, cloudflare_id, the
-- ownership records, verified_at, verification_errors). Owners add, remove
-- and choose their primary domain through three security definer functions,
-- and read their own rows. The anon key sees at most the row a request names
-- in x-tenant-lookup (domain:<hostname>), and only what the Worker needs.
--
-- The database keeps the rest true: a hostname is held by one tenant at a
-- time (a row being removed aside); only active domains are primary, a tenant
-- has at most one, and when it has none the oldest active domain becomes it;
-- tenant_profiles.custom_domain always equals the primary's hostname (or is
-- null); and every change is recorded in the change feed under its tenant's
-- hash, so that every data center sees a domain become active, change primary
-- or go away within CHANGES_POLL_SECONDS + 1 s.
--
-- Existing custom_domain values become active primary domains: an operator
-- set them, so they are trusted as they are. A direct write of custom_domain
-- by trusted code (the service role, a migration, a seed) keeps working as an
-- operator's word: the hostname becomes the tenant's active primary domain
-- and the previous primary is retired (deleted, or `removing` when Cloudflare
-- has a hostname for it); writing null retires the primary, and the oldest
-- other active domain, if any, takes its place.

-- The hostname rule custom_domain has had since Story 1.1: lowercase ASCII
-- LDH labels, two or more, at most 253 characters, not an IP address (no
-- port, scheme, path or trailing dot can pass it).
create or replace function private.is_valid_hostname(hostname text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select char_length(hostname) <= 253
    and hostname ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'
    and hostname !~ '^[0-9.]+$'
$$;

comment on function private.is_valid_hostname(text) is 'Whether a text is a normalized hostname, the rule of tenant_profiles.custom_domain.';

revoke execute on function private.is_valid_hostname(text) from public;
grant execute on function private.is_valid_hostname(text) to service_role;

create table public.tenant_domains (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenant_profiles (id) on delete cascade,
  hostname text not null
    constraint tenant_domains_hostname_format check (private.is_valid_hostname(hostname)),
  status text not null default 'pending'
    constraint tenant_domains_status_known
    check (status in ('pending', 'active', 'moved', 'blocked', 'failed', 'removing')),
  is_primary boolean not null default false,
  ssl_status text
    constraint tenant_domains_ssl_status_length check (char_length(ssl_status) <= 64),
  cloudflare_id text
    constraint tenant_domains_cloudflare_id_key unique
    constraint tenant_domains_cloudflare_id_format check (cloudflare_id ~ '^[A-Za-z0-9-]{1,64}$'),
  ownership_txt_name text
    constraint tenant_domains_ownership_txt_name_length check (char_length(ownership_txt_name) <= 300),
  ownership_txt_value text
    constraint tenant_domains_ownership_txt_value_length check (char_length(ownership_txt_value) <= 300),
  ownership_http_path text
    constraint tenant_domains_ownership_http_path_format
    check (ownership_http_path ~ '^/\.well-known/cf-custom-hostname-challenge/[A-Za-z0-9._~-]{1,128}$'),
  ownership_http_body text
    constraint tenant_domains_ownership_http_body_format
    check (char_length(ownership_http_body) between 1 and 512 and ownership_http_body !~ '[[:cntrl:]]'),
  verification_errors text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  verified_at timestamptz,
  constraint tenant_domains_primary_is_active check (not is_primary or status = 'active')
);

comment on table public.tenant_domains is 'Hostnames tenants claim, with their Cloudflare for SaaS lifecycle; only active ones resolve.';
comment on column public.tenant_domains.hostname is 'Normalized hostname: lowercase ASCII, no scheme, port, path or trailing dot.';
comment on column public.tenant_domains.status is 'pending, active, moved, blocked, failed or removing; written by the service role only.';
comment on column public.tenant_domains.is_primary is 'The tenant''s canonical host (tenant_profiles.custom_domain); maintained by the database.';
comment on column public.tenant_domains.ssl_status is 'Cloudflare''s certificate status, as given (initializing, pending_validation, ..., active).';
comment on column public.tenant_domains.cloudflare_id is 'Cloudflare''s custom hostname id.';
comment on column public.tenant_domains.ownership_http_path is 'The path of Cloudflare''s HTTP ownership check, /.well-known/cf-custom-hostname-challenge/<id>, answered by the Worker.';
comment on column public.tenant_domains.ownership_http_body is 'What the Worker answers at ownership_http_path.';
comment on column public.tenant_domains.verification_errors is 'Why it is not verified yet (Cloudflare''s verification_errors, or why it failed), for the coach.';

-- A hostname is held by one tenant at a time; a row being removed no longer
-- holds it. Lookups by Host go through this index.
create unique index tenant_domains_hostname_held
  on public.tenant_domains (hostname)
  where status <> 'removing';

-- At most one primary per tenant.
create unique index tenant_domains_one_primary
  on public.tenant_domains (tenant_id)
  where is_primary;

-- The foreign key, and "the tenant's oldest active domain".
create index tenant_domains_tenant_id_created_at_idx
  on public.tenant_domains (tenant_id, created_at);

alter table public.tenant_domains enable row level security;

-- Column-level access, as on tenant_profiles: no table-wide grant to anon;
-- it may read what the Worker needs to resolve a host (the tenant it points
-- to, joined to tenant_profiles, whose own policy decides whether that tenant
-- is shown) and to answer Cloudflare's HTTP ownership check, nothing else (no
-- cloudflare_id, no verification errors, no Cloudflare status). Owners read
-- every column of their own rows; nobody but the service role writes.
revoke all on table public.tenant_domains from anon, authenticated;
grant select (tenant_id, hostname, status, is_primary, ownership_http_path, ownership_http_body)
  on table public.tenant_domains to anon;
grant select on table public.tenant_domains to authenticated;
grant all on table public.tenant_domains to service_role;

create policy "Tenant domains are viewable by requests that name them"
  on public.tenant_domains
  for select
  to anon
  using ((select private.requested_tenant_lookup()) = 'domain:' || hostname);

create policy "Tenant domains are viewable by their tenant's owner"
  on public.tenant_domains
  for select
  to authenticated
  using (tenant_id in (select private.owned_tenant_ids()));

-- The tenant whose active domain the current request names
-- (x-tenant-lookup: domain:<hostname>), or null: a pending, moved, blocked,
-- failed or removed domain names no tenant, whatever custom_domain says.
-- Security definer, so that the tenant_profiles policy can ask it of any
-- caller (anon sees only the domain row it names; a signed-in user only their
-- own); it reveals nothing a caller did not name.
create or replace function private.tenant_named_by_domain()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select d.tenant_id
  from public.tenant_domains as d
  where d.status = 'active'
    and 'domain:' || d.hostname = (select private.requested_tenant_lookup())
$$;

comment on function private.tenant_named_by_domain() is 'The tenant of the active domain named by the request''s x-tenant-lookup header (domain:<hostname>), or null. Used by the tenant_profiles policy.';

revoke execute on function private.tenant_named_by_domain() from public;
grant execute on function private.tenant_named_by_domain() to anon, authenticated, service_role;

-- The rule is said twice, as 20261202003003 does: as the comparison with the
-- lookup, and as equalities on slug and id that the planner estimates at
-- about one row each, so that a planned count tells nothing of how many
-- tenants there are. A domain now names its tenant through tenant_domains in
-- both (custom_domain is only the primary).
alter policy "Active tenant profiles are viewable by requests that name them"
  on public.tenant_profiles
  using (
    is_active
    and (
      (select private.requested_tenant_lookup()) = any (array['slug:' || slug, 'id:' || id::text])
      or id = (select private.tenant_named_by_domain())
    )
    and (
      slug = (select private.requested_tenant_key('slug'))
      or id = (select private.requested_tenant_key('id'))::uuid
      or id = (select private.tenant_named_by_domain())
    )
  );

-- A hostname as add_tenant_domain takes it: any case, one trailing dot.
create or replace function private.normalized_hostname(hostname text)
returns text
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.lower(pg_catalog.regexp_replace(hostname, '\.$', ''))
$$;

comment on function private.normalized_hostname(text) is 'A hostname lowercased, without one trailing dot.';

revoke execute on function private.normalized_hostname(text) from public;
grant execute on function private.normalized_hostname(text) to service_role;

-- Keeps a tenant's domains settled: when it has no primary, its oldest
-- active domain becomes it; tenant_profiles.custom_domain follows the
-- primary. Locks the tenant's row first, so that two transactions settling
-- the same tenant run one after the other.
create or replace function private.settle_tenant_domains(tenant uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  primary_hostname text;
begin
  perform 1 from public.tenant_profiles where id = tenant for update;
  if not found then
    return;
  end if;

  select d.hostname into primary_hostname
  from public.tenant_domains as d
  where d.tenant_id = tenant and d.is_primary;

  if primary_hostname is null then
    update public.tenant_domains
    set is_primary = true
    where id = (
      select d.id
      from public.tenant_domains as d
      where d.tenant_id = tenant and d.status = 'active'
      order by d.created_at, d.id
      limit 1
    )
    returning hostname into primary_hostname;
  end if;

  update public.tenant_profiles
  set custom_domain = primary_hostname
  where id = tenant and custom_domain is distinct from primary_hostname;
end;
$$;

comment on function private.settle_tenant_domains(uuid) is 'Makes the oldest active domain primary when a tenant has none, and custom_domain the primary''s hostname.';

revoke execute on function private.settle_tenant_domains(uuid) from public, anon, authenticated;

-- Before a row is written: its hostname normalized, updated_at stamped, and
-- a domain that stops being active stops being primary (then the oldest other
-- active domain takes over, after the write).
create or replace function private.prepare_tenant_domain()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.hostname := private.normalized_hostname(new.hostname);
  if tg_op = 'UPDATE' then
    new.updated_at := pg_catalog.now();
  end if;
  if tg_op = 'UPDATE' and old.status = 'active' and new.status <> 'active' then
    new.is_primary := false;
  end if;
  return new;
end;
$$;

revoke execute on function private.prepare_tenant_domain() from public, anon, authenticated;

create trigger tenant_domains_prepare
  before insert or update on public.tenant_domains
  for each row
  execute function private.prepare_tenant_domain();

-- After rows are written: each tenant they touched is settled. Skipped while
-- one of this migration's functions rewrites a tenant's domains in several
-- steps (it sets tenant_domains.settling for the transaction, and settles the
-- tenant itself when done).
create or replace function private.settle_changed_tenant_domains()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if pg_catalog.current_setting('tenant_domains.settling', true) = 'on' then
    return null;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    perform private.settle_tenant_domains(old.tenant_id);
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.tenant_id is distinct from old.tenant_id) then
    perform private.settle_tenant_domains(new.tenant_id);
  end if;
  return null;
end;
$$;

revoke execute on function private.settle_changed_tenant_domains() from public, anon, authenticated;

create trigger tenant_domains_settle
  after insert or update or delete on public.tenant_domains
  for each row
  execute function private.settle_changed_tenant_domains();

-- A direct write of tenant_profiles.custom_domain (by trusted code: the API
-- roles may not write tenant_profiles) is carried over to tenant_domains: the
-- hostname becomes the tenant's active primary domain, and the previous
-- primary is retired (deleted, or left `removing` for the control plane when
-- Cloudflare has a hostname for it). The database's own sync of custom_domain
-- (settle_tenant_domains) writes the primary's hostname, which this leaves
-- alone.
create or replace function private.carry_over_custom_domain()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  current_primary public.tenant_domains;
begin
  if tg_op = 'UPDATE' and new.custom_domain is not distinct from old.custom_domain then
    return null;
  end if;

  select * into current_primary
  from public.tenant_domains as d
  where d.tenant_id = new.id and d.is_primary;

  if new.custom_domain is not distinct from current_primary.hostname then
    return null;
  end if;

  perform pg_catalog.set_config('tenant_domains.settling', 'on', true);

  if current_primary.id is not null then
    if current_primary.cloudflare_id is null then
      delete from public.tenant_domains where id = current_primary.id;
    else
      update public.tenant_domains set status = 'removing' where id = current_primary.id;
    end if;
  end if;

  if new.custom_domain is not null then
    update public.tenant_domains
    set status = 'active',
        is_primary = true,
        verified_at = coalesce(verified_at, pg_catalog.now())
    where tenant_id = new.id
      and hostname = new.custom_domain
      and status <> 'removing';
    if not found then
      insert into public.tenant_domains (tenant_id, hostname, status, is_primary, verified_at)
      values (new.id, new.custom_domain, 'active', true, pg_catalog.now());
    end if;
  end if;

  perform pg_catalog.set_config('tenant_domains.settling', 'off', true);

  if new.custom_domain is null then
    perform private.settle_tenant_domains(new.id);
  end if;
  return null;
end;
$$;

comment on function private.carry_over_custom_domain() is 'Trigger function: a direct write of tenant_profiles.custom_domain makes that hostname the active primary domain and retires the previous one.';

revoke execute on function private.carry_over_custom_domain() from public, anon, authenticated;

-- Every change of tenant_domains is a change of its tenant: recorded in the
-- feed under the tenant's hash, at the end of the transaction, like
-- tenant_profiles' own (20261124000201).
create or replace function private.record_tenant_domain_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    insert into public.tenant_changes (tenant_hash)
    values (pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(old.tenant_id::text, 'UTF8')), 'hex'));
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.tenant_id is distinct from old.tenant_id) then
    insert into public.tenant_changes (tenant_hash)
    values (pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(new.tenant_id::text, 'UTF8')), 'hex'));
  end if;
  return null;
end;
$$;

comment on function private.record_tenant_domain_change() is 'Trigger function: records a tenant_domains change in tenant_changes under its tenant''s hash.';

revoke execute on function private.record_tenant_domain_change() from public, anon, authenticated;

-- The owner functions. Security definer, because owners write tenant_domains
-- only through them (they hold no write privilege on the table), and each
-- checks that the caller owns the tenant. Errors carry a machine-readable
-- reason in their hint: not_owner, invalid_domain, domain_taken,
-- too_many_domains, domain_not_found, domain_not_active.

-- Refuses a caller who does not own the tenant.
create or replace function private.require_owner(tenant_id uuid)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if tenant_id is null or tenant_id not in (select private.owned_tenant_ids()) then
    raise exception 'you do not own this tenant'
      using errcode = '42501', hint = 'not_owner';
  end if;
end;
$$;

revoke execute on function private.require_owner(uuid) from public, anon, authenticated;

-- The tenant's row named by an owner function, or an error: the caller must
-- own the tenant.
create or replace function private.owned_tenant_domain(tenant_id uuid, hostname text)
returns public.tenant_domains
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found_row public.tenant_domains;
begin
  perform private.require_owner(tenant_id);
  select * into found_row
  from public.tenant_domains as d
  where d.tenant_id = owned_tenant_domain.tenant_id
    and d.hostname = private.normalized_hostname(owned_tenant_domain.hostname)
    and d.status <> 'removing';
  if found_row.id is null then
    raise exception 'this tenant has no domain %', hostname
      using errcode = 'PT404', hint = 'domain_not_found';
  end if;
  return found_row;
end;
$$;

revoke execute on function private.owned_tenant_domain(uuid, text) from public, anon, authenticated;

create or replace function public.add_tenant_domain(tenant_id uuid, hostname text)
returns public.tenant_domains
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  name text := private.normalized_hostname(hostname);
  added public.tenant_domains;
begin
  perform private.require_owner(tenant_id);
  if name is null or not private.is_valid_hostname(name) then
    raise exception 'not a domain name: lowercase ASCII letters, digits and hyphens in two labels or more, without scheme, port or path'
      using errcode = '22023', hint = 'invalid_domain';
  end if;
  perform 1 from public.tenant_profiles as t where t.id = add_tenant_domain.tenant_id for update;
  if exists (
    select 1 from public.tenant_domains as d
    where d.hostname = name and d.status <> 'removing'
  ) then
    raise exception 'the domain % is already claimed', name
      using errcode = '23505', hint = 'domain_taken';
  end if;
  if (
    select count(*) from public.tenant_domains as d
    where d.tenant_id = add_tenant_domain.tenant_id and d.status <> 'removing'
  ) >= 10 then
    raise exception 'a tenant has at most 10 domains'
      using errcode = 'P0001', hint = 'too_many_domains';
  end if;
  insert into public.tenant_domains (tenant_id, hostname)
  values (add_tenant_domain.tenant_id, name)
  returning * into added;
  return added;
end;
$$;

comment on function public.add_tenant_domain(uuid, text) is 'An owner claims a hostname for their tenant: a pending domain, until the control plane has Cloudflare verify it.';

create or replace function public.remove_tenant_domain(tenant_id uuid, hostname text)
returns public.tenant_domains
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  removed public.tenant_domains := private.owned_tenant_domain(tenant_id, hostname);
begin
  update public.tenant_domains
  set status = 'removing'
  where id = removed.id
  returning * into removed;
  return removed;
end;
$$;

comment on function public.remove_tenant_domain(uuid, text) is 'An owner gives a hostname up: the domain stops resolving at once and becomes removing until the control plane deletes its Cloudflare hostname.';

create or replace function public.set_primary_tenant_domain(tenant_id uuid, hostname text)
returns public.tenant_domains
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  chosen public.tenant_domains := private.owned_tenant_domain(tenant_id, hostname);
begin
  if chosen.status <> 'active' then
    raise exception 'only an active domain can be primary; % is %', chosen.hostname, chosen.status
      using errcode = 'PT409', hint = 'domain_not_active';
  end if;
  perform 1 from public.tenant_profiles as t where t.id = chosen.tenant_id for update;
  perform pg_catalog.set_config('tenant_domains.settling', 'on', true);
  update public.tenant_domains
  set is_primary = false
  where tenant_domains.tenant_id = chosen.tenant_id and is_primary and id <> chosen.id;
  update public.tenant_domains
  set is_primary = true
  where id = chosen.id
  returning * into chosen;
  perform pg_catalog.set_config('tenant_domains.settling', 'off', true);
  perform private.settle_tenant_domains(chosen.tenant_id);
  return chosen;
end;
$$;

comment on function public.set_primary_tenant_domain(uuid, text) is 'An owner makes one of their active domains the primary: the canonical host the others redirect to.';

revoke execute on function public.add_tenant_domain(uuid, text) from public, anon;
revoke execute on function public.remove_tenant_domain(uuid, text) from public, anon;
revoke execute on function public.set_primary_tenant_domain(uuid, text) from public, anon;
revoke execute on function public.add_tenant_domain(uuid, text) from service_role;
revoke execute on function public.remove_tenant_domain(uuid, text) from service_role;
revoke execute on function public.set_primary_tenant_domain(uuid, text) from service_role;
grant execute on function public.add_tenant_domain(uuid, text) to authenticated;
grant execute on function public.remove_tenant_domain(uuid, text) to authenticated;
grant execute on function public.set_primary_tenant_domain(uuid, text) to authenticated;

-- Existing custom domains, set by an operator, are active primary domains.
insert into public.tenant_domains (tenant_id, hostname, status, is_primary, verified_at, created_at)
select id, custom_domain, 'active', true, now(), created_at
from public.tenant_profiles
where custom_domain is not null;

-- The triggers that keep custom_domain and the feed in step come last: the
-- rows above change nothing (custom_domain already says the same), and a
-- table with pending trigger events could not be altered.
create trigger tenant_profiles_carry_over_custom_domain
  after insert or update of custom_domain on public.tenant_profiles
  for each row
  execute function private.carry_over_custom_domain();

create constraint trigger tenant_domains_record_change
  after insert or update or delete on public.tenant_domains
  deferrable initially deferred
  for each row
  execute function private.record_tenant_domain_change();
