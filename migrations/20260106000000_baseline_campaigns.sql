-- Baseline: the app's campaigns and campaign assignments.
--
-- The coaching module builds on two tables the app already has in production:
-- campaigns and campaign_assignments (first named stakeholder_sessions). This
-- migration creates them only where absent, so `supabase db push` works both
-- on a fresh project and on the existing database, whose tables and rows are
-- left as they are. On either, it then puts the same security in place: RLS
-- on, owner-only policies for authenticated, and no access at all for anon.

-- Random access tokens come from pgcrypto (present on every Supabase project).
create extension if not exists pgcrypto with schema extensions;

-- An existing database that predates the stakeholder_sessions rename.
do $$
begin
  if to_regclass('public.stakeholder_sessions') is not null
     and to_regclass('public.campaign_assignments') is null then
    alter table public.stakeholder_sessions rename to campaign_assignments;
  end if;
end
$$;

-- An assessment campaign run by one user.
create table if not exists public.campaigns (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  owner_id uuid not null references auth.users (id) on delete cascade,
  status text not null default 'draft'
    constraint campaigns_status_valid
    check (status in ('draft', 'active', 'completed', 'archived')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.campaigns is 'Assessment campaigns, each owned by one user.';

-- One participant invited to a campaign, reached through a private token.
create table if not exists public.campaign_assignments (
  id uuid primary key default gen_random_uuid(),
  campaign_id uuid not null references public.campaigns (id) on delete cascade,
  participant_email text not null,
  participant_name text,
  status text not null default 'pending'
    constraint campaign_assignments_status_valid
    check (status in ('pending', 'in_progress', 'completed')),
  access_token text not null unique
    default encode(extensions.gen_random_bytes(24), 'hex'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.campaign_assignments is 'Participants invited to a campaign.';

-- Policies look campaigns up by owner and assignments by campaign.
create index if not exists campaigns_owner_id_idx
  on public.campaigns (owner_id);
create index if not exists campaign_assignments_campaign_id_idx
  on public.campaign_assignments (campaign_id);

alter table public.campaigns enable row level security;
alter table public.campaign_assignments enable row level security;

-- Explicit grants instead of Supabase's defaults: anon gets nothing, and
-- authenticated gets row operations only (no truncate, which ignores RLS).
revoke all on table public.campaigns from anon, authenticated;
revoke all on table public.campaign_assignments from anon, authenticated;
grant select, insert, update, delete on table public.campaigns to authenticated;
grant select, insert, update, delete on table public.campaign_assignments to authenticated;
grant all on table public.campaigns to service_role;
grant all on table public.campaign_assignments to service_role;

-- Campaign policies: the owner manages their own campaigns.
drop policy if exists "Campaigns are viewable by their owner" on public.campaigns;
create policy "Campaigns are viewable by their owner"
  on public.campaigns
  for select
  to authenticated
  using (owner_id = (select auth.uid()));

drop policy if exists "Users can create their own campaigns" on public.campaigns;
create policy "Users can create their own campaigns"
  on public.campaigns
  for insert
  to authenticated
  with check (owner_id = (select auth.uid()));

drop policy if exists "Campaigns are editable by their owner" on public.campaigns;
create policy "Campaigns are editable by their owner"
  on public.campaigns
  for update
  to authenticated
  using (owner_id = (select auth.uid()))
  with check (owner_id = (select auth.uid()));

drop policy if exists "Campaigns are deletable by their owner" on public.campaigns;
create policy "Campaigns are deletable by their owner"
  on public.campaigns
  for delete
  to authenticated
  using (owner_id = (select auth.uid()));

-- Assignment policies: whoever owns the campaign manages its assignments.
drop policy if exists "Assignments are viewable by their campaign owner" on public.campaign_assignments;
create policy "Assignments are viewable by their campaign owner"
  on public.campaign_assignments
  for select
  to authenticated
  using (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
  );

drop policy if exists "Campaign owners can create assignments" on public.campaign_assignments;
create policy "Campaign owners can create assignments"
  on public.campaign_assignments
  for insert
  to authenticated
  with check (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
  );

drop policy if exists "Assignments are editable by their campaign owner" on public.campaign_assignments;
create policy "Assignments are editable by their campaign owner"
  on public.campaign_assignments
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
  );

drop policy if exists "Assignments are deletable by their campaign owner" on public.campaign_assignments;
create policy "Assignments are deletable by their campaign owner"
  on public.campaign_assignments
  for delete
  to authenticated
  using (
    campaign_id in (
      select id from public.campaigns where owner_id = (select auth.uid())
    )
  );
