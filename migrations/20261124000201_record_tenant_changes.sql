-- Every change to a tenant is published in a feed that the edge can poll.
--
-- The Worker caches tenants in every data center, and a purge reaches only
-- the data center that receives it, so elsewhere an edit showed only when a
-- TTL ran out. Now every insert, update and delete of tenant_profiles, of any
-- column, active tenant or not, adds a row to tenant_changes saying which
-- tenant changed and when. Each data center of the Worker polls it with the
-- anon key,
--   GET /tenant_changes?select=tenant_hash,changed_at
--       &changed_at=gte.<ISO-8601 UTC>&order=changed_at.desc&limit=1000
-- and drops the cached tenants whose hashes match.
--
-- The feed does not undo the rule that the anon key cannot list tenants
-- (20261124000101): it names a tenant only by tenant_hash, the lowercase hex
-- SHA-256 of the id's text form, encode(sha256(convert_to(id::text, 'UTF8')),
-- 'hex'). The Worker hashes the ids it holds and matches; nobody can turn a
-- hash back into a tenant, since an id is a random UUID (122 random bits).
-- anon and authenticated may read tenant_hash and changed_at of every row and
-- nothing else: no slug, domain or setting is recorded, and id is not
-- readable either (its sequence counts every change ever made). They may not
-- write. The service role may do anything.
--
-- The trigger is deferred to the end of the writing transaction, so that
-- changed_at, the clock_timestamp() of that moment, is close to the commit
-- time even for a long transaction. Readers poll with a window that overlaps
-- the previous poll (invalidating twice is harmless); a change stamped with
-- its transaction's start time could commit after a poll had already passed
-- that time, and be missed by every later poll. The same trigger prunes rows
-- older than an hour, so the table stays small: the Worker reads at most the
-- last 15 minutes.

-- A tenant change: which tenant (by hash) and when its transaction ended.
create table public.tenant_changes (
  id bigint generated always as identity primary key,
  tenant_hash text not null
    constraint tenant_changes_tenant_hash_format
    check (tenant_hash ~ '^[0-9a-f]{64}$'),
  changed_at timestamptz not null default clock_timestamp()
);

comment on table public.tenant_changes is 'Feed of tenant_profiles changes for edge cache invalidation: one row per changed tenant id, kept for an hour.';
comment on column public.tenant_changes.id is 'Order of recording; not readable with the anon key.';
comment on column public.tenant_changes.tenant_hash is 'Lowercase hex SHA-256 of the tenant id''s text form: encode(sha256(convert_to(id::text, ''UTF8'')), ''hex'').';
comment on column public.tenant_changes.changed_at is 'When the change was recorded: at the end of its transaction, close to its commit.';

-- Readers filter and sort on changed_at (changed_at=gte.<time>&order=changed_at.desc),
-- and the prune deletes by it.
create index tenant_changes_changed_at_idx
  on public.tenant_changes (changed_at);

alter table public.tenant_changes enable row level security;

-- Column-level access, as on tenant_profiles: drop the table-wide grant that
-- Supabase gives every new table, then grant back the two public columns.
-- The identity sequence gets the same default grant: take it back too.
revoke all on table public.tenant_changes from anon, authenticated;
grant select (tenant_hash, changed_at) on table public.tenant_changes to anon, authenticated;
grant all on table public.tenant_changes to service_role;
revoke all on sequence public.tenant_changes_id_seq from anon, authenticated;

-- Every change is public, as a hash. There is deliberately no insert, update
-- or delete policy: only the trigger (and the service role) writes.
create policy "Tenant change times are readable by everyone"
  on public.tenant_changes
  for select
  to anon, authenticated
  using (true);

-- Records the tenant ids a change of tenant_profiles touched (the old and the
-- new id when an update changes it), then prunes rows older than an hour.
-- Security definer, so that writers of tenant_profiles need no privilege on
-- tenant_changes. The prune skips rows another transaction is pruning: a
-- writer never waits for, or deadlocks with, another writer's prune.
create or replace function public.record_tenant_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    insert into public.tenant_changes (tenant_hash)
    values (pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(old.id::text, 'UTF8')), 'hex'));
  end if;

  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.id is distinct from old.id) then
    insert into public.tenant_changes (tenant_hash)
    values (pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(new.id::text, 'UTF8')), 'hex'));
  end if;

  delete from public.tenant_changes
  where id in (
    select expired.id
    from public.tenant_changes as expired
    where expired.changed_at < pg_catalog.clock_timestamp() - interval '1 hour'
    for update skip locked
  );

  return null;
end;
$$;

comment on function public.record_tenant_change() is 'Trigger function: records a tenant_profiles change in tenant_changes (by id hash) and prunes entries older than an hour.';

-- A constraint trigger, deferred: it runs when the transaction ends, so that
-- changed_at is close to the commit time (see above). It fires for every row
-- and every column; no "update of" list, so no kind of change is missed.
-- Postgres alters no table with pending trigger events: a transaction (a
-- later migration, say) that writes tenant_profiles and then alters it runs
-- `set constraints public.tenant_profiles_record_change immediate` between.
create constraint trigger tenant_profiles_record_change
  after insert or update or delete on public.tenant_profiles
  deferrable initially deferred
  for each row
  execute function public.record_tenant_change();

-- A trigger function needs no execute grant to fire.
revoke execute on function public.record_tenant_change() from public, anon, authenticated;
