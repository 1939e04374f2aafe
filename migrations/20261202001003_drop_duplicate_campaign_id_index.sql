-- Drop indexes identical to participant_sessions_campaign_id_idx.
--
-- The app's existing database indexed stakeholder_sessions (campaign_id)
-- before Story 1.1 as stakeholder_sessions_campaign_id_idx; the baseline
-- migration adds its own index on the column under its own name, so there
-- the table carries two identical indexes: every write maintains both, and
-- Supabase's Performance Advisor reports them (duplicate_index). Any index
-- of participant_sessions with exactly the definition of
-- participant_sessions_campaign_id_idx (same columns, operator classes,
-- collations, access method, no predicate or expression) goes; the one the
-- migrations name stays. On a fresh project there is none, and nothing
-- happens.

do $$
declare
  kept constant regclass := to_regclass('public.participant_sessions_campaign_id_idx');
  duplicate regclass;
begin
  if kept is null then
    return;
  end if;

  for duplicate in
    select i.indexrelid::regclass
    from pg_catalog.pg_index as i
    join pg_catalog.pg_class as c on c.oid = i.indexrelid
    join pg_catalog.pg_index as k on k.indexrelid = kept
    join pg_catalog.pg_class as kc on kc.oid = k.indexrelid
    where i.indrelid = k.indrelid
      and i.indexrelid <> k.indexrelid
      and not i.indisprimary
      and i.indisunique = k.indisunique
      and i.indkey = k.indkey
      and i.indclass = k.indclass
      and i.indcollation = k.indcollation
      and c.relam = kc.relam
      and i.indexprs is null and k.indexprs is null
      and i.indpred is null and k.indpred is null
      and not exists (select 1 from pg_catalog.pg_constraint where conindid = i.indexrelid)
  loop
    raise notice 'dropping %, identical to %', duplicate, kept;
    execute format('drop index %s', duplicate);
  end loop;
end
$$;
