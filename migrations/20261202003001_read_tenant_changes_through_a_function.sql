-- The change feed is read through one function, and no filter reaches its rows.
--
-- anon could read every row of tenant_changes with any filter PostgREST
-- offers, and one of them costs what the caller wants: a regular expression
-- with back-references,
--   GET /tenant_changes?select=tenant_hash&tenant_hash=match.^(.*)(.*)(.*)(.*)(.*)(.*)\6\5\4\3\2\1$
-- ran on each of five rows for the whole 3 s statement timeout, and forty at
-- once held PostgREST's connections so that the Worker's tenant lookups
-- answered 503. No column type is safe from it: PostgREST reads a JSON path on
-- any column as to_jsonb(column), and ->>0 of that is the column as text
-- (changed_at->>0=match.<pattern> stalls the same way), so the rows must be
-- out of reach of filters altogether.
--
-- Now the feed is one call,
--   POST /rpc/tenant_changes_since  {"since": "<ISO-8601 UTC>", "max_changes": 1000}
-- answering one JSON array, newest first, of the rows the Worker read before:
--   [{"changed_at": "<timestamptz>", "tenant_hash": "<64 hex digits>"}, ...]
-- A function that returns one value, not rows: PostgREST filters the rows of
-- a set-returning function (/rpc/f?col=match.... is `where col ~ ...` over
-- them), and has nothing to filter in a scalar. The function is security
-- invoker, like every function anon executes: anon keeps its select on
-- tenant_hash and changed_at, and row level security shows the rows only to
-- the function's own query: it opens that gate with a setting for its query
-- and closes it again before it returns (an error in between ends the
-- statement, and its transaction or savepoint undoes the setting). No
-- request can make that setting: PostgREST sets role, search_path, timezone
-- and the request.* settings, nothing else. (A SET clause would undo it by
-- itself, but only a superuser may put a custom setting in one, and on
-- hosted Supabase postgres is none.) A direct read of the table by anon or
-- authenticated is refused (42501) before any row is read, so a Worker that
-- still reads the table fails loudly instead of seeing no changes.

create schema if not exists private;

comment on schema private is 'Helpers of row level security policies: not exposed through the API.';

-- Policies run as the caller, who needs the schema to reach their helpers.
grant usage on schema private to anon, authenticated, service_role;

-- Whether the current query is tenant_changes_since() reading the feed; any
-- other reader is refused. Used by the tenant_changes policy, once per query.
create or replace function private.tenant_changes_are_read_through_the_function()
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if pg_catalog.current_setting('tenant_changes.reading', true) is distinct from 'on' then
    raise exception 'tenant changes are read through public.tenant_changes_since()'
      using errcode = '42501';
  end if;
  return true;
end;
$$;

comment on function private.tenant_changes_are_read_through_the_function() is 'True inside public.tenant_changes_since(); raises 42501 for any other read of tenant_changes. Used by its policy.';

revoke execute on function private.tenant_changes_are_read_through_the_function() from public;
grant execute on function private.tenant_changes_are_read_through_the_function() to anon, authenticated, service_role;

-- The changes of at most max_changes tenants (1000 at most) since `since`,
-- newest first, as one JSON array of {"tenant_hash", "changed_at"}.
create or replace function public.tenant_changes_since(since timestamptz, max_changes integer default 1000)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  changes jsonb;
begin
  perform pg_catalog.set_config('tenant_changes.reading', 'on', true);
  select coalesce(
    pg_catalog.jsonb_agg(
      pg_catalog.jsonb_build_object('tenant_hash', recent.tenant_hash, 'changed_at', recent.changed_at)
      order by recent.changed_at desc
    ),
    '[]'::jsonb
  )
  into changes
  from (
    select c.tenant_hash, c.changed_at
    from public.tenant_changes as c
    where c.changed_at >= since
    order by c.changed_at desc
    limit greatest(0, least(max_changes, 1000))
  ) as recent;
  perform pg_catalog.set_config('tenant_changes.reading', 'off', true);
  return changes;
end;
$$;

comment on function public.tenant_changes_since(timestamptz, integer) is 'The change feed: the newest changes (at most max_changes, at most 1000) since `since`, as a JSON array of {"tenant_hash", "changed_at"}, newest first. The only way the API reads tenant_changes.';

revoke execute on function public.tenant_changes_since(timestamptz, integer) from public;
grant execute on function public.tenant_changes_since(timestamptz, integer) to anon, authenticated, service_role;

drop policy "Tenant change times are readable by everyone" on public.tenant_changes;

create policy "Tenant changes are readable through tenant_changes_since()"
  on public.tenant_changes
  for select
  to anon, authenticated
  using ((select private.tenant_changes_are_read_through_the_function()));
