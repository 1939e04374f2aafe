-- Index the one foreign key without an index: usage_events.user_id.
--
-- Deleting an auth user sets usage_events.user_id to null (on delete set
-- null), and without an index that scans the whole table for each deleted
-- user; per-user usage reports filter on it too. Supabase's Performance
-- Advisor reports it (unindexed_foreign_keys). Every other foreign key of
-- the schema already has an index on exactly its columns.

create index if not exists usage_events_user_id_idx
  on public.usage_events (user_id);
