-- Usage events: what each tenant consumed, for future billing.
--
-- Events are written only by trusted server code with the service role,
-- through public.log_usage_event(). Tenant owners may read their own tenant's
-- events; anon may not touch the table at all.

-- One billable or measurable event of a tenant.
create table public.usage_events (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenant_profiles (id) on delete restrict,
  user_id uuid references auth.users (id) on delete set null,
  event_type text not null
    constraint usage_events_event_type_format
    check (event_type ~ '^[a-z][a-z0-9_.]{0,62}$'),
  event_data jsonb not null default '{}'::jsonb
    constraint usage_events_event_data_object
    check (jsonb_typeof(event_data) = 'object'),
  tokens_used integer
    constraint usage_events_tokens_used_non_negative
    check (tokens_used >= 0),
  model_used text,
  created_at timestamptz not null default now()
);

comment on table public.usage_events is 'Usage per tenant (assessments, AI tokens, ...), written by the service role for billing.';
comment on column public.usage_events.tenant_id is 'Billed tenant. Deleting a tenant with usage is refused: deactivate it instead.';
comment on column public.usage_events.event_type is 'Lowercase dotted or snake_case name, e.g. assessment.completed.';

-- Billing and reporting filter by tenant, type and time.
create index usage_events_tenant_id_idx
  on public.usage_events (tenant_id);
create index usage_events_event_type_idx
  on public.usage_events (event_type);
create index usage_events_created_at_idx
  on public.usage_events (created_at);

alter table public.usage_events enable row level security;

-- Read-only for authenticated (rows limited by the policy below), nothing
-- for anon, everything for the service role.
revoke all on table public.usage_events from anon, authenticated;
grant select on table public.usage_events to authenticated;
grant all on table public.usage_events to service_role;

create policy "Usage events are viewable by their tenant owner"
  on public.usage_events
  for select
  to authenticated
  using (tenant_id in (select public.owned_tenant_ids()));

-- Records one usage event and returns its id. Security definer so that
-- trusted callers need no table grant; executable by the service role only.
create or replace function public.log_usage_event(
  p_tenant_id uuid,
  p_event_type text,
  p_event_data jsonb default '{}'::jsonb,
  p_tokens_used integer default null,
  p_model_used text default null,
  p_user_id uuid default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  event_id uuid;
begin
  insert into public.usage_events (tenant_id, user_id, event_type, event_data, tokens_used, model_used)
  values (p_tenant_id, p_user_id, p_event_type, coalesce(p_event_data, '{}'::jsonb), p_tokens_used, p_model_used)
  returning id into event_id;

  return event_id;
end;
$$;

comment on function public.log_usage_event(uuid, text, jsonb, integer, text, uuid) is 'Records a usage event for a tenant; service role only.';

revoke execute on function public.log_usage_event(uuid, text, jsonb, integer, text, uuid)
  from public, anon, authenticated;
grant execute on function public.log_usage_event(uuid, text, jsonb, integer, text, uuid)
  to service_role;
