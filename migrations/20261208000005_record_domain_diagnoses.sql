-- The DNS doctor's last verdict per domain.
--
-- The control plane looks a coach's DNS up itself (DNS over HTTPS) when the
-- coach reads their domains and on each cron run for domains not active yet,
-- and turns what it finds, with Cloudflare's states, into one verdict: a code
-- (ready, cname_missing, cname_elsewhere, ...), one sentence of fix, and where
-- the name points when that is the problem. Each lookup is an upstream call,
-- so the last verdict is kept here and made again only once older than a
-- minute (or than the domain's last change): reading the domains is never a
-- way to flood the resolver.
--
-- A table of its own, not columns of tenant_domains: a verdict is not a
-- change of the domain, so writing one neither stamps the row's updated_at
-- (which a Cloudflare notice is compared with) nor records a change in the
-- feed. The service role (the control plane) writes it; a domain's owner
-- reads it, as they read the domain (GET /rest/v1/tenant_domains?select=*,
-- tenant_domain_diagnoses(*)); the anon key nothing. It goes with its domain.

create table public.tenant_domain_diagnoses (
  domain_id uuid primary key
    references public.tenant_domains (id) on delete cascade,
  code text not null
    constraint tenant_domain_diagnoses_code_format check (code ~ '^[a-z][a-z_]{0,47}$'),
  fix text not null
    constraint tenant_domain_diagnoses_fix_length check (char_length(fix) between 1 and 1000),
  points_to text
    constraint tenant_domain_diagnoses_points_to_length check (char_length(points_to) <= 1000),
  checked_at timestamptz not null default now()
);

comment on table public.tenant_domain_diagnoses is 'The DNS doctor''s last verdict on a domain (one row per tenant_domains row): written by the control plane with the service role, read by the domain''s owner.';
comment on column public.tenant_domain_diagnoses.code is 'The verdict''s machine code: ready, proof_missing, cname_missing, cname_elsewhere, apex_needs_flattening, caa_blocks_certificate, stale_acme_challenge, proxied_by_another_cloudflare_account, certificate_pending, unknown (docs/control-plane.md).';
comment on column public.tenant_domain_diagnoses.fix is 'One sentence: what the coach does about it.';
comment on column public.tenant_domain_diagnoses.points_to is 'Where the name points instead of the platform (a CNAME''s target, or addresses), when that is the problem.';
comment on column public.tenant_domain_diagnoses.checked_at is 'When the DNS was looked up.';

alter table public.tenant_domain_diagnoses enable row level security;

revoke all on table public.tenant_domain_diagnoses from anon, authenticated;
grant select on table public.tenant_domain_diagnoses to authenticated;
grant all on table public.tenant_domain_diagnoses to service_role;

create policy "Domain diagnoses are viewable by their domain's owner"
  on public.tenant_domain_diagnoses
  for select
  to authenticated
  using (
    domain_id in (
      select d.id from public.tenant_domains d
      where d.tenant_id in (select private.owned_tenant_ids())
    )
  );
