-- The anon key learns nothing of a domain that is not active but the body of
-- Cloudflare's ownership check, at that check's exact path.
--
-- A request naming domain:<hostname> showed the anon key every row of that
-- hostname, whatever its status, with its tenant_id: anyone could learn who
-- was moving to which domain before it went live, and see every pending
-- claim of a name. Now:
--
-- - tenant_domains shows the anon key only the active row of the hostname a
--   request names: the tenant a live domain serves, which its visitors see
--   anyway. (A Worker of before this migration reads active domains as it
--   did; the Worker reads a domain's tenant through tenant_profiles, whose
--   policy has asked private.tenant_named_by_domain() since 20261202004001.)
-- - Cloudflare's HTTP ownership check, which the Worker answers on any
--   hostname whatever its status, is read from public.domain_challenges: the
--   hostname, the path and the body, nothing else (no tenant, no status), and
--   only by a request naming that exact path,
--     x-tenant-lookup: challenge:<hostname><path>
--   The database keeps it from tenant_domains' ownership_http_path and
--   ownership_http_body, which stay where the control plane writes them.
-- - The lookups by hostname use an index: private.tenant_named_by_domain()
--   compared a concatenation, which no index serves (85 ms for an unknown
--   host at 200,000 rows).

create index tenant_domains_hostname_idx on public.tenant_domains (hostname);

alter policy "Tenant domains are viewable by requests that name them"
  on public.tenant_domains
  rename to "Active tenant domains are viewable by requests that name them";

alter policy "Active tenant domains are viewable by requests that name them"
  on public.tenant_domains
  using (
    status = 'active'
    and hostname = (select private.requested_tenant_key('domain'))
  );

create or replace function private.tenant_named_by_domain()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select d.tenant_id
  from public.tenant_domains as d
  where d.hostname = (select private.requested_tenant_key('domain'))
    and d.status = 'active'
$$;

-- What Cloudflare's HTTP ownership check of a hostname answers.
create table public.domain_challenges (
  domain_id uuid primary key references public.tenant_domains (id) on delete cascade,
  hostname text not null,
  path text not null,
  body text not null
);

comment on table public.domain_challenges is 'Cloudflare''s HTTP ownership checks of tenant_domains, kept by the database from its ownership_http_path and ownership_http_body: what the anon key may read of a domain that is not active, at the exact path only.';

create index domain_challenges_hostname_path_idx on public.domain_challenges (hostname, path);

alter table public.domain_challenges enable row level security;

revoke all on table public.domain_challenges from anon, authenticated;
grant select (hostname, path, body) on table public.domain_challenges to anon;
grant all on table public.domain_challenges to service_role;

-- The equality on hostname is what the index and the planner's estimate use;
-- the concatenation holds the request to the exact path.
create policy "Domain challenges are viewable by requests that name their exact path"
  on public.domain_challenges
  for select
  to anon
  using (
    hostname = pg_catalog.split_part((select private.requested_tenant_key('challenge')), '/', 1)
    and hostname || path = (select private.requested_tenant_key('challenge'))
  );

create or replace function private.project_domain_challenge()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.ownership_http_path is null or new.ownership_http_body is null then
    delete from public.domain_challenges where domain_id = new.id;
  else
    insert into public.domain_challenges as c (domain_id, hostname, path, body)
    values (new.id, new.hostname, new.ownership_http_path, new.ownership_http_body)
    on conflict (domain_id) do update
    set hostname = excluded.hostname, path = excluded.path, body = excluded.body
    where (c.hostname, c.path, c.body) is distinct from (excluded.hostname, excluded.path, excluded.body);
  end if;
  return null;
end;
$$;

comment on function private.project_domain_challenge() is 'Trigger function: keeps public.domain_challenges in step with a tenant_domains row''s ownership check.';

revoke execute on function private.project_domain_challenge() from public, anon, authenticated;

create trigger tenant_domains_project_challenge
  after insert or update of hostname, ownership_http_path, ownership_http_body on public.tenant_domains
  for each row
  execute function private.project_domain_challenge();

insert into public.domain_challenges (domain_id, hostname, path, body)
select id, hostname, ownership_http_path, ownership_http_body
from public.tenant_domains
where ownership_http_path is not null and ownership_http_body is not null;
