-- The change feed cannot be flooded: it answers one change per tenant, a
-- write that changes nothing records nothing, and the table keeps one row
-- per changed tenant.
--
-- One coach calling set_primary_tenant_domain on their own primary in a loop
-- (hundreds of calls a second) wrote a feed row per call though nothing
-- changed, and tenant_changes_since() answered raw rows: more than 1,000 of
-- them in a poll interval filled the answer, every data center counted it as
-- a gap, and re-read every tenant it had cached, at every poll: the database
-- load the feed exists to prevent. Domain writes never pruned the table
-- either (12,020 rows after 15 seconds).
--
-- Now:
-- - recording a tenant's change deletes the older rows of the same tenant
--   (only its latest change matters to a reader: it says "re-read this
--   tenant if you fetched it before then"), and prunes rows older than an
--   hour, for tenant_profiles and tenant_domains alike; so the table holds
--   about one row per tenant changed in the last hour;
-- - tenant_changes_since() answers each tenant once, at its latest change:
--   a full answer (1,000) now needs 1,000 distinct tenants changed in the
--   window, and a gap for a data center needs more than 1,000 distinct
--   tenants changed between two of its reads, whatever one tenant does;
-- - an update that changes no column (updated_at aside) of tenant_profiles
--   records nothing, and one of tenant_domains writes nothing at all.
--
-- The load one tenant can cause is then its rate of real changes (bounded by
-- 20261207001002 for what its owner can do) times the data centers that
-- serve it: each re-reads it once per change.

create index tenant_changes_tenant_hash_idx on public.tenant_changes (tenant_hash);

-- Records that a tenant changed (at the end of the writing transaction: the
-- triggers calling this are deferred), drops the tenant's older rows and
-- prunes rows older than an hour. Rows another transaction is deleting are
-- skipped, never waited for.
create or replace function private.record_change_of(tenant uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  hash text := pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(tenant::text, 'UTF8')), 'hex');
  recorded bigint;
begin
  insert into public.tenant_changes (tenant_hash) values (hash) returning id into recorded;
  delete from public.tenant_changes
  where id in (
    select older.id
    from public.tenant_changes as older
    where (older.tenant_hash = hash and older.id < recorded)
      or older.changed_at < pg_catalog.clock_timestamp() - interval '1 hour'
    for update skip locked
  );
end;
$$;

comment on function private.record_change_of(uuid) is 'Records a change of a tenant in the feed as its latest (its older rows dropped) and prunes rows older than an hour.';

revoke execute on function private.record_change_of(uuid) from public, anon, authenticated;

create or replace function public.record_tenant_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and (pg_catalog.to_jsonb(new) - 'updated_at') = (pg_catalog.to_jsonb(old) - 'updated_at') then
    return null;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    perform private.record_change_of(old.id);
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.id is distinct from old.id) then
    perform private.record_change_of(new.id);
  end if;
  return null;
end;
$$;

comment on function public.record_tenant_change() is 'Trigger function: records a tenant_profiles change in tenant_changes (by id hash), unless no column but updated_at changed.';

create or replace function private.record_tenant_domain_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    perform private.record_change_of(old.tenant_id);
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.tenant_id is distinct from old.tenant_id) then
    perform private.record_change_of(new.tenant_id);
  end if;
  return null;
end;
$$;

-- An update of tenant_domains that changes nothing is not written: no
-- updated_at, no trigger, no feed entry.
create or replace function private.prepare_tenant_domain()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.hostname := private.normalized_hostname(new.hostname);
  if tg_op = 'UPDATE' then
    if (pg_catalog.to_jsonb(new) - 'updated_at') = (pg_catalog.to_jsonb(old) - 'updated_at') then
      return null;
    end if;
    new.updated_at := pg_catalog.now();
    if old.status = 'active' and new.status <> 'active' then
      new.is_primary := false;
    end if;
  end if;
  return new;
end;
$$;

create or replace function public.tenant_changes_since(since timestamptz, max_changes integer default 1000)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  changes jsonb;
begin
  perform pg_catalog.set_config('tenant_changes.reading', 'on', true);
  select coalesce(
    pg_catalog.jsonb_agg(
      pg_catalog.jsonb_build_object('tenant_hash', latest.tenant_hash, 'changed_at', latest.changed_at)
      order by latest.changed_at desc
    ),
    '[]'::jsonb
  )
  into changes
  from (
    select c.tenant_hash, pg_catalog.max(c.changed_at) as changed_at
    from public.tenant_changes as c
    where c.changed_at >= since
    group by c.tenant_hash
    order by pg_catalog.max(c.changed_at) desc
    limit greatest(0, least(max_changes, 1000))
  ) as latest;
  perform pg_catalog.set_config('tenant_changes.reading', 'off', true);
  return changes;
end;
$$;

comment on function public.tenant_changes_since(timestamptz, integer) is 'The change feed: each tenant changed since `since` once, at its latest change (at most max_changes tenants, at most 1000), as a JSON array of {"tenant_hash", "changed_at"}, newest first. The only way the API reads tenant_changes.';
