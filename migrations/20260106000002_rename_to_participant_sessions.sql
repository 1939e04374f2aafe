-- Participant sessions: campaign_assignments becomes the coaching pipeline.
--
-- Renames public.campaign_assignments to public.participant_sessions, keeping
-- every row, and adds the pipeline status and the owning tenant. The old names
-- stay readable through security_invoker views, so they never bypass RLS.
-- Access: the campaign owner keeps managing its sessions, the tenant owner
-- reads its tenant's sessions, anon gets nothing (on the table or the views).

alter table public.campaign_assignments rename to participant_sessions;

comment on table public.participant_sessions is 'Participants of a campaign and where each stands in the coaching pipeline.';

-- Rename the objects that still carry the old table name, where they exist.
alter index if exists public.campaign_assignments_pkey
  rename to participant_sessions_pkey;
alter index if exists public.campaign_assignments_access_token_key
  rename to participant_sessions_access_token_key;
alter index if exists public.campaign_assignments_campaign_id_idx
  rename to participant_sessions_campaign_id_idx;

do $$
begin
  if exists (
    select 1 from pg_catalog.pg_constraint
    where conrelid = 'public.participant_sessions'::regclass
      and conname = 'campaign_assignments_campaign_id_fkey'
  ) then
    alter table public.participant_sessions
      rename constraint campaign_assignments_campaign_id_fkey
      to participant_sessions_campaign_id_fkey;
  end if;
end
$$;

-- Where a participant stands in the coach's pipeline.
alter table public.participant_sessions
  add column client_status text not null default 'registered'
    constraint participant_sessions_client_status_valid
    check (client_status in (
      'registered', -- signed up, not started
      'started',    -- began the assessment
      'completed',  -- finished the assessment
      'contacted',  -- the coach reached out
      'converted',  -- became a paying client
      'archived'    -- not a fit
    ));

-- The tenant whose pipeline the session belongs to.
alter table public.participant_sessions
  add column tenant_id uuid references public.tenant_profiles (id) on delete set null;

comment on column public.participant_sessions.client_status is 'Pipeline status: registered, started, completed, contacted, converted or archived.';
comment on column public.participant_sessions.tenant_id is 'Owning tenant; null for sessions outside the coaching module.';

-- Pipeline queries: by tenant, by status, and by tenant and status.
create index participant_sessions_tenant_id_idx
  on public.participant_sessions (tenant_id);
create index participant_sessions_client_status_idx
  on public.participant_sessions (client_status);
create index participant_sessions_tenant_id_client_status_idx
  on public.participant_sessions (tenant_id, client_status);

-- Replace the baseline policies: one per operation, tenant-aware. A session
-- may only be placed in a tenant its writer owns (or in none).
drop policy if exists "Assignments are viewable by their campaign owner" on public.participant_sessions;
drop policy if exists "Campaign owners can create assignments" on public.participant_sessions;
drop policy if exists "Assignments are editable by their campaign owner" on public.participant_sessions;
drop policy if exists "Assignments are deletable by their campaign owner" on public.participant_sessions;

create policy "Participant sessions are viewable by campaign or tenant owners"
  on public.participant_sessions
  for select
  to authenticated
  using (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
    or tenant_id in (select public.owned_tenant_ids())
  );

create policy "Campaign owners can add participant sessions to their tenants"
  on public.participant_sessions
  for insert
  to authenticated
  with check (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
    and (tenant_id is null or tenant_id in (select public.owned_tenant_ids()))
  );

create policy "Participant sessions are editable by their campaign owner"
  on public.participant_sessions
  for update
  to authenticated
  using (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
  )
  with check (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
    and (tenant_id is null or tenant_id in (select public.owned_tenant_ids()))
  );

create policy "Participant sessions are deletable by their campaign owner"
  on public.participant_sessions
  for delete
  to authenticated
  using (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
  );

-- Backward-compatible names for code that still reads the old tables.
-- security_invoker: the caller's privileges and RLS apply, not the owner's.
create view public.campaign_assignments
  with (security_invoker = true)
  as select * from public.participant_sessions;

comment on view public.campaign_assignments is 'Deprecated: compatibility view over participant_sessions.';

create view public.stakeholder_sessions
  with (security_invoker = true)
  as select * from public.participant_sessions;

comment on view public.stakeholder_sessions is 'Deprecated: compatibility view over participant_sessions.';

-- Grants: the table keeps its baseline grants (nothing for anon); the views
-- would otherwise get Supabase's default ALL for anon.
revoke all on table public.participant_sessions from anon;
revoke all on table public.campaign_assignments from anon, authenticated;
revoke all on table public.stakeholder_sessions from anon, authenticated;
grant select, insert, update, delete on table public.campaign_assignments to authenticated;
grant select, insert, update, delete on table public.stakeholder_sessions to authenticated;
grant all on table public.campaign_assignments to service_role;
grant all on table public.stakeholder_sessions to service_role;
