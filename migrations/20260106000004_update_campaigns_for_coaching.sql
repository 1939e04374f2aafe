-- Campaigns for coaching: tenant, assessment type and results disclosure.
--
-- A coaching campaign belongs to a tenant, runs one kind of assessment and
-- decides how much of the results its participants see. Tenant owners may
-- read their tenant's campaigns; a campaign may only be placed in a tenant
-- its owner owns. Existing rows get the defaults (industry4, full).

-- The tenant running the campaign; null for campaigns outside coaching.
alter table public.campaigns
  add column tenant_id uuid references public.tenant_profiles (id) on delete set null;

-- Which assessment the campaign runs.
alter table public.campaigns
  add column assessment_type text not null default 'industry4'
    constraint campaigns_assessment_type_format
    check (assessment_type ~ '^[a-z0-9][a-z0-9_-]{0,62}$');

-- How much of their results participants see: full report, summary only, or
-- nothing (the coach debriefs them).
alter table public.campaigns
  add column results_disclosure text not null default 'full'
    constraint campaigns_results_disclosure_valid
    check (results_disclosure in ('full', 'summary', 'none'));

comment on column public.campaigns.tenant_id is 'Tenant running the campaign; null outside the coaching module.';
comment on column public.campaigns.assessment_type is 'Assessment run by the campaign, e.g. industry4.';
comment on column public.campaigns.results_disclosure is 'What participants see of their results: full, summary or none.';

-- Tenant policies filter on tenant_id.
create index campaigns_tenant_id_idx
  on public.campaigns (tenant_id);

-- Replace the owner-only read and write policies with tenant-aware ones.
drop policy if exists "Campaigns are viewable by their owner" on public.campaigns;
drop policy if exists "Users can create their own campaigns" on public.campaigns;
drop policy if exists "Campaigns are editable by their owner" on public.campaigns;

create policy "Campaigns are viewable by their owner or tenant owner"
  on public.campaigns
  for select
  to authenticated
  using (
    owner_id = (select auth.uid())
    or tenant_id in (select public.owned_tenant_ids())
  );

create policy "Users can create their own campaigns in their own tenants"
  on public.campaigns
  for insert
  to authenticated
  with check (
    owner_id = (select auth.uid())
    and (tenant_id is null or tenant_id in (select public.owned_tenant_ids()))
  );

create policy "Campaigns are editable by their owner within their own tenants"
  on public.campaigns
  for update
  to authenticated
  using (owner_id = (select auth.uid()))
  with check (
    owner_id = (select auth.uid())
    and (tenant_id is null or tenant_id in (select public.owned_tenant_ids()))
  );

-- Restate the grants: nothing for anon, row operations for authenticated.
revoke all on table public.campaigns from anon, authenticated;
grant select, insert, update, delete on table public.campaigns to authenticated;
