-- AC #2: participant_sessions (renamed from campaign_assignments, once
-- stakeholder_sessions) has client_status (text) and tenant_id (uuid FK to
-- tenant_profiles), the pipeline indexes, RLS on, and the old names live on
-- as security_invoker views over the same rows.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(30);

select has_table('public', 'participant_sessions', 'participant_sessions exists');
select hasnt_table('public', 'campaign_assignments', 'campaign_assignments is no longer a table');
select hasnt_table('public', 'stakeholder_sessions', 'stakeholder_sessions is no longer a table');

-- New columns.
select has_column('public', 'participant_sessions', 'client_status', 'participant_sessions has client_status');
select col_type_is('public', 'participant_sessions', 'client_status', 'text', 'client_status is text');
select col_not_null('public', 'participant_sessions', 'client_status', 'client_status is required');
select col_default_is('public', 'participant_sessions', 'client_status', 'registered', 'client_status defaults to registered');
select has_column('public', 'participant_sessions', 'tenant_id', 'participant_sessions has tenant_id');
select col_type_is('public', 'participant_sessions', 'tenant_id', 'uuid', 'tenant_id is uuid');
select fk_ok('public', 'participant_sessions', 'tenant_id', 'public', 'tenant_profiles', 'id', 'tenant_id references tenant_profiles');

-- The assignment columns are still there.
select has_column('public', 'participant_sessions', 'campaign_id', 'campaign_id is kept');
select has_column('public', 'participant_sessions', 'participant_email', 'participant_email is kept');
select has_column('public', 'participant_sessions', 'access_token', 'access_token is kept');
select fk_ok('public', 'participant_sessions', 'campaign_id', 'public', 'campaigns', 'id', 'campaign_id references campaigns');

-- Pipeline indexes.
select has_index('public', 'participant_sessions', 'participant_sessions_tenant_id_idx', array['tenant_id'], 'tenant_id is indexed');
select has_index('public', 'participant_sessions', 'participant_sessions_client_status_idx', array['client_status'], 'client_status is indexed');
select has_index('public', 'participant_sessions', 'participant_sessions_tenant_id_client_status_idx', array['tenant_id', 'client_status'], '(tenant_id, client_status) is indexed');

select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.participant_sessions'::regclass),
  true,
  'RLS is enabled on participant_sessions'
);

-- Compatibility views.
select has_view('public', 'campaign_assignments', 'campaign_assignments is a view');
select has_view('public', 'stakeholder_sessions', 'stakeholder_sessions is a view');
select ok(
  (select 'security_invoker=true' = any (reloptions) from pg_catalog.pg_class where oid = 'public.campaign_assignments'::regclass),
  'campaign_assignments is security_invoker'
);
select ok(
  (select 'security_invoker=true' = any (reloptions) from pg_catalog.pg_class where oid = 'public.stakeholder_sessions'::regclass),
  'stakeholder_sessions is security_invoker'
);

-- Fixture: one campaign with one session.
insert into auth.users (id, email)
values ('02000000-0000-4000-8000-000000000001', 'ac2-owner@example.test');

insert into public.campaigns (id, name, owner_id)
values ('02000000-0000-4000-8000-0000000000c1', 'AC2 campaign', '02000000-0000-4000-8000-000000000001');

insert into public.participant_sessions (id, campaign_id, participant_email, participant_name)
values ('02000000-0000-4000-8000-0000000000d1', '02000000-0000-4000-8000-0000000000c1', 'pat@example.test', 'Pat');

select is(
  (select client_status from public.participant_sessions where id = '02000000-0000-4000-8000-0000000000d1'),
  'registered',
  'a new session starts as registered'
);

select ok(
  (select access_token ~ '^[0-9a-f]{48}$' from public.participant_sessions where id = '02000000-0000-4000-8000-0000000000d1'),
  'a new session gets a random hex access token'
);

select is(
  (select participant_email from public.campaign_assignments where id = '02000000-0000-4000-8000-0000000000d1'),
  'pat@example.test',
  'the session is visible through campaign_assignments'
);

select is(
  (select participant_email from public.stakeholder_sessions where id = '02000000-0000-4000-8000-0000000000d1'),
  'pat@example.test',
  'the session is visible through stakeholder_sessions'
);

-- client_status values.
select lives_ok(
  $$
    do $do$
    declare
      s text;
    begin
      foreach s in array array['registered', 'started', 'completed', 'contacted', 'converted', 'archived'] loop
        update public.participant_sessions set client_status = s
        where id = '02000000-0000-4000-8000-0000000000d1';
      end loop;
    end
    $do$
  $$,
  'client_status accepts the six pipeline statuses'
);

select throws_ok(
  $$ update public.participant_sessions set client_status = 'lead' where id = '02000000-0000-4000-8000-0000000000d1' $$,
  '23514',
  'new row for relation "participant_sessions" violates check constraint "participant_sessions_client_status_valid"',
  'client_status rejects an unknown status'
);

select throws_ok(
  $$ update public.participant_sessions set tenant_id = '02000000-0000-4000-8000-00000000ffff' where id = '02000000-0000-4000-8000-0000000000d1' $$,
  '23503',
  'insert or update on table "participant_sessions" violates foreign key constraint "participant_sessions_tenant_id_fkey"',
  'tenant_id must name an existing tenant'
);

-- Deleting a tenant keeps its sessions, detached.
insert into public.tenant_profiles (id, slug, display_name, brand_config)
values (
  '02000000-0000-4000-8000-0000000000a1', 'ac2-tenant', 'AC2 Tenant',
  '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
    "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
              "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
    "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'
);
update public.participant_sessions set tenant_id = '02000000-0000-4000-8000-0000000000a1'
where id = '02000000-0000-4000-8000-0000000000d1';
delete from public.tenant_profiles where id = '02000000-0000-4000-8000-0000000000a1';

select is(
  (select tenant_id from public.participant_sessions where id = '02000000-0000-4000-8000-0000000000d1'),
  null,
  'deleting a tenant detaches its sessions instead of deleting them'
);

select * from finish();
rollback;
