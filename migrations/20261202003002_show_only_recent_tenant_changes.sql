-- The anon key sees only the part of the change feed the Worker reads.
--
-- The feed keeps an hour of changes and is pruned only when a tenant is
-- written (20261124000201), so anon could count how many tenants changed in
-- the last hour, or since the last write however long ago that was. The
-- Worker reads the last 15 minutes (feed::WINDOW_MS in src/feed.rs), so anon
-- and authenticated now get the changes of the last 16 minutes: the window,
-- and a minute for the Worker's clock and the database's to disagree. Older
-- rows stay until the next write prunes them, for the service role only;
-- tenant_changes_since(<an hour ago>) answers the same 16 minutes. Keep the
-- interval at least the Worker's window: a change the Worker asks for and
-- does not get is a change it misses.

alter policy "Tenant changes are readable through tenant_changes_since()"
  on public.tenant_changes
  rename to "Recent tenant changes are readable through tenant_changes_since()";

alter policy "Recent tenant changes are readable through tenant_changes_since()"
  on public.tenant_changes
  using (
    (select private.tenant_changes_are_read_through_the_function())
    and changed_at >= pg_catalog.now() - interval '16 minutes'
  );
