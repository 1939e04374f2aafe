-- Invariants of the whole public schema, so that the next migration cannot
-- quietly break the security model:
--   * every table has RLS on, every view is security_invoker;
--   * every security definer function pins its search_path;
--   * policies always name their roles (never the implicit PUBLIC);
--   * anon holds no table, view, sequence or security definer privilege
--     (but tenant_preview(key), whose key is the capability) beyond
--     column privileges on tenant_profiles (its public columns),
--     tenant_changes (tenant_hash and changed_at), tenant_domains (the active
--     domain a request names) and domain_challenges (Cloudflare's ownership
--     check at the exact path a request names), and those are select only;
--   * no API role may TRUNCATE (which bypasses RLS), REFERENCES or TRIGGER.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(10);

select is_empty(
  $$
    select c.relname
    from pg_catalog.pg_class c
    where c.relnamespace = 'public'::regnamespace
      and c.relkind in ('r', 'p')
      and not c.relrowsecurity
  $$,
  'every table in public has RLS enabled'
);

select is_empty(
  $$
    select c.relname
    from pg_catalog.pg_class c
    where c.relnamespace = 'public'::regnamespace
      and c.relkind = 'v'
      and not coalesce('security_invoker=true' = any (c.reloptions), false)
  $$,
  'every view in public is security_invoker'
);

select is_empty(
  $$
    select p.oid::regprocedure::text
    from pg_catalog.pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.prosecdef
      and not exists (
        select 1 from unnest(p.proconfig) as setting where setting like 'search_path=%'
      )
  $$,
  'every security definer function in public sets search_path'
);

select is_empty(
  $$
    select p.tablename || ': ' || p.policyname
    from pg_catalog.pg_policies p
    where p.schemaname = 'public'
      and 'public' = any (p.roles)
  $$,
  'every policy names its roles'
);

select is_empty(
  $$
    select c.relname
    from pg_catalog.pg_class c
    where c.relnamespace = 'public'::regnamespace
      and c.relkind in ('r', 'p', 'v', 'm', 'f')
      and has_table_privilege('anon', c.oid, 'select, insert, update, delete, truncate, references, trigger')
  $$,
  'anon holds no table-wide privilege on any table or view in public'
);

select is_empty(
  $$
    select c.relname
    from pg_catalog.pg_class c
    where c.relnamespace = 'public'::regnamespace
      and c.relkind in ('r', 'p', 'v', 'm', 'f')
      and c.oid not in ('public.tenant_profiles'::regclass, 'public.tenant_changes'::regclass, 'public.tenant_domains'::regclass, 'public.domain_challenges'::regclass)
      and has_any_column_privilege('anon', c.oid, 'select, insert, update, references')
  $$,
  'anon holds column privileges on tenant_profiles, tenant_changes, tenant_domains and domain_challenges only'
);

select is_empty(
  $$
    select c.relname
    from pg_catalog.pg_class c
    where c.relnamespace = 'public'::regnamespace
      and c.relkind in ('r', 'p', 'v', 'm', 'f')
      and has_any_column_privilege('anon', c.oid, 'insert, update, references')
  $$,
  'anon holds no insert, update or references privilege on any column in public'
);

select is_empty(
  $$
    select c.relname
    from pg_catalog.pg_class c
    where c.relnamespace = 'public'::regnamespace
      and case
        when c.relkind = 'S' then has_sequence_privilege('anon', c.oid, 'usage, select, update')
        else false
      end
  $$,
  'anon holds no privilege on any sequence in public'
);

select is_empty(
  $$
    select p.oid::regprocedure::text
    from pg_catalog.pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.prosecdef
      and has_function_privilege('anon', p.oid, 'execute')
      -- 20261208000003: a preview key is the capability (24_maintenance_and_previews.sql)
      and p.oid <> 'public.tenant_preview(text)'::regprocedure
  $$,
  'anon cannot execute any security definer function in public but tenant_preview(key)'
);

select is_empty(
  $$
    select r.rolname || ' on ' || c.relname
    from pg_catalog.pg_class c
    cross join (values ('anon'), ('authenticated')) as r (rolname)
    where c.relnamespace = 'public'::regnamespace
      and c.relkind in ('r', 'p', 'v')
      and has_table_privilege(r.rolname, c.oid, 'truncate, references, trigger')
  $$,
  'anon and authenticated hold no truncate, references or trigger privilege'
);

select * from finish();
rollback;
