-- AC #5: the migrations seed Mark's tenant; querying tenant_profiles by slug
-- 'leadingwithmeaning' returns his full profile, with a brand_config that
-- holds logo, colors and fonts. Depends on the migration seed only, not on
-- supabase/seed.sql.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(18);

-- As the service role, which the platform uses to manage tenants.
select tests.authenticate_as_service_role();

select results_eq(
  $$ select count(*)::int from public.tenant_profiles where slug = 'leadingwithmeaning' $$,
  $$ values (1) $$,
  'exactly one tenant has the slug leadingwithmeaning'
);

select results_eq(
  $$
    select display_name, tenant_type, subscription_tier, is_active, custom_domain, enabled_assessments
    from public.tenant_profiles
    where slug = 'leadingwithmeaning'
  $$,
  $$ values ('Leading with Meaning', 'coach', 'professional', true, 'coach.leadingwithmeaning.com', array['industry4']) $$,
  'the profile has its name, type, tier, active flag, domain and assessments'
);

select ok(
  (select brand_config ?& array['logo', 'colors', 'fonts', 'showPoweredBy']
   from public.tenant_profiles where slug = 'leadingwithmeaning'),
  'brand_config contains logo, colors, fonts and showPoweredBy'
);

select ok(
  (select brand_config -> 'colors' ?& array['primary', 'primaryHover', 'secondary', 'background', 'backgroundSubtle', 'text', 'textMuted', 'border']
   from public.tenant_profiles where slug = 'leadingwithmeaning'),
  'brand_config has all eight colours'
);

select is(
  (select brand_config -> 'fonts' from public.tenant_profiles where slug = 'leadingwithmeaning'),
  '{"heading":"Playfair Display","body":"Lato"}'::jsonb,
  'headings use Playfair Display and body text Lato'
);

select matches(
  (select brand_config -> 'logo' ->> 'url' from public.tenant_profiles where slug = 'leadingwithmeaning'),
  '^https://',
  'the logo is served over https'
);

select isnt(
  (select brand_config -> 'logo' ->> 'alt' from public.tenant_profiles where slug = 'leadingwithmeaning'),
  null,
  'the logo has alt text'
);

select ok(
  (select brand_config ?& array['tagline', 'welcomeMessage', 'completionMessage']
   from public.tenant_profiles where slug = 'leadingwithmeaning'),
  'brand_config has the tagline, welcome and completion messages'
);

select is(
  (select brand_config -> 'showPoweredBy' from public.tenant_profiles where slug = 'leadingwithmeaning'),
  'false'::jsonb,
  'the platform credit is hidden'
);

select is(
  (select email_config ->> 'replyTo' from public.tenant_profiles where slug = 'leadingwithmeaning'),
  'mark@leadingwithmeaning.com',
  'email_config has a reply-to address'
);

select isnt(
  (select email_config ->> 'fromName' from public.tenant_profiles where slug = 'leadingwithmeaning'),
  null,
  'email_config has a sender name'
);

select ok(
  (select public.is_valid_brand_config(brand_config) from public.tenant_profiles where slug = 'leadingwithmeaning'),
  'the seeded brand_config is valid'
);

select tests.clear_authentication();

-- As anyone with the anon key, the way the Worker reads branding: each
-- request names the tenant it looks up (x-tenant-lookup) and filters for it.
select tests.authenticate_as_anon();
set local request.headers to '{"x-tenant-lookup":"slug:leadingwithmeaning"}';

select results_eq(
  $$
    select slug, display_name, custom_domain
    from public.tenant_profiles
    where slug = 'leadingwithmeaning'
  $$,
  $$ values ('leadingwithmeaning', 'Leading with Meaning', 'coach.leadingwithmeaning.com') $$,
  'anon finds the tenant by slug'
);

select ok(
  (select brand_config ?& array['logo', 'colors', 'fonts']
   from public.tenant_profiles where slug = 'leadingwithmeaning'),
  'anon reads the brand_config with logo, colors and fonts'
);

set local request.headers to '{"x-tenant-lookup":"domain:coach.leadingwithmeaning.com"}';
select results_eq(
  $$ select slug from public.tenant_profiles where custom_domain = 'coach.leadingwithmeaning.com' $$,
  $$ values ('leadingwithmeaning') $$,
  'anon finds the tenant by custom domain'
);

select throws_ok(
  $$ select email_config from public.tenant_profiles where slug = 'leadingwithmeaning' $$,
  '42501',
  'permission denied for table tenant_profiles',
  'anon cannot read the email_config of the seeded tenant'
);

select tests.clear_authentication();

-- Seeding is idempotent: running the seed's insert again changes nothing.
select lives_ok(
  $$
    insert into public.tenant_profiles (slug, display_name, brand_config)
    select slug, 'Overwritten', brand_config
    from public.tenant_profiles
    where slug = 'leadingwithmeaning'
    on conflict (slug) do nothing
  $$,
  'inserting leadingwithmeaning again does not fail'
);

select is(
  (select display_name from public.tenant_profiles where slug = 'leadingwithmeaning'),
  'Leading with Meaning',
  'inserting leadingwithmeaning again leaves the existing profile untouched'
);

select * from finish();
rollback;
