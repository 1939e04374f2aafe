-- The planner estimates one tenant for a request that names one, however
-- many tenants there are.
--
-- PostgREST answers Prefer: count=planned (and count=estimated) with the
-- planner's row estimate, computed from the table's statistics before row
-- level security hides anything. With the policy of 20261124000101 that
-- estimate was about 1.5% of the active tenants (the planner's default
-- selectivity for each of the policy's three comparisons), and a range
-- filter (slug=lt.m) scaled it by the histogram of that column: the anon key
-- that sees no row could still count the tenants and see how their slugs
-- and domains are spread.
--
-- The rule does not change: a request sees the active tenant it names in
-- x-tenant-lookup, nothing else. The policy now also says it as equalities
-- on the slug, custom_domain and id columns (each holds a value at most
-- once, so the planner expects about one row per equality, whatever the
-- table holds), beside the comparison it already made (which the planner
-- cannot estimate from statistics, 0.5% per alternative). Together they come
-- to less than one row, which the planner rounds up to one: every planned or
-- estimated count that anon or a signed-in user can ask for is 1, whatever
-- the number of tenants and whatever the filter. The equalities are also
-- what the slug, domain and id indexes can serve.
--
-- Refusing planned counts in a PostgREST pre-request function instead would
-- not hold: of two Prefer headers, request.headers (where such a function
-- reads them) keeps the last, and PostgREST applies count=planned from the
-- first; and a project has only one pre-request function.

-- The value of the current request's lookup (x-tenant-lookup) when it is of
-- this kind (slug, domain or id), or null. An id is returned only in its
-- canonical lowercase form, so a caller may cast it to uuid without an error.
create or replace function private.requested_tenant_key(kind text)
returns text
language sql
stable
security invoker
set search_path = ''
as $$
  select case
    when kind = 'id' then pg_catalog.substring(lookup.value, '^id:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$')
    when pg_catalog.starts_with(lookup.value, kind || ':') then pg_catalog.substr(lookup.value, pg_catalog.length(kind) + 2)
  end
  from (select private.requested_tenant_lookup() as value) as lookup
$$;

comment on function private.requested_tenant_key(text) is 'The value of the request''s tenant lookup (x-tenant-lookup) when it is of this kind (slug, domain or id; an id only as a canonical lowercase uuid), else null. Used by the tenant_profiles policy.';

-- Policies call it as the caller, so the API roles may execute it.
revoke execute on function private.requested_tenant_key(text) from public;
grant execute on function private.requested_tenant_key(text) to anon, authenticated, service_role;

alter policy "Active tenant profiles are viewable by requests that name them"
  on public.tenant_profiles
  using (
    is_active
    and (select private.requested_tenant_lookup()) = any (array[
      'slug:' || slug,
      'domain:' || custom_domain,
      'id:' || id::text
    ])
    and (
      slug = (select private.requested_tenant_key('slug'))
      or custom_domain = (select private.requested_tenant_key('domain'))
      or id = (select private.requested_tenant_key('id'))::uuid
    )
  );
