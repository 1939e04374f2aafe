-- A tenant's owner switches their site into maintenance, and back.
--
-- While a coach reworks their site they may want visitors to see "back soon"
-- rather than a half-finished page. The switch is one column of
-- tenant_profiles, public.tenant_profiles.maintenance: null when it is off,
-- else exactly {"message": <1 to 500 characters, no control character>,
-- "retryAfterSeconds": <a whole number from 1 to 604800 (a week)>}. The
-- resolver reads it with the anon key beside the other public columns and,
-- while it is on, answers the tenant's pages with the message and
-- Retry-After instead of the app's (docs/control-plane.md, "Maintenance").
--
-- The owner writes it through two security definer functions that the
-- control plane calls with the coach's token, as it calls the brand's
-- (20261208000001):
--
--   tenant_maintenance(tenant_id)                  the switch as it is;
--   set_tenant_maintenance(tenant_id, maintenance) turns it on (the object above) or off (null).
--
-- Both answer {"on": bool, "message": text or null, "retryAfterSeconds":
-- int or null}, and first refuse a caller who does not own the tenant (42501
-- not_owner). The write spends the tenant's brand budget
-- (private.spend_brand_write: PT429 rate_limited when it is spent), refuses
-- a switch of another shape (22023 invalid_maintenance, the JSON Pointer of
-- the first wrong field in detail), and changes maintenance and nothing else.
--
-- Turning it on or off is a change of the tenant like any other: the change
-- feed (20261207001005, whose trigger fires on every column) records it, and
-- every data center re-reads the tenant within the feed's bound. It is not a
-- brand change: the brand version's triggers fire on display_name,
-- brand_config and brand_version only, so a maintenance switch makes no
-- brand version.

alter table public.tenant_profiles
  add column maintenance jsonb
    constraint tenant_profiles_maintenance_is_a_message_and_a_delay check (
      maintenance is null
      or case
        when pg_catalog.jsonb_typeof(maintenance) <> 'object' then false
        when (maintenance - 'message' - 'retryAfterSeconds') <> '{}'::jsonb then false
        when pg_catalog.jsonb_typeof(maintenance -> 'message') is distinct from 'string' then false
        when pg_catalog.jsonb_typeof(maintenance -> 'retryAfterSeconds') is distinct from 'number' then false
        when (maintenance ->> 'retryAfterSeconds') !~ '^[0-9]{1,6}$' then false
        else pg_catalog.char_length(maintenance ->> 'message') between 1 and 500
          and (maintenance ->> 'message') !~ '[\u0001-\u001f\u007f-\u009f]'
          and (maintenance ->> 'retryAfterSeconds')::integer between 1 and 604800
      end
    );

comment on column public.tenant_profiles.maintenance is 'The tenant''s maintenance switch: null when off, else {"message": 1 to 500 characters without control characters, "retryAfterSeconds": 1 to 604800}; public (the resolver answers the tenant''s pages with it), written by its owner through public.set_tenant_maintenance().';

-- A public column, as the other columns the resolver reads: the anon key and
-- signed-in users select it, of the one active tenant a request names (the
-- policy of 20261124000101 decides the rows).
grant select (maintenance) on table public.tenant_profiles to anon, authenticated;

-- Where a maintenance switch breaks its shape, as a JSON Pointer into it: null
-- when the CHECK above accepts it, '' when it is not an object (or has a key
-- it does not name). Fields in the order the control plane lists them.
create or replace function private.maintenance_problem(maintenance jsonb)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  if maintenance is null then
    return null;
  end if;
  if pg_catalog.jsonb_typeof(maintenance) <> 'object'
    or (maintenance - 'message' - 'retryAfterSeconds') <> '{}'::jsonb
  then
    return '';
  end if;
  if not coalesce(
    pg_catalog.jsonb_typeof(maintenance -> 'message') = 'string'
    and pg_catalog.char_length(maintenance ->> 'message') between 1 and 500
    and (maintenance ->> 'message') !~ '[\u0001-\u001f\u007f-\u009f]',
    false
  ) then
    return '/message';
  end if;
  if not coalesce(
    pg_catalog.jsonb_typeof(maintenance -> 'retryAfterSeconds') = 'number'
    and (maintenance ->> 'retryAfterSeconds') ~ '^[0-9]{1,6}$'
    and (maintenance ->> 'retryAfterSeconds')::integer between 1 and 604800,
    false
  ) then
    return '/retryAfterSeconds';
  end if;
  return null;
end;
$$;

comment on function private.maintenance_problem(jsonb) is 'Where a maintenance switch breaks its shape: a JSON Pointer (/message, /retryAfterSeconds), '''' for the document itself, null when tenant_profiles_maintenance_is_a_message_and_a_delay accepts it.';

revoke execute on function private.maintenance_problem(jsonb) from public, anon, authenticated;

-- What the owner functions answer: {"on", "message", "retryAfterSeconds"}.
create or replace function private.maintenance_of(tenant uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'on', t.maintenance is not null,
    'message', t.maintenance -> 'message',
    'retryAfterSeconds', t.maintenance -> 'retryAfterSeconds'
  )
  from public.tenant_profiles as t
  where t.id = tenant
$$;

comment on function private.maintenance_of(uuid) is 'A tenant''s maintenance switch as the owner functions answer it: {"on": bool, "message": text or null, "retryAfterSeconds": int or null}.';

revoke execute on function private.maintenance_of(uuid) from public, anon, authenticated;

-- The owner functions. Security definer, because owners hold no privilege to
-- write tenant_profiles; each checks first that the caller owns the tenant.

create or replace function public.tenant_maintenance(tenant_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_owner(tenant_id);
  return private.maintenance_of(tenant_id);
end;
$$;

comment on function public.tenant_maintenance(uuid) is 'An owner reads their tenant''s maintenance switch: {"on", "message", "retryAfterSeconds"} (null message and retryAfterSeconds when off).';

create or replace function public.set_tenant_maintenance(tenant_id uuid, maintenance jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  problem text;
begin
  perform private.require_owner(tenant_id);
  perform private.spend_brand_write(tenant_id);
  -- JSON null is off, as SQL null is.
  if maintenance = 'null'::jsonb then
    maintenance := null;
  end if;
  problem := private.maintenance_problem(maintenance);
  if problem is not null then
    raise exception 'the maintenance switch is not {"message": 1 to 500 characters, "retryAfterSeconds": 1 to 604800} at %',
      case when problem = '' then 'the document itself' else problem end
      using errcode = '22023', hint = 'invalid_maintenance', detail = problem;
  end if;
  update public.tenant_profiles as t
  set maintenance = set_tenant_maintenance.maintenance
  where t.id = set_tenant_maintenance.tenant_id;
  return private.maintenance_of(tenant_id);
end;
$$;

comment on function public.set_tenant_maintenance(uuid, jsonb) is 'An owner turns their tenant''s maintenance switch on ({"message", "retryAfterSeconds"}) or off (null), spending a brand write; answers as public.tenant_maintenance().';

-- Function privileges: Supabase grants execute on new functions to everyone.
-- Signed-in users only; the service role has no user, so it could only be
-- refused (not_owner).
revoke execute on function public.tenant_maintenance(uuid) from public, anon, authenticated, service_role;
revoke execute on function public.set_tenant_maintenance(uuid, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.tenant_maintenance(uuid) to authenticated;
grant execute on function public.set_tenant_maintenance(uuid, jsonb) to authenticated;
