-- The DNS doctor's last verdict per domain (tenant_domain_diagnoses): the
-- service role (the control plane) writes it, the domain's owner reads it
-- (as they read the domain), another signed-in user and the anon key see
-- nothing and write nothing; writing one is not a change of the domain (no
-- updated_at stamp, nothing in the feed), and it goes with its domain.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(12);

insert into auth.users (id, email) values
  ('a2700000-0000-4000-8000-000000000001', 'owner@diagnoses.test'),
  ('b2700000-0000-4000-8000-000000000002', 'stranger@diagnoses.test');

insert into public.tenant_profiles (id, user_id, slug, display_name, brand_config)
values ('a2700000-0000-4000-8000-0000000000a1', 'a2700000-0000-4000-8000-000000000001',
  'd27-alpha', 'Alpha', tests.brand_config());

insert into public.tenant_domains (id, tenant_id, hostname)
values ('d2700000-0000-4000-8000-0000000000d1', 'a2700000-0000-4000-8000-0000000000a1', 'coach.diagnoses.test');

create temporary table before_write as
select d.updated_at, (select count(*) from public.tenant_changes) as changes
from public.tenant_domains d where d.id = 'd2700000-0000-4000-8000-0000000000d1';
grant select on before_write to authenticated, anon;

select lives_ok(
  $$ select tests.as_service_role($q$
    insert into public.tenant_domain_diagnoses (domain_id, code, fix, points_to)
    values ('d2700000-0000-4000-8000-0000000000d1', 'cname_elsewhere', 'Point it here.', 'shop.other.test')
    on conflict (domain_id) do update set code = excluded.code, fix = excluded.fix,
      points_to = excluded.points_to, checked_at = excluded.checked_at
  $q$) $$,
  'the service role writes a verdict'
);

select is(
  (select updated_at from public.tenant_domains where id = 'd2700000-0000-4000-8000-0000000000d1'),
  (select updated_at from before_write),
  'writing a verdict does not stamp the domain''s updated_at'
);

select is(
  (select count(*) from public.tenant_changes),
  (select changes from before_write),
  'nor records a change in the feed'
);

select tests.authenticate_as('a2700000-0000-4000-8000-000000000001');
select results_eq(
  $$ select code, fix, points_to from public.tenant_domain_diagnoses $$,
  $$ values ('cname_elsewhere', 'Point it here.', 'shop.other.test') $$,
  'the domain''s owner reads its verdict'
);
select throws_ok(
  $$ insert into public.tenant_domain_diagnoses (domain_id, code, fix)
     values ('d2700000-0000-4000-8000-0000000000d1', 'ready', 'x') $$,
  '42501', null, 'the owner cannot write a verdict'
);
select throws_ok(
  $$ update public.tenant_domain_diagnoses set code = 'ready' $$,
  '42501', null, 'nor change one'
);
select tests.clear_authentication();

select tests.authenticate_as('b2700000-0000-4000-8000-000000000002');
select is_empty($$ select * from public.tenant_domain_diagnoses $$, 'another signed-in user sees none');
select tests.clear_authentication();

select tests.authenticate_as_anon();
select throws_ok($$ select * from public.tenant_domain_diagnoses $$, '42501', null, 'the anon key reads nothing');
select tests.clear_authentication();

select throws_ok(
  $$ select tests.as_service_role($q$
    insert into public.tenant_domain_diagnoses (domain_id, code, fix)
    values ('d2700000-0000-4000-8000-0000000000d1', 'Not A Code', 'x')
    on conflict (domain_id) do update set code = excluded.code
  $q$) $$,
  '23514', null, 'a code is a snake_case word'
);
select throws_ok(
  $$ select tests.as_service_role($q$
    insert into public.tenant_domain_diagnoses (domain_id, code, fix)
    values ('d2700000-0000-4000-8000-0000000000d9', 'ready', 'x')
  $q$) $$,
  '23503', null, 'a verdict is of an existing domain'
);

select is(
  (select count(*)::int from public.tenant_domain_diagnoses),
  1,
  'one verdict per domain'
);
delete from public.tenant_domains where id = 'd2700000-0000-4000-8000-0000000000d1';
select is(
  (select count(*)::int from public.tenant_domain_diagnoses),
  0,
  'it goes with its domain'
);

select * from finish();
rollback;
