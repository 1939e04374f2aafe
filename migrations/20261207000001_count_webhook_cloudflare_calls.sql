-- Cloudflare calls that no single isolate can count are counted here.
--
-- The control plane stays inside Cloudflare's API limits: a cron run makes at
-- most CLOUDFLARE_CALLS_PER_RUN calls, counted by the run itself. A webhook
-- notice of a deployed certificate makes one more call (it reads the hostname
-- back, so the domain turns active within seconds), and notices arrive at
-- any isolate, as often as Cloudflare (or whoever holds the webhook secret)
-- sends them: only the database sees them all. So the control plane asks,
-- before each such call,
--   POST /rest/v1/rpc/spend_cloudflare_calls
--   {"kind": "webhook", "calls": 1, "per_minute": <CLOUDFLARE_CALLS_PER_RUN>}
-- which adds the calls to this minute's count of that kind and answers true
-- if they fit within per_minute (false, and nothing counted, if they do not);
-- on false it leaves the row to the next cron run.
--
-- The counts are the service role's alone: the table lives in private (not
-- served by the Data API), no API role but the service role has a privilege
-- on it, and only the service role may execute the function. The function is
-- security invoker: the service role bypasses row level security, which is on
-- all the same. Each call deletes the minutes before the current one, so the
-- table holds a row per kind at most, besides a minute being written.

create schema if not exists private;

grant usage on schema private to anon, authenticated, service_role;

-- Calls of one kind made to Cloudflare's API in one minute.
create table private.cloudflare_calls (
  kind text not null
    constraint cloudflare_calls_kind_format check (kind ~ '^[a-z][a-z_]{0,31}$'),
  minute timestamptz not null,
  calls integer not null default 0
    constraint cloudflare_calls_calls_not_negative check (calls >= 0),
  constraint cloudflare_calls_pkey primary key (kind, minute)
);

comment on table private.cloudflare_calls is 'Cloudflare API calls made per kind (webhook, ...) and minute, shared by every isolate of the control plane; written through public.spend_cloudflare_calls().';
comment on column private.cloudflare_calls.kind is 'What made the calls, e.g. webhook: each kind has its own budget.';
comment on column private.cloudflare_calls.minute is 'The minute counted, truncated (date_trunc(''minute'', now())).';
comment on column private.cloudflare_calls.calls is 'Calls counted in that minute, never more than the budget the caller gave.';

alter table private.cloudflare_calls enable row level security;

revoke all on table private.cloudflare_calls from public, anon, authenticated;
grant select, insert, update, delete on table private.cloudflare_calls to service_role;

-- The service role bypasses row level security; the policy says so for
-- readers of the schema (and Supabase's advisor): nobody else has a row.
create policy "Cloudflare call counts are kept by the service role"
  on private.cloudflare_calls
  for all
  to service_role
  using (true)
  with check (true);

-- Adds `calls` to this minute's count of `kind` if the count stays within
-- `per_minute`, atomically (concurrent callers queue on the row); whether it
-- did. Prunes the minutes before this one, skipping rows another call is
-- pruning.
create or replace function public.spend_cloudflare_calls(kind text, calls integer, per_minute integer)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  this_minute timestamptz := pg_catalog.date_trunc('minute', pg_catalog.now());
  counted integer;
begin
  if kind is null or kind !~ '^[a-z][a-z_]{0,31}$' then
    raise exception 'kind must be a lowercase name, e.g. webhook'
      using errcode = '22023';
  end if;
  if calls is null or calls < 1 or per_minute is null or per_minute < 1 then
    raise exception 'calls and per_minute must be positive'
      using errcode = '22023';
  end if;

  delete from private.cloudflare_calls
  where (cloudflare_calls.kind, cloudflare_calls.minute) in (
    select expired.kind, expired.minute
    from private.cloudflare_calls as expired
    where expired.minute < this_minute
    for update skip locked
  );

  if calls > per_minute then
    return false;
  end if;

  insert into private.cloudflare_calls as counts (kind, minute, calls)
  values (spend_cloudflare_calls.kind, this_minute, spend_cloudflare_calls.calls)
  on conflict on constraint cloudflare_calls_pkey do update
    set calls = counts.calls + excluded.calls
    where counts.calls + excluded.calls <= spend_cloudflare_calls.per_minute
  returning counts.calls into counted;

  return counted is not null;
end;
$$;

comment on function public.spend_cloudflare_calls(text, integer, integer) is 'Adds calls to this minute''s count of Cloudflare calls of kind if it stays within per_minute; whether it did. The service role''s only.';

revoke execute on function public.spend_cloudflare_calls(text, integer, integer) from public, anon, authenticated;
grant execute on function public.spend_cloudflare_calls(text, integer, integer) to service_role;
