// The anon key's access to the change feed, as the feed's migrations grant it: revoked, it is
// the outage an operator causes by hand (tests/resilience.test.mjs, bench/outage.mjs).

/** Takes the anon (and authenticated) key's read of the feed away. */
export const REVOKE_FEED = 'revoke select (tenant_hash, changed_at) on table public.tenant_changes from anon, authenticated';
/** Gives it back, as the migrations grant it. */
export const GRANT_FEED = 'grant select (tenant_hash, changed_at) on table public.tenant_changes to anon, authenticated';
