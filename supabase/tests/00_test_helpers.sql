-- Test helpers: "act as this caller", in one place for every pgTAP file.
--
-- pg_prove runs the files in name order, each in its own session and
-- transaction, so this first file commits the helpers for the files after it
-- (as basejump's supabase_test_helpers do). They live in their own schema,
-- tests, and never in a migration: a deployed database has no use for them.
--
--   tests.authenticate_as(user_id)        a signed-in user (null: a token without a subject)
--   tests.authenticate_as_anon()          the anon key, no user
--   tests.authenticate_as_service_role()  trusted server code
--   tests.clear_authentication()          back to the superuser that runs the tests
--
-- Each one starts a new request, as PostgREST would: it switches the role,
-- sets the JWT claims and clears the request headers, whatever role the
-- caller had. A request that names a tenant then sets the header itself:
--   set local request.headers to '{"x-tenant-lookup":"slug:acme-leadership"}';
--
-- The functions have no `set search_path` clause, unlike the migrations'
-- functions: a function with a SET clause undoes every local setting it makes
-- when it returns, and these exist to make settings that last. Every name in
-- them is schema-qualified instead.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(6);

create schema if not exists tests;

comment on schema tests is 'pgTAP helpers (supabase/tests/00_test_helpers.sql); test databases only.';

-- Callable from any role, so a file can switch from one caller to the next.
grant usage on schema tests to anon, authenticated, service_role;

-- Starts a request as `role_name` with these JWT claims and no headers. The
-- role is reset to the session user first: switching from one API role to
-- another directly is not allowed.
create or replace function tests.start_request(role_name text, claims jsonb)
returns void
language plpgsql
as $$
begin
  perform pg_catalog.set_config('role', 'none', true);
  perform pg_catalog.set_config('role', role_name, true);
  perform pg_catalog.set_config('request.jwt.claims', claims::text, true);
  perform pg_catalog.set_config('request.headers', '{}', true);
end;
$$;

comment on function tests.start_request(text, jsonb) is 'Test helper: becomes role_name with these JWT claims and no request headers, until the transaction ends.';

-- A signed-in user: role authenticated, with the claims Supabase Auth puts in
-- a user's token (sub, role, aud, and the email when the user has one). The
-- email is read as the session user: the current role may not read auth.users.
create or replace function tests.authenticate_as(user_id uuid)
returns void
language plpgsql
as $$
begin
  perform pg_catalog.set_config('role', 'none', true);
  perform tests.start_request(
    'authenticated',
    jsonb_strip_nulls(jsonb_build_object(
      'sub', user_id,
      'role', 'authenticated',
      'aud', 'authenticated',
      'email', (select u.email from auth.users as u where u.id = user_id)
    ))
  );
end;
$$;

comment on function tests.authenticate_as(uuid) is 'Test helper: acts as this signed-in user (null: an authenticated token without a subject).';

-- The anon key: no user.
create or replace function tests.authenticate_as_anon()
returns void
language plpgsql
as $$
begin
  perform tests.start_request('anon', '{"role":"anon"}');
end;
$$;

comment on function tests.authenticate_as_anon() is 'Test helper: acts as a request with the anon key.';

-- The service role: trusted server code, which bypasses RLS.
create or replace function tests.authenticate_as_service_role()
returns void
language plpgsql
as $$
begin
  perform tests.start_request('service_role', '{"role":"service_role"}');
end;
$$;

comment on function tests.authenticate_as_service_role() is 'Test helper: acts as trusted server code with the service role.';

-- Back to the session user (the superuser running the tests), no request.
create or replace function tests.clear_authentication()
returns void
language plpgsql
as $$
begin
  perform pg_catalog.set_config('role', 'none', true);
  perform pg_catalog.set_config('request.jwt.claims', '', true);
  perform pg_catalog.set_config('request.headers', '', true);
end;
$$;

comment on function tests.clear_authentication() is 'Test helper: ends the current request and returns to the session user.';

-- Runs one statement as a signed-in user, then returns to the session user:
-- for a test that switches callers between statements.
create or replace function tests.as_user(user_id uuid, statement text)
returns void
language plpgsql
as $$
begin
  perform tests.authenticate_as(user_id);
  execute statement;
  perform tests.clear_authentication();
end;
$$;

comment on function tests.as_user(uuid, text) is 'Test helper: runs a statement as a signed-in user, then ends the request.';

-- The same, as the service role (the control plane, trusted server code).
create or replace function tests.as_service_role(statement text)
returns void
language plpgsql
as $$
begin
  perform tests.authenticate_as_service_role();
  execute statement;
  perform tests.clear_authentication();
end;
$$;

comment on function tests.as_service_role(text) is 'Test helper: runs a statement as the service role, then ends the request.';

-- The helpers do what they say.
select tests.authenticate_as('00000000-0000-4000-8000-000000000001');
select results_eq(
  $$ select current_setting('role'), auth.uid(), auth.role(), current_setting('request.headers') $$,
  $$ values ('authenticated', '00000000-0000-4000-8000-000000000001'::uuid, 'authenticated', '{}') $$,
  'authenticate_as becomes authenticated with the user as subject and no request headers'
);

select tests.authenticate_as_anon();
select results_eq(
  $$ select current_setting('role'), auth.uid(), auth.role() $$,
  $$ values ('anon', null::uuid, 'anon') $$,
  'authenticate_as_anon becomes anon, without a subject, even from another API role'
);

select tests.authenticate_as_service_role();
select results_eq(
  $$ select current_setting('role'), auth.role() $$,
  $$ values ('service_role', 'service_role') $$,
  'authenticate_as_service_role becomes service_role'
);

select tests.authenticate_as(null);
select results_eq(
  $$ select current_setting('role'), auth.uid(), auth.role() $$,
  $$ values ('authenticated', null::uuid, 'authenticated') $$,
  'authenticate_as(null) is a signed-in token without a subject'
);

select tests.clear_authentication();
select is(current_setting('role'), 'none', 'clear_authentication returns to the session user');

select tests.as_service_role($$ select pg_catalog.set_config('tests.seen_role', current_setting('role'), true) $$);
select results_eq(
  $$ select current_setting('tests.seen_role'), current_setting('role') $$,
  $$ values ('service_role', 'none') $$,
  'as_service_role runs the statement as the service role, and returns'
);

select * from finish();
commit;
