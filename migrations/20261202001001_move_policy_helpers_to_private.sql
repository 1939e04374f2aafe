-- Functions that only policies call live in a schema the Data API does not
-- expose: private.
--
-- PostgREST serves every function in public that a role may execute as
-- POST /rest/v1/rpc/<name>. owned_tenant_ids() is security definer (it reads
-- tenant_profiles.user_id, which authenticated may not), so any signed-up
-- user could call it directly: Supabase's Security Advisor reports it
-- (authenticated_security_definer_function_executable). It exists only for
-- the policies of campaigns, participant_sessions and usage_events, and
-- requested_tenant_lookup() only for the policy of tenant_profiles. Both move
-- to private, unchanged, with the same grants; the policies are altered to
-- call them there, and the copies in public are dropped (a drop that a
-- policy still depended on would fail this migration).
--
-- The API roles get usage on private, because a policy runs its functions as
-- the caller; they get no create, and private is not among the schemas the
-- API serves (supabase/config.toml [api] schemas), so nothing in it is an
-- endpoint. Every later policy helper belongs here too.

create schema if not exists private;

comment on schema private is 'Helpers of RLS policies: callable by the roles whose policies use them, never served by the Data API.';

revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;

-- Ids of the tenants the caller owns, for other tables' policies (which
-- cannot read tenant_profiles.user_id as authenticated). Security definer
-- for that reason; it returns only the caller's own tenants.
create or replace function private.owned_tenant_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select id
  from public.tenant_profiles
  where user_id = (select auth.uid())
$$;

comment on function private.owned_tenant_ids() is 'Ids of the tenants owned by the calling user (active or not); used by RLS policies.';

revoke execute on function private.owned_tenant_ids() from public, anon, service_role;
grant execute on function private.owned_tenant_ids() to authenticated;

-- The tenant lookup that the current request names (its x-tenant-lookup
-- header), or null. Any setting that is missing, empty or not JSON, or a
-- value that is not text, names no tenant: it must never fail the request.
create or replace function private.requested_tenant_lookup()
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

comment on function private.requested_tenant_lookup() is 'The tenant lookup named by the request''s x-tenant-lookup header (slug:<slug>, domain:<custom_domain> or id:<uuid>); null when it names none. Used by the tenant_profiles policy.';

revoke execute on function private.requested_tenant_lookup() from public;
grant execute on function private.requested_tenant_lookup() to anon, authenticated, service_role;

-- The policies, as they were, calling the helpers in private.
alter policy "Active tenant profiles are viewable by requests that name them"
  on public.tenant_profiles
  using (
    is_active
    and (select private.requested_tenant_lookup()) = any (array[
      'slug:' || slug,
      'domain:' || custom_domain,
      'id:' || id::text
    ])
  );

alter policy "Campaigns are viewable by their owner or tenant owner"
  on public.campaigns
  using (
    owner_id = (select auth.uid())
    or tenant_id in (select private.owned_tenant_ids())
  );

alter policy "Users can create their own campaigns in their own tenants"
  on public.campaigns
  with check (
    owner_id = (select auth.uid())
    and (tenant_id is null or tenant_id in (select private.owned_tenant_ids()))
  );

alter policy "Campaigns are editable by their owner within their own tenants"
  on public.campaigns
  using (owner_id = (select auth.uid()))
  with check (
    owner_id = (select auth.uid())
    and (tenant_id is null or tenant_id in (select private.owned_tenant_ids()))
  );

alter policy "Participant sessions are viewable by campaign or tenant owners"
  on public.participant_sessions
  using (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
    or tenant_id in (select private.owned_tenant_ids())
  );

alter policy "Campaign owners can add participant sessions to their tenants"
  on public.participant_sessions
  with check (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
    and (tenant_id is null or tenant_id in (select private.owned_tenant_ids()))
  );

alter policy "Participant sessions are editable by their campaign owner"
  on public.participant_sessions
  using (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
  )
  with check (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
    and (tenant_id is null or tenant_id in (select private.owned_tenant_ids()))
  );

alter policy "Usage events are viewable by their tenant owner"
  on public.usage_events
  using (tenant_id in (select private.owned_tenant_ids()));

-- No policy calls the copies in public any more: drop them, so that neither
-- is an RPC endpoint.
drop function public.owned_tenant_ids();
drop function public.requested_tenant_lookup();
