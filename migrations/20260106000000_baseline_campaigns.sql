-- Baseline: the app's campaigns and campaign assignments.
--
-- The coaching module builds on two tables the app already has in production:
-- campaigns and campaign_assignments (first named stakeholder_sessions). This
-- migration creates them only where absent, so `supabase db push` works both
-- on a fresh project and on an existing database, whose rows and columns are
-- kept. An existing database may have an older, smaller shape: all it needs
-- is the two tables, each with an id. Whatever the later migrations rely on
-- and such a table lacks is added: columns, primary keys, the foreign key,
-- the id default. Existing rows get a column's default where it has one; the
-- columns existing rows cannot be given a value for (campaigns.name and
-- owner_id, participant_email) are added as nullable, while a fresh project
-- has them NOT NULL. On a fresh project, and on a database that already has
-- every column and key, those steps do nothing. On every database, it then
-- puts the same security in place: RLS on, owner-only policies for
-- authenticated, and no access at all for anon.

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

-- An existing campaigns table may lack columns: add them. Existing campaigns
-- have no known name or owner, so those two are nullable here; they are
-- visible to the service role only until an owner is set.
alter table public.campaigns
  add column if not exists name text,
  add column if not exists owner_id uuid references auth.users (id) on delete cascade,
  add column if not exists status text not null default 'draft'
    constraint campaigns_status_valid
    check (status in ('draft', 'active', 'completed', 'archived')),
  add column if not exists created_at timestamptz not null default now(),
  add column if not exists updated_at timestamptz not null default now();

-- The same for assignments. Existing rows have no known participant email,
-- so participant_email is nullable here; each existing row gets its own
-- random access token (the default is evaluated per row).
alter table public.campaign_assignments
  add column if not exists campaign_id uuid,
  add column if not exists participant_email text,
  add column if not exists participant_name text,
  add column if not exists status text not null default 'pending'
    constraint campaign_assignments_status_valid
    check (status in ('pending', 'in_progress', 'completed')),
  add column if not exists access_token text not null
    default encode(extensions.gen_random_bytes(24), 'hex')
    constraint campaign_assignments_access_token_key unique,
  add column if not exists created_at timestamptz not null default now(),
  add column if not exists updated_at timestamptz not null default now();

-- Keys an existing table may lack: a primary key on id (which the foreign
-- key needs on campaigns), a generated id for new rows, and the foreign key
-- from assignments to campaigns. An assignment whose campaign is gone is
-- kept: the foreign key then holds for new and changed rows only (NOT VALID)
-- until the orphans are dealt with.
do $$
declare
  t text;
begin
  foreach t in array array['campaigns', 'campaign_assignments'] loop
    if not exists (
      select 1 from pg_catalog.pg_constraint
      where conrelid = format('public.%I', t)::regclass and contype = 'p'
    ) then
      execute format('alter table public.%I add constraint %I primary key (id)', t, t || '_pkey');
    end if;
    if exists (
      select 1 from pg_catalog.pg_attribute
      where attrelid = format('public.%I', t)::regclass
        and attname = 'id' and atttypid = 'uuid'::regtype and not atthasdef
    ) then
      execute format('alter table public.%I alter column id set default gen_random_uuid()', t);
    end if;
  end loop;

  if not exists (
    select 1 from pg_catalog.pg_constraint
    where conrelid = 'public.campaign_assignments'::regclass
      and contype = 'f'
      and confrelid = 'public.campaigns'::regclass
  ) then
    alter table public.campaign_assignments
      add constraint campaign_assignments_campaign_id_fkey
      foreign key (campaign_id) references public.campaigns (id) on delete cascade
      not valid;
    begin
      alter table public.campaign_assignments
        validate constraint campaign_assignments_campaign_id_fkey;
    exception
      when foreign_key_violation then
        raise notice 'campaign_assignments has rows whose campaign is gone: kept, and campaign_assignments_campaign_id_fkey left NOT VALID';
    end;
  end if;
end
$$;

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
