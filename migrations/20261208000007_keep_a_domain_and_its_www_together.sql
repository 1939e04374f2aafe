-- A domain and its www serve one tenant.
--
-- A visitor reads example.com and www.example.com as one site, and the
-- resolver already sends www.<d> to the tenant of <d> when www.<d> is not a
-- domain of its own. Until now another tenant could still claim the other
-- name of the pair: one coach's apex, another's www. Now a claim of
-- www.<d> is refused while another tenant holds <d>, and a claim of <d>
-- while another tenant holds www.<d> (23505, hint pair_taken: the control
-- plane answers 409 pair_taken). To hold is what the unique index
-- tenant_domains_hostname_held means: a proven row that is pending,
-- active, moved or blocked. A pending claim holds nothing, so it blocks no
-- one, as before.
--
-- The check is a trigger on insert, so it holds for every writer (the
-- owner function add_tenant_domain, trusted code), and a refusal rolls the
-- whole call back: it spends none of the tenant's budget.

create or replace function private.refuse_another_tenants_pair()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (
    select 1
    from public.tenant_domains as d
    where d.tenant_id <> new.tenant_id
      and d.proven_at is not null
      and d.status in ('pending', 'active', 'moved', 'blocked')
      and d.hostname in (
        'www.' || new.hostname,
        case when new.hostname like 'www.%' then pg_catalog.substr(new.hostname, 5) end
      )
  ) then
    raise exception 'another account holds % with or without its www: a domain and its www serve one site', new.hostname
      using errcode = '23505', hint = 'pair_taken';
  end if;
  return new;
end;
$$;

comment on function private.refuse_another_tenants_pair() is 'Refuses a claim of www.<d> while another tenant holds <d>, and of <d> while another tenant holds www.<d> (23505 pair_taken).';

revoke execute on function private.refuse_another_tenants_pair() from public, anon, authenticated;

create trigger tenant_domains_refuse_another_tenants_pair
  before insert on public.tenant_domains
  for each row execute function private.refuse_another_tenants_pair();
