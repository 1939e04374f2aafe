-- Tenant profiles are visible only to a request that names them.
--
-- The anon key ships to browsers, and with "Active tenant profiles are
-- viewable by everyone" one request (GET /tenant_profiles?select=slug,
-- custom_domain) listed every active tenant: the platform's customer list,
-- with their domains and branding. Now anon and authenticated see an active
-- tenant only in a request that names it, in the header x-tenant-lookup:
--   slug:<slug>, domain:<custom_domain> or id:<uuid, lowercase>
-- The Worker sends that header with each lookup, beside its usual filter
-- (slug=eq.<slug>, ...). PostgREST hands the request's headers to SQL as
-- JSON in the setting request.headers, and the policy compares the named
-- lookup with the row. A request that names no tenant sees no rows; a
-- request that names one sees at most that one, whatever else it filters.
-- Signed-in users are held to the same rule, since anyone can sign up;
-- owners still read their own rows, every column, through
-- public.my_tenant_profile().
--
-- Why a header policy rather than narrow security-definer RPCs (lookup by
-- slug, by domain, by id): it keeps a single read path, the table itself,
-- guarded by the column grants and RLS that are already tested, so the Worker
-- keeps its PostgREST queries; and it keeps the invariant that anon executes
-- no security-definer function. Column grants are unchanged.

-- The tenant lookup that the current request names (its x-tenant-lookup
-- header), or null. Any setting that is missing, empty or not JSON, or a
-- value that is not text, names no tenant: it must never fail the request.
create or replace function public.requested_tenant_lookup()
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return nullif(current_setting('request.headers', true)::json ->> 'x-tenant-lookup', '');
exception
  when others then
    return null;
end;
$$;

comment on function public.requested_tenant_lookup() is 'The tenant lookup named by the request''s x-tenant-lookup header (slug:<slug>, domain:<custom_domain> or id:<uuid>); null when it names none. Used by the tenant_profiles policy.';

-- Policies call it as the caller, so the API roles may execute it.
revoke execute on function public.requested_tenant_lookup() from public;
grant execute on function public.requested_tenant_lookup() to anon, authenticated, service_role;

-- One policy for reading, as before; only the rows it shows change. The
-- lookup is evaluated once per query (select ..., compared with = any rather
-- than in, which would repeat it per alternative), and slug, custom_domain and
-- id are all indexed for the filter the Worker sends beside it.
drop policy if exists "Active tenant profiles are viewable by everyone" on public.tenant_profiles;

create policy "Active tenant profiles are viewable by requests that name them"
  on public.tenant_profiles
  for select
  to anon, authenticated
  using (
    is_active
    and (select public.requested_tenant_lookup()) = any (array[
      'slug:' || slug,
      'domain:' || custom_domain,
      'id:' || id::text
    ])
  );
