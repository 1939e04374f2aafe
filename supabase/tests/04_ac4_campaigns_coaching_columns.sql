-- AC #4: campaigns has tenant_id (uuid FK, indexed), assessment_type (text,
-- default 'industry4') and results_disclosure (text, default 'full', CHECK
-- over full, summary, none).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(20);

select has_table('public', 'campaigns', 'campaigns exists');

select has_column('public', 'campaigns', 'tenant_id', 'campaigns has tenant_id');
select col_type_is('public', 'campaigns', 'tenant_id', 'uuid', 'tenant_id is uuid');
select fk_ok('public', 'campaigns', 'tenant_id', 'public', 'tenant_profiles', 'id', 'tenant_id references tenant_profiles');
select has_index('public', 'campaigns', 'campaigns_tenant_id_idx', array['tenant_id'], 'tenant_id is indexed');

select has_column('public', 'campaigns', 'assessment_type', 'campaigns has assessment_type');
select col_type_is('public', 'campaigns', 'assessment_type', 'text', 'assessment_type is text');
select col_not_null('public', 'campaigns', 'assessment_type', 'assessment_type is required');
select col_default_is('public', 'campaigns', 'assessment_type', 'industry4', 'assessment_type defaults to industry4');

select has_column('public', 'campaigns', 'results_disclosure', 'campaigns has results_disclosure');
select col_type_is('public', 'campaigns', 'results_disclosure', 'text', 'results_disclosure is text');
select col_not_null('public', 'campaigns', 'results_disclosure', 'results_disclosure is required');
select col_default_is('public', 'campaigns', 'results_disclosure', 'full', 'results_disclosure defaults to full');

select is(
  (select relrowsecurity from pg_catalog.pg_class where oid = 'public.campaigns'::regclass),
  true,
  'RLS is enabled on campaigns'
);

-- Fixture: a user with a campaign created the old way (no coaching columns).
insert into auth.users (id, email)
values ('04000000-0000-4000-8000-000000000001', 'ac4-owner@example.test');

insert into public.campaigns (id, name, owner_id)
values ('04000000-0000-4000-8000-0000000000c1', 'AC4 campaign', '04000000-0000-4000-8000-000000000001');

select results_eq(
  $$
    select tenant_id, assessment_type, results_disclosure
    from public.campaigns
    where id = '04000000-0000-4000-8000-0000000000c1'
  $$,
  $$ values (null::uuid, 'industry4', 'full') $$,
  'a campaign created without coaching columns gets the defaults'
);

select lives_ok(
  $$ update public.campaigns set results_disclosure = 'summary' where id = '04000000-0000-4000-8000-0000000000c1' $$,
  'results_disclosure accepts summary'
);

select lives_ok(
  $$ update public.campaigns set results_disclosure = 'none' where id = '04000000-0000-4000-8000-0000000000c1' $$,
  'results_disclosure accepts none'
);

select throws_ok(
  $$ update public.campaigns set results_disclosure = 'partial' where id = '04000000-0000-4000-8000-0000000000c1' $$,
  '23514',
  'new row for relation "campaigns" violates check constraint "campaigns_results_disclosure_valid"',
  'results_disclosure rejects an unknown value'
);

select throws_ok(
  $$ update public.campaigns set tenant_id = '04000000-0000-4000-8000-00000000ffff' where id = '04000000-0000-4000-8000-0000000000c1' $$,
  '23503',
  'insert or update on table "campaigns" violates foreign key constraint "campaigns_tenant_id_fkey"',
  'tenant_id must name an existing tenant'
);

select throws_ok(
  $$ update public.campaigns set assessment_type = 'Industry 4' where id = '04000000-0000-4000-8000-0000000000c1' $$,
  '23514',
  'new row for relation "campaigns" violates check constraint "campaigns_assessment_type_format"',
  'assessment_type must be a lowercase identifier'
);

select * from finish();
rollback;
