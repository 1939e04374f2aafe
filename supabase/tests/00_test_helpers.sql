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
--   tests.call_as(user_id, statement)     a statement's jsonb answer, as a signed-in user
--   tests.refusal_as(user_id, statement)  how it fails, as a signed-in user
--   tests.brand_config(primary_color)     a valid brand_config, for fixtures
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

select plan(9);

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

-- Runs a statement (one that answers a single jsonb, an owner function's
-- call) as a signed-in user, then ends the request; its answer.
create or replace function tests.call_as(user_id uuid, statement text)
returns jsonb
language plpgsql
as $$
declare
  answer jsonb;
begin
  perform tests.authenticate_as(user_id);
  execute statement into answer;
  perform tests.clear_authentication();
  return answer;
end;
$$;

comment on function tests.call_as(uuid, text) is 'Test helper: runs a statement answering jsonb as a signed-in user, ends the request, and answers it.';

-- How a statement run as a signed-in user fails: its SQLSTATE, hint, detail
-- and message ('00000' and nulls when it does not). The failed call's
-- request ends with it (its settings are undone with the subtransaction).
create or replace function tests.refusal_as(user_id uuid, statement text)
returns table (state text, reason text, about text, said text)
language plpgsql
as $$
begin
  begin
    perform tests.call_as(user_id, statement);
    state := '00000';
  exception when others then
    get stacked diagnostics
      state = returned_sqlstate, reason = pg_exception_hint, about = pg_exception_detail, said = message_text;
  end;
  return next;
end;
$$;

comment on function tests.refusal_as(uuid, text) is 'Test helper: how a statement run as a signed-in user fails (SQLSTATE, hint, detail, message), ''00000'' when it does not.';

-- A brand_config the brand contract accepts, with this primary colour.
create or replace function tests.brand_config(primary_color text default '#111')
returns jsonb
language sql
immutable
as $$
  select pg_catalog.jsonb_set(
    '{"logo":{"url":"https://example.com/logo.svg","alt":"Logo"},
      "colors":{"primary":"#111","primaryHover":"#222","secondary":"#333","background":"#fff",
                "backgroundSubtle":"#eee","text":"#000","textMuted":"#555","border":"#ddd"},
      "fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":true}'::jsonb,
    '{colors,primary}', pg_catalog.to_jsonb(primary_color))
$$;

comment on function tests.brand_config(text) is 'Test helper: a valid brand_config with this primary colour, for fixtures.';

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

select is(
  tests.call_as('00000000-0000-4000-8000-000000000001',
    $$ select jsonb_build_object('role', current_setting('role'), 'uid', auth.uid()) $$),
  '{"role":"authenticated","uid":"00000000-0000-4000-8000-000000000001"}'::jsonb,
  'call_as answers the statement as run by the user');
select results_eq(
  $$ select r.*, current_setting('role') from tests.refusal_as('00000000-0000-4000-8000-000000000001',
       $q$ select 1 / 0 $q$) as r $$,
  $$ values ('22012', '', '', 'division by zero', 'none') $$,
  'refusal_as gives how the statement failed, and the request ends with it');
select ok(
  public.is_valid_brand_config(tests.brand_config('#abcdef'))
  and tests.brand_config('#abcdef') -> 'colors' ->> 'primary' = '#abcdef',
  'brand_config is a valid brand with the primary colour asked for');

select * from finish();
commit;
