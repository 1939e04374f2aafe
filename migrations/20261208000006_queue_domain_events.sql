-- Every status change of a custom domain is queued for the app, to be told.
--
-- When a domain turns active, fails, is moved away, blocked or removed, the
-- app behind the platform wants to know (to e-mail the coach). The control
-- plane tells it: a signed JSON webhook to DOMAIN_EVENTS_URL
-- (docs/control-plane.md, "Domain events"). Whoever changes the status (the
-- cron, the webhook, a coach's removal, an operator by hand), a trigger on
-- public.tenant_domains queues one event per change here, in the same
-- transaction as the change: an event is never lost, whatever the app's
-- state, and never made for a change that was rolled back.
--
--   insert with a status other than pending   domain.<status>, previous status null
--   update that changes status                domain.<new status>
--   delete of a row not removing              domain.removed (a tenant deleted, a row by hand)
--
-- with `removing` told as domain.removed, every other status as itself
-- (domain.active, domain.failed, domain.moved, domain.blocked, domain.pending).
-- An update of any other column queues nothing.
--
-- The control plane delivers them on each cron run, as the service role:
--
--   claim_domain_events(max_events)  the due events, oldest first, at most one per hostname
--                                    (the oldest not settled: a hostname's events go out in
--                                    order), each leased for 5 minutes and its attempt counted;
--   settle_domain_event(event_id, outcome, retry_in_seconds, detail)
--                                    delivered, retry (due again in retry_in_seconds) or
--                                    given_up; what the app said, for the operator.
--
-- A run that dies between the two leaves its events leased: due again 5
-- minutes later (delivery is at least once; the event id is the app's key to
-- deduplicate). The back-off and when to give up are the control plane's
-- (control/src/notify.rs). Each new event prunes events older than 30 days,
-- settled or not, so the queue stays bounded even when nothing delivers it
-- (DOMAIN_EVENTS_URL unset).
--
-- The queue is the service role's alone: it lives in private (not served by
-- the Data API), no API role but the service role has a privilege on it, and
-- only the service role may execute the two functions (security invoker: the
-- service role bypasses row level security, which is on all the same). The
-- trigger function is security definer, so a coach's removal (an owner
-- function) queues its event too.

create schema if not exists private;

grant usage on schema private to anon, authenticated, service_role;

-- The status changes of tenant_domains, to be told to the app.
create table private.domain_events (
  id uuid primary key default gen_random_uuid(),
  seq bigint generated always as identity
    constraint domain_events_seq_key unique,
  type text not null
    constraint domain_events_type_format check (type ~ '^domain\.[a-z_]{1,32}$'),
  domain_id uuid not null,
  tenant_id uuid not null,
  hostname text not null
    constraint domain_events_hostname_length check (char_length(hostname) between 1 and 253),
  status text,
  previous_status text,
  reason text
    constraint domain_events_reason_length check (char_length(reason) <= 1000),
  occurred_at timestamptz not null default now(),
  attempts integer not null default 0
    constraint domain_events_attempts_not_negative check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  delivered_at timestamptz,
  given_up_at timestamptz,
  last_error text
    constraint domain_events_last_error_length check (char_length(last_error) <= 1000),
  constraint domain_events_settled_once check (delivered_at is null or given_up_at is null)
);

comment on table private.domain_events is 'Status changes of tenant_domains, queued by a trigger, told to the app (DOMAIN_EVENTS_URL) by the control plane; settled once delivered or given up.';
comment on column private.domain_events.id is 'The event''s id: the same on every attempt, the app''s key to deduplicate.';
comment on column private.domain_events.seq is 'Order of queueing: a hostname''s events are delivered in this order.';
comment on column private.domain_events.type is 'domain.<status> (removing is domain.removed), as sent.';
comment on column private.domain_events.domain_id is 'The tenant_domains row (no foreign key: the row may be gone).';
comment on column private.domain_events.reason is 'The row''s first verification error when it changed: why it failed, for the coach.';
comment on column private.domain_events.occurred_at is 'When the status changed (the transaction''s time): the event''s at.';
comment on column private.domain_events.attempts is 'Deliveries tried (counted when claimed).';
comment on column private.domain_events.next_attempt_at is 'When the event is due: now when queued, later while leased or backing off.';
comment on column private.domain_events.last_error is 'What the last failed attempt met (the app''s status, a timeout), for the operator.';

-- The due events of the hostnames with something to send; the pruning.
create index domain_events_unsettled_idx on private.domain_events (hostname, seq)
  where delivered_at is null and given_up_at is null;
create index domain_events_occurred_at_idx on private.domain_events (occurred_at);

alter table private.domain_events enable row level security;

revoke all on table private.domain_events from public, anon, authenticated;
grant select, insert, update, delete on table private.domain_events to service_role;

-- The service role bypasses row level security; the policy says so for
-- readers of the schema (and Supabase's advisor): nobody else has a row.
create policy "Domain events are delivered by the service role"
  on private.domain_events
  for all
  to service_role
  using (true)
  with check (true);

-- Queues the event of a tenant_domains status change (see the header), and
-- prunes events older than 30 days.
create or replace function private.queue_domain_event()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  row_now public.tenant_domains;
  row_before public.tenant_domains;
  told_status text;
begin
  if tg_op = 'INSERT' then
    row_now := new;
    if new.status = 'pending' then
      return null;
    end if;
  elsif tg_op = 'UPDATE' then
    row_now := new;
    row_before := old;
    if new.status is not distinct from old.status then
      return null;
    end if;
  else
    row_before := old;
    if old.status = 'removing' then
      return null;
    end if;
  end if;

  told_status := case when tg_op = 'DELETE' then 'removing' else row_now.status end;

  delete from private.domain_events
  where occurred_at < pg_catalog.now() - interval '30 days';

  insert into private.domain_events
    (type, domain_id, tenant_id, hostname, status, previous_status, reason)
  values (
    'domain.' || case told_status when 'removing' then 'removed' else told_status end,
    coalesce(row_now.id, row_before.id),
    coalesce(row_now.tenant_id, row_before.tenant_id),
    coalesce(row_now.hostname, row_before.hostname),
    told_status,
    row_before.status,
    pg_catalog.left((coalesce(row_now.verification_errors, row_before.verification_errors))[1], 1000)
  );
  return null;
end;
$$;

comment on function private.queue_domain_event() is 'Trigger function: queues one domain_events row per status change of tenant_domains (none for other columns), and prunes events older than 30 days.';

revoke execute on function private.queue_domain_event() from public, anon, authenticated;

create trigger queue_domain_event_on_insert
  after insert on public.tenant_domains
  for each row
  when (new.status <> 'pending')
  execute function private.queue_domain_event();

create trigger queue_domain_event_on_status
  after update of status on public.tenant_domains
  for each row
  when (new.status is distinct from old.status)
  execute function private.queue_domain_event();

create trigger queue_domain_event_on_delete
  after delete on public.tenant_domains
  for each row
  when (old.status <> 'removing')
  execute function private.queue_domain_event();

-- The due events, at most `max_events`, oldest first and at most one per
-- hostname (its oldest not settled: a later one waits until it is), each
-- leased for 5 minutes (not due meanwhile) and its attempt counted. `at` is
-- occurred_at in RFC 3339 UTC with milliseconds, as sent; `age_seconds` how
-- long ago the change was, by the database's clock.
create or replace function public.claim_domain_events(max_events integer)
returns table (
  id uuid,
  type text,
  domain_id uuid,
  tenant_id uuid,
  hostname text,
  status text,
  previous_status text,
  reason text,
  at text,
  attempts integer,
  age_seconds double precision
)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
#variable_conflict use_column
begin
  if max_events is null or max_events < 1 or max_events > 100 then
    raise exception 'max_events must be from 1 to 100'
      using errcode = '22023';
  end if;

  return query
  with due as (
    select e.id
    from private.domain_events as e
    where e.delivered_at is null
      and e.given_up_at is null
      and e.next_attempt_at <= pg_catalog.now()
      and not exists (
        select 1
        from private.domain_events as earlier
        where earlier.hostname = e.hostname
          and earlier.seq < e.seq
          and earlier.delivered_at is null
          and earlier.given_up_at is null
      )
    order by e.seq
    limit max_events
    for update skip locked
  ),
  leased as (
    update private.domain_events as e
    set attempts = e.attempts + 1,
        next_attempt_at = pg_catalog.now() + interval '5 minutes'
    from due
    where e.id = due.id
    returning e.*
  )
  select l.id, l.type, l.domain_id, l.tenant_id, l.hostname, l.status, l.previous_status, l.reason,
    pg_catalog.to_char(l.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    l.attempts,
    extract(epoch from pg_catalog.now() - l.occurred_at)::double precision
  from leased as l
  order by l.seq;
end;
$$;

comment on function public.claim_domain_events(integer) is 'The due domain events, oldest first, one per hostname, leased for 5 minutes and their attempt counted. The service role''s only.';

revoke execute on function public.claim_domain_events(integer) from public, anon, authenticated;
grant execute on function public.claim_domain_events(integer) to service_role;

-- Settles an attempt at event `event_id`: `delivered`, `retry` (due again in
-- `retry_in_seconds`) or `given_up`, with what the app said (`detail`).
-- Whether it applied: an event already settled is left as it is.
create or replace function public.settle_domain_event(
  event_id uuid,
  outcome text,
  retry_in_seconds integer default null,
  detail text default null
)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  matched boolean;
begin
  if outcome is null or outcome not in ('delivered', 'retry', 'given_up') then
    raise exception 'outcome must be delivered, retry or given_up'
      using errcode = '22023';
  end if;
  if outcome = 'retry' and (retry_in_seconds is null or retry_in_seconds < 0 or retry_in_seconds > 86400) then
    raise exception 'a retry needs retry_in_seconds from 0 to 86400'
      using errcode = '22023';
  end if;

  update private.domain_events as e
  set delivered_at = case when outcome = 'delivered' then pg_catalog.now() end,
      given_up_at = case when outcome = 'given_up' then pg_catalog.now() end,
      next_attempt_at = case
        when outcome = 'retry' then pg_catalog.now() + pg_catalog.make_interval(secs => retry_in_seconds)
        else e.next_attempt_at
      end,
      last_error = case when outcome = 'delivered' then null else pg_catalog.left(detail, 1000) end
  where e.id = event_id
    and e.delivered_at is null
    and e.given_up_at is null
  returning true into matched;

  return coalesce(matched, false);
end;
$$;

comment on function public.settle_domain_event(uuid, text, integer, text) is 'Records an attempt at a domain event: delivered, retry (due again in retry_in_seconds) or given_up; whether it applied. The service role''s only.';

revoke execute on function public.settle_domain_event(uuid, text, integer, text) from public, anon, authenticated;
grant execute on function public.settle_domain_event(uuid, text, integer, text) to service_role;
