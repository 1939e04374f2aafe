-- One coach's writes cannot cost the others: each tenant's owner functions
-- change its domains at a bounded rate.
--
-- Every change of tenant_domains is a change-feed entry that makes every data
-- center re-read that tenant, and every domain that reaches Cloudflare costs
-- the control plane's shared call budget. A coach looping add/remove or
-- set_primary through the API (or straight at /rest/v1/rpc/, with their
-- token) made hundreds of changes a second. The limit lives here, in the
-- functions, so the control plane's API and direct RPC calls are bound
-- alike: a token bucket per tenant of 20 changes, refilled by one every 10
-- seconds (a burst of 20, then 6 a minute). A call that changes nothing
-- (setting the primary that is already primary) or that is refused spends
-- nothing; one past the limit is refused with 429 (PT429, hint rate_limited,
-- the seconds to wait in detail) and writes nothing.

create table private.owner_write_budgets (
  tenant_id uuid primary key references public.tenant_profiles (id) on delete cascade,
  tokens double precision not null,
  refilled_at timestamptz not null
);

comment on table private.owner_write_budgets is 'Per-tenant token buckets of the owner functions'' domain changes.';


-- In private, which the Data API does not serve, and no API role's: row level
-- security would guard nothing (and leave a policy-less table for the advisor).
revoke all on table private.owner_write_budgets from public, anon, authenticated;

-- Spends one change of the tenant's budget, or refuses (PT429) when none is
-- left; the refusal undoes the spend with the rest of the call.
create or replace function private.spend_owner_write(tenant uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  capacity constant double precision := 20;
  seconds_per_change constant double precision := 10;
  remaining double precision;
begin
  insert into private.owner_write_budgets as b (tenant_id, tokens, refilled_at)
  values (tenant, capacity - 1, pg_catalog.now())
  on conflict (tenant_id) do update
  set tokens = least(
        capacity,
        b.tokens + extract(epoch from pg_catalog.now() - b.refilled_at)::double precision / seconds_per_change
      ) - 1,
      refilled_at = pg_catalog.now()
  returning b.tokens into remaining;
  if remaining < 0 then
    raise exception 'too many domain changes for this tenant: try again in % seconds', pg_catalog.ceil(-remaining * seconds_per_change)
      using errcode = 'PT429', hint = 'rate_limited',
        detail = pg_catalog.ceil(-remaining * seconds_per_change)::text;
  end if;
end;
$$;

comment on function private.spend_owner_write(uuid) is 'Spends one domain change of a tenant''s budget (20, one more every 10 s), or refuses with PT429 rate_limited.';

revoke execute on function private.spend_owner_write(uuid) from public, anon, authenticated;
