-- A domain serves a tenant only after that tenant proved control of its DNS.
--
-- Until now whoever claimed a hostname first held it, and Cloudflare's HTTP
-- check was the only proof: it reaches the Worker whenever the hostname's
-- CNAME points at the platform, which stays true after its owner removes it.
-- So another coach could add a just-removed domain (or the www of someone's
-- domain) and have it verified and served as theirs; and a pending or failed
-- claim held a name forever against its real owner.
--
-- Now every claim carries a token of its own (proof_token). Its tenant proves
-- control by publishing it as a TXT record (_<platform>-challenge.<hostname>:
-- the control plane names it and checks it over DNS before the hostname is
-- created at Cloudflare), and the control plane records the proof with
-- prove_tenant_domain(). Only a proven row holds a name: any number of
-- tenants may have pending claims of it, and the first to prove control
-- takes it. Whoever held it before (a proven domain, even an active one)
-- hands its Cloudflare hostname over and fails with the reason: whoever
-- controls a domain's DNS decides which tenant serves it, which is how a
-- domain moves between tenants and how an owner recovers a name someone else
-- claimed. The other pending claims of the name fail, with a reason.
--
-- A removed (or otherwise given up) proven domain stays reserved to its
-- tenant for the cool-down the control plane sets (DOMAIN_COOLDOWN_DAYS): its
-- owner may add it again within it without proving control again, and takes
-- back its Cloudflare hostname if the control plane has not deleted it yet.
-- Anyone else must prove control, as always.
--
-- Also: an inactive tenant cannot add domains; adding a name the tenant
-- already has as failed replaces that claim (keeping its token); a claim that never reached
-- Cloudflare (no hostname, never verified) is deleted at once when removed;
-- and the owner functions spend the tenant's write budget
-- (20261207001002), checked after everything that could refuse the call, so
-- that a refusal costs nothing and tells nothing: at the limit of 10
-- domains, adding a name answers the same whether or not anyone claims it.

alter table public.tenant_domains
  add column proof_token text not null
    default pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', '')
    constraint tenant_domains_proof_token_format check (proof_token ~ '^[0-9a-f]{32}$'),
  add column proven_at timestamptz;

comment on column public.tenant_domains.proof_token is 'The value of the TXT record by which this claim''s tenant proves control of the hostname''s DNS; random per claim, readable by the owner only.';
comment on column public.tenant_domains.proven_at is 'When its tenant proved control of the hostname (or null): only a proven row holds a hostname, and only a proven row becomes active.';

-- A hostname is held by one proven row at a time; pending claims hold nothing.
drop index public.tenant_domains_hostname_held;
create unique index tenant_domains_hostname_held
  on public.tenant_domains (hostname)
  where proven_at is not null and status in ('pending', 'active', 'moved', 'blocked');

-- A tenant claims a hostname once (a row being removed aside).
create unique index tenant_domains_one_claim_per_tenant
  on public.tenant_domains (tenant_id, hostname)
  where status <> 'removing';

-- Domains already verified were proven the only way there was. Nothing a
-- reader of the change feed caches changes, so the feed records none of it:
-- every data center re-reading every tenant with a domain at deploy time
-- would be the load the feed exists to prevent.
alter table public.tenant_domains disable trigger tenant_domains_record_change;
update public.tenant_domains
set proven_at = coalesce(verified_at, updated_at)
where status = 'active'
  or (verified_at is not null and status in ('pending', 'moved', 'blocked'));
alter table public.tenant_domains enable trigger tenant_domains_record_change;

alter table public.tenant_domains
  add constraint tenant_domains_active_is_proven check (status <> 'active' or proven_at is not null);

-- Names given up by a tenant that had proven control of them, for the
-- cool-down. No foreign key: a reservation outlives a deleted tenant and
-- expires by itself.
create table private.released_domains (
  hostname text primary key,
  tenant_id uuid not null,
  released_at timestamptz not null default pg_catalog.now()
);

comment on table private.released_domains is 'Hostnames a tenant gave up after proving control of them: reserved to it for the cool-down of private.domain_rules.';


-- In private, which the Data API does not serve, and no API role's: row level
-- security would guard nothing (and leave a policy-less table for the advisor).
revoke all on table private.released_domains from public, anon, authenticated;

-- A proven domain that stops holding its name (removed, failed, deleted) is
-- reserved to its tenant.
create or replace function private.release_tenant_domain()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.proven_at is not null
    and old.status in ('pending', 'active', 'moved', 'blocked')
    and (tg_op = 'DELETE' or new.status in ('failed', 'removing'))
  then
    insert into private.released_domains (hostname, tenant_id, released_at)
    values (old.hostname, old.tenant_id, pg_catalog.now())
    on conflict (hostname) do update
    set tenant_id = excluded.tenant_id, released_at = excluded.released_at;
  end if;
  return null;
end;
$$;

revoke execute on function private.release_tenant_domain() from public, anon, authenticated;

create trigger tenant_domains_release
  after update of status or delete on public.tenant_domains
  for each row
  execute function private.release_tenant_domain();

-- Gives a claim its hostname, now proven. The row that held the name hands
-- over its Cloudflare hostname: another tenant's proven domain fails with the
-- reason and the claim takes its status (an active domain stays served, by
-- its new tenant); a row being removed is deleted and the claim, pending,
-- takes its hostname (the cron then reads it from Cloudflare). Other tenants'
-- unproven claims of the name fail; its cool-down ends. Callers hold the
-- locks of the name's rows.
create or replace function private.take_hostname(claim_id uuid)
returns public.tenant_domains
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  claim public.tenant_domains;
  source public.tenant_domains;
  handed_over boolean;
  stamp text := pg_catalog.to_char(pg_catalog.now() at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"');
begin
  select * into claim from public.tenant_domains where id = claim_id;

  select * into source
  from public.tenant_domains as d
  where d.hostname = claim.hostname
    and d.id <> claim.id
    and (
      (d.proven_at is not null and d.status in ('pending', 'active', 'moved', 'blocked'))
      or (d.status = 'removing' and d.cloudflare_id is not null)
    )
  order by d.status = 'removing', d.created_at
  limit 1;

  -- Cloudflare has at most one hostname of a name: the claim takes the
  -- source's unless it has one of its own (a claim made before this
  -- migration, which Cloudflare was asked for at once).
  handed_over := source.id is not null and claim.cloudflare_id is null;

  if source.status = 'removing' then
    delete from public.tenant_domains where id = source.id;
  elsif source.id is not null then
    update public.tenant_domains
    set status = 'failed',
        cloudflare_id = null,
        ssl_status = null,
        ownership_txt_name = null,
        ownership_txt_value = null,
        ownership_http_path = null,
        ownership_http_body = null,
        verification_errors = array[pg_catalog.format(
          'another account proved control of the DNS of %s on %s, so it serves their site now; '
          'to take it back, add it again and publish its new TXT record',
          source.hostname, stamp)]
    where id = source.id;
  end if;

  update public.tenant_domains
  set proven_at = pg_catalog.now(),
      status = case when handed_over and source.status <> 'removing' then source.status else status end,
      verified_at = case when handed_over and source.status <> 'removing' then source.verified_at else verified_at end,
      cloudflare_id = case when handed_over then source.cloudflare_id else cloudflare_id end,
      ssl_status = case when handed_over then source.ssl_status else ssl_status end,
      ownership_txt_name = case when handed_over then source.ownership_txt_name else ownership_txt_name end,
      ownership_txt_value = case when handed_over then source.ownership_txt_value else ownership_txt_value end,
      ownership_http_path = case when handed_over then source.ownership_http_path else ownership_http_path end,
      ownership_http_body = case when handed_over then source.ownership_http_body else ownership_http_body end,
      verification_errors = case when handed_over then source.verification_errors else verification_errors end
  where id = claim.id
  returning * into claim;

  update public.tenant_domains
  set status = 'failed',
      verification_errors = array[pg_catalog.format(
        'another account proved control of the DNS of %s first (%s)', hostname, stamp)]
  where hostname = claim.hostname
    and id <> claim.id
    and status = 'pending'
    and proven_at is null;

  delete from private.released_domains where hostname = claim.hostname;
  return claim;
end;
$$;

comment on function private.take_hostname(uuid) is 'Makes a claim proven and its hostname''s holder: the previous holder hands its Cloudflare hostname over and fails (or, being removed, is deleted); other unproven claims fail; the cool-down ends.';

revoke execute on function private.take_hostname(uuid) from public, anon, authenticated;
grant execute on function private.take_hostname(uuid) to service_role;

-- The control plane found the claim's token in the hostname's TXT record.
-- A row that is gone, not pending, or proven already is returned unchanged.
create or replace function public.prove_tenant_domain(domain_id uuid)
returns public.tenant_domains
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  claim public.tenant_domains;
begin
  select * into claim from public.tenant_domains where id = domain_id;
  if claim.id is null or claim.status <> 'pending' or claim.proven_at is not null then
    return claim;
  end if;
  perform 1 from public.tenant_domains as d where d.hostname = claim.hostname order by d.id for update;
  select * into claim from public.tenant_domains where id = domain_id;
  if claim.id is null or claim.status <> 'pending' or claim.proven_at is not null then
    return claim;
  end if;
  return private.take_hostname(claim.id);
end;
$$;

comment on function public.prove_tenant_domain(uuid) is 'The control plane records that a claim''s tenant proved control of the hostname''s DNS: the claim takes the hostname (see private.take_hostname). Service role only.';

revoke execute on function public.prove_tenant_domain(uuid) from public, anon, authenticated;
grant execute on function public.prove_tenant_domain(uuid) to service_role;

-- The claims whose TXT record the control plane looks up next: pending and
-- not proven, tenants in turn (each tenant's oldest claim, then each
-- tenant's second, ...), so that no number of one account's claims, nor of
-- many accounts', keeps another tenant's claim out of the lookups.
create or replace function public.claims_to_prove(max_claims integer default 500)
returns setof public.tenant_domains
language sql
stable
security invoker
set search_path = ''
as $$
  select claim.*
  from public.tenant_domains as claim
  join (
    select d.id, pg_catalog.row_number() over (partition by d.tenant_id order by d.created_at, d.id) as turn
    from public.tenant_domains as d
    where d.status = 'pending' and d.proven_at is null
  ) as ranked on ranked.id = claim.id
  order by ranked.turn, claim.created_at, claim.id
  limit greatest(0, least(max_claims, 500))
$$;

comment on function public.claims_to_prove(integer) is 'Pending claims not proven yet, tenants in turn (at most 500): the ones the control plane looks up next. Service role only.';

revoke execute on function public.claims_to_prove(integer) from public, anon, authenticated;
grant execute on function public.claims_to_prove(integer) to service_role;

-- What claims_to_prove() reads.
create index tenant_domains_unproven_claims_idx
  on public.tenant_domains (tenant_id, created_at)
  where status = 'pending' and proven_at is null;

-- A row a tenant gives up: deleted when it holds no Cloudflare hostname (none
-- was created for it, or it handed its hostname over and failed), else
-- removing, for the control plane to delete its Cloudflare hostname first. (An
-- active domain without an id was written by an operator, who may have made
-- its hostname by hand: the control plane looks for it.)
create or replace function private.retire_tenant_domain(retired public.tenant_domains)
returns public.tenant_domains
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if retired.cloudflare_id is null and (retired.verified_at is null or retired.status = 'failed') then
    delete from public.tenant_domains where id = retired.id;
    retired.status := 'removing';
    retired.is_primary := false;
    return retired;
  end if;
  update public.tenant_domains
  set status = 'removing'
  where id = retired.id
  returning * into retired;
  return retired;
end;
$$;

revoke execute on function private.retire_tenant_domain(public.tenant_domains) from public, anon, authenticated;

create or replace function public.add_tenant_domain(tenant_id uuid, hostname text)
returns public.tenant_domains
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  name text := private.normalized_hostname(hostname);
  earlier public.tenant_domains;
  added public.tenant_domains;
begin
  perform private.require_owner(tenant_id);
  if not exists (
    select 1 from public.tenant_profiles as t
    where t.id = add_tenant_domain.tenant_id and t.is_active
  ) then
    raise exception 'this tenant is not active: it cannot add domains'
      using errcode = '42501', hint = 'tenant_inactive';
  end if;
  if name is null or not private.is_valid_hostname(name) or private.ends_in_a_number(name) then
    raise exception 'not a domain name: lowercase ASCII letters, digits and hyphens in two labels or more, without scheme, port or path'
      using errcode = '22023', hint = 'invalid_domain';
  end if;
  perform private.require_domain_rules();
  if private.is_reserved_hostname(name) then
    raise exception 'the domain % is the platform''s own: its hostnames and the names beneath them cannot be added', name
      using errcode = '22023', hint = 'invalid_domain';
  end if;
  perform 1 from public.tenant_profiles as t where t.id = add_tenant_domain.tenant_id for update;
  if (
    select count(*) from public.tenant_domains as d
    where d.tenant_id = add_tenant_domain.tenant_id
      and d.status <> 'removing'
      and not (d.hostname = name and d.status = 'failed')
  ) >= 10 then
    raise exception 'a tenant has at most 10 domains'
      using errcode = 'P0001', hint = 'too_many_domains';
  end if;
  select * into earlier
  from public.tenant_domains as d
  where d.tenant_id = add_tenant_domain.tenant_id and d.hostname = name and d.status <> 'removing';
  if earlier.id is not null and earlier.status <> 'failed' then
    raise exception 'this tenant already has the domain %', name
      using errcode = '23505', hint = 'domain_taken';
  end if;
  perform private.spend_owner_write(add_tenant_domain.tenant_id);
  if earlier.id is not null then
    perform private.retire_tenant_domain(earlier);
  end if;

  perform 1 from public.tenant_domains as d where d.hostname = name order by d.id for update;
  -- A claim that replaces the tenant's failed one keeps its token, so the TXT
  -- record its coach published still proves it.
  insert into public.tenant_domains (tenant_id, hostname, proof_token)
  values (
    add_tenant_domain.tenant_id, name,
    coalesce(earlier.proof_token, pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''))
  )
  returning * into added;

  if exists (
    select 1
    from private.released_domains as r, private.domain_rules as rules
    where r.hostname = name
      and r.tenant_id = add_tenant_domain.tenant_id
      and r.released_at > pg_catalog.now() - rules.cooldown
  ) then
    added := private.take_hostname(added.id);
  end if;
  return added;
end;
$$;

comment on function public.add_tenant_domain(uuid, text) is 'An owner claims a hostname for their tenant: a pending claim, until its tenant proves control of the DNS (or, within the cool-down, took it back) and Cloudflare verifies it.';

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
  perform private.spend_owner_write(removed.tenant_id);
  return private.retire_tenant_domain(removed);
end;
$$;

comment on function public.remove_tenant_domain(uuid, text) is 'An owner gives a hostname up: it stops resolving at once, and becomes removing until the control plane deletes its Cloudflare hostname (a claim Cloudflare never had is deleted at once).';

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
  if chosen.is_primary then
    return chosen;
  end if;
  perform private.spend_owner_write(chosen.tenant_id);
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

-- A direct write of custom_domain by trusted code is an operator's word: the
-- hostname is proven and active at once, as before, and its cool-down ends.
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
        proven_at = coalesce(proven_at, pg_catalog.now()),
        verified_at = coalesce(verified_at, pg_catalog.now())
    where tenant_id = new.id
      and hostname = new.custom_domain
      and status <> 'removing';
    if not found then
      insert into public.tenant_domains (tenant_id, hostname, status, is_primary, proven_at, verified_at)
      values (new.id, new.custom_domain, 'active', true, pg_catalog.now(), pg_catalog.now());
    end if;
    delete from private.released_domains where hostname = new.custom_domain;
  end if;

  perform pg_catalog.set_config('tenant_domains.settling', 'off', true);

  if new.custom_domain is null then
    perform private.settle_tenant_domains(new.id);
  end if;
  return null;
end;
$$;
