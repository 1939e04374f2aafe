-- The platform's own hostnames can never be a coach's custom domain.
--
-- add_tenant_domain accepted any well-formed hostname: www.<platform domain>,
-- another tenant's <slug>.<platform domain> and every name beneath it (the
-- Worker looks login.<slug>.<platform domain> up as a custom domain), the
-- CNAME target coaches point at, the control plane's and the fallback
-- origin's hosts, and names a browser reads as an IPv4 address (0x7f.0x1: to
-- a WHATWG URL parser a host whose last label is a number is an address).
--
-- Which names are the platform's is the control plane's configuration
-- (PLATFORM_DOMAIN, CUSTOM_HOSTNAME_TARGET, RESERVED_HOSTNAMES), so it writes
-- them here on every cron run, through set_domain_rules(): the database and
-- the control plane cannot disagree for longer than a run. A database that
-- has never been told refuses every claim (not_ready): it cannot know what
-- may be claimed. The same row carries the cool-down of a removed domain
-- (DOMAIN_COOLDOWN_DAYS), which the claims migration after this one uses.
-- Trusted code writing tenant_profiles.custom_domain is not bound by it.

-- What the control plane last said: one row.
create table private.domain_rules (
  id boolean primary key default true
    constraint domain_rules_one_row check (id),
  platform_domain text not null
    constraint domain_rules_platform_domain_format
    check (private.is_valid_hostname(platform_domain) or platform_domain = 'localhost'),
  reserved_hostnames text[] not null default '{}'
    constraint domain_rules_reserved_hostnames_count check (pg_catalog.cardinality(reserved_hostnames) <= 100),
  cooldown interval not null
    constraint domain_rules_cooldown_range check (cooldown between interval '0' and interval '365 days'),
  written_at timestamptz not null default pg_catalog.now()
);

comment on table private.domain_rules is 'The platform''s reserved hostnames and the cool-down of removed domains, as the control plane last wrote them (one row).';
comment on column private.domain_rules.platform_domain is 'PLATFORM_DOMAIN: it and every name beneath it are the platform''s.';
comment on column private.domain_rules.reserved_hostnames is 'CUSTOM_HOSTNAME_TARGET and RESERVED_HOSTNAMES: each, and every name beneath it, is the platform''s.';
comment on column private.domain_rules.cooldown is 'DOMAIN_COOLDOWN_DAYS: how long a removed domain stays reserved to its previous tenant.';


-- In private, which the Data API does not serve, and no API role's: row level
-- security would guard nothing (and leave a policy-less table for the advisor).
revoke all on table private.domain_rules from public, anon, authenticated;
grant select, insert, update on table private.domain_rules to service_role;

-- The control plane's word, on every cron run. Validates what it is given
-- (22023 otherwise), lowercases it and drops duplicates.
create or replace function public.set_domain_rules(
  platform_domain text,
  reserved_hostnames text[],
  cooldown_seconds integer
)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
  platform text := private.normalized_hostname(platform_domain);
  reserved text[];
begin
  select coalesce(pg_catalog.array_agg(distinct private.normalized_hostname(name) order by private.normalized_hostname(name)), '{}')
  into reserved
  from pg_catalog.unnest(reserved_hostnames) as name;
  if platform is null
    or not (private.is_valid_hostname(platform) or platform = 'localhost')
    or exists (select 1 from pg_catalog.unnest(reserved) as name where not private.is_valid_hostname(name))
    or cooldown_seconds is null or cooldown_seconds < 0
  then
    raise exception 'domain rules need a platform domain, reserved hostnames and a cool-down of 0 seconds or more'
      using errcode = '22023';
  end if;
  insert into private.domain_rules as r (id, platform_domain, reserved_hostnames, cooldown, written_at)
  values (true, platform, reserved, pg_catalog.make_interval(secs => cooldown_seconds), pg_catalog.now())
  on conflict (id) do update
  set platform_domain = excluded.platform_domain,
      reserved_hostnames = excluded.reserved_hostnames,
      cooldown = excluded.cooldown,
      written_at = excluded.written_at;
end;
$$;

comment on function public.set_domain_rules(text, text[], integer) is 'The control plane tells the database which hostnames are the platform''s and how long a removed domain stays reserved; called on every cron run, by the service role only.';

revoke execute on function public.set_domain_rules(text, text[], integer) from public, anon, authenticated;
grant execute on function public.set_domain_rules(text, text[], integer) to service_role;

-- Whether a host's last label is a number to a WHATWG URL parser (digits, or
-- 0x and hex digits): such a host is an IPv4 address to a browser.
create or replace function private.ends_in_a_number(hostname text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.substring(hostname, '([^.]*)$') ~ '^([0-9]+|0[xX][0-9a-fA-F]*)$'
$$;

comment on function private.ends_in_a_number(text) is 'Whether a hostname''s last label is a number to a WHATWG URL parser, which then reads the host as an IPv4 address.';

revoke execute on function private.ends_in_a_number(text) from public, anon, authenticated;

-- Refuses a claim while the control plane has not said what is reserved.
create or replace function private.require_domain_rules()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from private.domain_rules) then
    raise exception 'custom domains are not available yet: the control plane has not told the database which hostnames are the platform''s (its cron does, every minute)'
      using errcode = 'PT503', hint = 'not_ready';
  end if;
end;
$$;

revoke execute on function private.require_domain_rules() from public, anon, authenticated;

-- Whether a hostname is the platform's: the platform domain, a reserved
-- hostname, or any name beneath one of them.
create or replace function private.is_reserved_hostname(hostname text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from private.domain_rules as r,
      pg_catalog.unnest(r.reserved_hostnames || r.platform_domain) as reserved (name)
    where hostname = reserved.name
      or pg_catalog.right(hostname, pg_catalog.length(reserved.name) + 1) = '.' || reserved.name
  )
$$;

comment on function private.is_reserved_hostname(text) is 'Whether a hostname is the platform domain, a reserved hostname, or a name beneath either, as the control plane last said.';

revoke execute on function private.is_reserved_hostname(text) from public, anon, authenticated;
