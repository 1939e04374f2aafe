-- Defects in the story's plan, and the constraints that fix them:
--   * custom_domain was indexed but not unique, and not normalized: now one
--     tenant per domain whatever the case, stored as a bare lowercase host;
--   * slug, brand_config, tenant_type and subscription_tier were unchecked.
-- Every invalid value is rejected by a named constraint.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(74);

-- A complete, valid brand_config.
create function pg_temp.brand()
returns jsonb
language sql
as $$
  select '{
    "logo": {"url": "https://cdn.example.com/logo.svg", "alt": "Logo", "width": 160},
    "colors": {
      "primary": "#1a4d2e", "primaryHover": "#143d24", "secondary": "#c9a227",
      "background": "#ffffff", "backgroundSubtle": "#f5f5f0", "text": "#1f1f1f",
      "textMuted": "#6b6b6b", "border": "#e0e0e0"
    },
    "fonts": {"heading": "Playfair Display", "body": "Lato"},
    "tagline": "Grow",
    "showPoweredBy": true
  }'::jsonb
$$;

-- SQL that inserts one tenant; every field valid unless overridden.
create function pg_temp.insert_tenant(
  p_slug text,
  p_custom_domain text default null,
  p_brand_config jsonb default pg_temp.brand(),
  p_tenant_type text default 'coach',
  p_subscription_tier text default 'free',
  p_email_config jsonb default '{}',
  p_display_name text default 'Test Tenant'
)
returns text
language sql
as $$
  select format(
    'insert into public.tenant_profiles'
    ' (slug, display_name, brand_config, custom_domain, tenant_type, subscription_tier, email_config)'
    ' values (%L, %L, %L, %L, %L, %L, %L)',
    p_slug, p_display_name, p_brand_config, p_custom_domain,
    p_tenant_type, p_subscription_tier, p_email_config
  )
$$;

-------------------------------------------------------------------------------
-- custom_domain: unique whatever the case, stored normalized
-------------------------------------------------------------------------------
select lives_ok(pg_temp.insert_tenant('domain-owner', 'coach.defect-test.example'), 'a normalized domain is accepted');

select throws_ok(
  pg_temp.insert_tenant('domain-thief', 'coach.defect-test.example'),
  '23505', 'duplicate key value violates unique constraint "tenant_profiles_custom_domain_key"',
  'a second tenant cannot claim the same domain'
);
select throws_ok(
  pg_temp.insert_tenant('domain-thief', 'COACH.Defect-Test.example'),
  '23514', 'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'a second tenant cannot claim the same domain in another case'
);

select throws_ok(pg_temp.insert_tenant('bad-domain', 'HTTPS://Foo.com/'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a URL with scheme and path (HTTPS://Foo.com/)');
select throws_ok(pg_temp.insert_tenant('bad-domain', 'https://foo.com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a scheme (https://foo.com)');
select throws_ok(pg_temp.insert_tenant('bad-domain', 'foo.com:443'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a port (foo.com:443)');
select throws_ok(pg_temp.insert_tenant('bad-domain', 'foo.com.'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a trailing dot (foo.com.)');
select throws_ok(pg_temp.insert_tenant('bad-domain', 'Foo.com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects uppercase (Foo.com)');
select throws_ok(pg_temp.insert_tenant('bad-domain', 'foo.com/path'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a path (foo.com/path)');
select throws_ok(pg_temp.insert_tenant('bad-domain', ' foo.com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects whitespace');
select throws_ok(pg_temp.insert_tenant('bad-domain', 'localhost'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a single label (localhost)');
select throws_ok(pg_temp.insert_tenant('bad-domain', '127.0.0.1'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects an IPv4 address');
select throws_ok(pg_temp.insert_tenant('bad-domain', '-foo.com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a label starting with a hyphen');
select throws_ok(pg_temp.insert_tenant('bad-domain', 'foo-.com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a label ending with a hyphen');
select throws_ok(pg_temp.insert_tenant('bad-domain', 'foo..com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects an empty label');
select throws_ok(pg_temp.insert_tenant('bad-domain', '*.foo.com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a wildcard');
select throws_ok(pg_temp.insert_tenant('bad-domain', 'foo_bar.com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects an underscore');
select throws_ok(pg_temp.insert_tenant('bad-domain', repeat('a', 64) || '.com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a label longer than 63 characters');
select throws_ok(pg_temp.insert_tenant('bad-domain', repeat('abcdefghi.', 26) || 'com'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_custom_domain_format"',
  'custom_domain rejects a name longer than 253 characters');

select lives_ok(pg_temp.insert_tenant('good-domain-1', 'xn--bcher-kva.example'), 'custom_domain accepts a punycode name');
select lives_ok(pg_temp.insert_tenant('good-domain-2', 'a.b.c.example.co.uk'), 'custom_domain accepts a deep subdomain');
select lives_ok(pg_temp.insert_tenant('good-domain-3', 'app-1.defect-test.localhost'), 'custom_domain accepts a .localhost name');
select lives_ok(pg_temp.insert_tenant('good-domain-4', repeat('abcdefghi.', 25) || 'com'), 'custom_domain accepts a 253-character name');
select lives_ok(pg_temp.insert_tenant('no-domain-1', null), 'custom_domain is optional');
select lives_ok(pg_temp.insert_tenant('no-domain-2', null), 'many tenants may have no custom domain');

-------------------------------------------------------------------------------
-- slug
-------------------------------------------------------------------------------
select throws_ok(pg_temp.insert_tenant('ab'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_slug_format"',
  'slug rejects fewer than 3 characters');
select throws_ok(pg_temp.insert_tenant(repeat('a', 64)), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_slug_format"',
  'slug rejects more than 63 characters');
select throws_ok(pg_temp.insert_tenant('-coach'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_slug_format"',
  'slug rejects a leading hyphen');
select throws_ok(pg_temp.insert_tenant('coach-'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_slug_format"',
  'slug rejects a trailing hyphen');
select throws_ok(pg_temp.insert_tenant('Coach'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_slug_format"',
  'slug rejects uppercase');
select throws_ok(pg_temp.insert_tenant('coach_one'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_slug_format"',
  'slug rejects an underscore');
select throws_ok(pg_temp.insert_tenant('coach.one'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_slug_format"',
  'slug rejects a dot');
select throws_ok(pg_temp.insert_tenant('coach one'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_slug_format"',
  'slug rejects a space');
select throws_ok(pg_temp.insert_tenant(''), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_slug_format"',
  'slug rejects the empty string');

select lives_ok(pg_temp.insert_tenant('abc'), 'slug accepts 3 characters');
select lives_ok(pg_temp.insert_tenant(repeat('b', 63)), 'slug accepts 63 characters');
select lives_ok(pg_temp.insert_tenant('coach-2-go'), 'slug accepts digits and inner hyphens');

select throws_ok(
  pg_temp.insert_tenant('abc'),
  '23505', 'duplicate key value violates unique constraint "tenant_profiles_slug_key"',
  'slug is unique'
);

-------------------------------------------------------------------------------
-- brand_config
-------------------------------------------------------------------------------
select ok(public.is_valid_brand_config(pg_temp.brand()), 'the reference brand_config is valid');

select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => pg_temp.brand() - 'logo'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config requires logo');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => pg_temp.brand() - 'colors'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config requires colors');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => pg_temp.brand() - 'fonts'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config requires fonts');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => pg_temp.brand() - 'showPoweredBy'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config requires showPoweredBy');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => '[]'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config must be an object');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => '{}'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects an empty object');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{colors,primary}', '"#12345"')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a five-digit colour');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{colors,text}', '"red"')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a colour name');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{colors,background}', '"#gggggg"')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects non-hex digits');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{colors,border}', '"#e0e0e0 "')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a colour with trailing text');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{colors,secondary}', '123')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a colour that is not a string');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => pg_temp.brand() #- '{colors,border}'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config requires all eight colours');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{logo,url}', '"http://cdn.example.com/logo.svg"')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects an http logo url');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{logo,url}', '"javascript:alert(1)"')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a javascript: logo url');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{logo,url}', '"//cdn.example.com/logo.svg"')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a scheme-relative logo url');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{logo,url}', '"https://"')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a logo url without a host');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => pg_temp.brand() #- '{logo,alt}'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config requires logo alt text');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{logo,width}', '-10')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a negative logo width');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{fonts,body}', '12')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a font that is not a string');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{fonts,heading}', '""')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects an empty font name');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{showPoweredBy}', '"false"')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects showPoweredBy as a string');
select throws_ok(pg_temp.insert_tenant('bad-brand', p_brand_config => jsonb_set(pg_temp.brand(), '{tagline}', '42')), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_brand_config_valid"',
  'brand_config rejects a tagline that is not a string');
select throws_ok(
  format('insert into public.tenant_profiles (slug, display_name, brand_config) values (%L, %L, null)', 'null-brand', 'Null Brand'),
  '23502', 'null value in column "brand_config" of relation "tenant_profiles" violates not-null constraint',
  'brand_config is required'
);

select lives_ok(
  pg_temp.insert_tenant('short-colours', p_brand_config =>
    jsonb_set(pg_temp.brand(), '{colors}', '{"primary":"#1A4","primaryHover":"#143","secondary":"#c92","background":"#fff",
      "backgroundSubtle":"#F5F5F0","text":"#111","textMuted":"#666","border":"#ddd"}')),
  'brand_config accepts #rgb and upper-case hex (colours beyond the eight are refused since the brand contract: 14_brand_contract.sql)'
);
select lives_ok(
  pg_temp.insert_tenant('minimal-brand', p_brand_config =>
    pg_temp.brand() - 'tagline' #- '{logo,width}' || '{"welcomeMessage":"Hi","custom":{"any":"thing"}}'),
  'brand_config accepts a config without optional fields and with extra keys'
);

-------------------------------------------------------------------------------
-- tenant_type, subscription_tier, email_config, display_name
-------------------------------------------------------------------------------
select throws_ok(pg_temp.insert_tenant('bad-type', p_tenant_type => 'individual'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_tenant_type_valid"',
  'tenant_type rejects an unknown type');
select lives_ok(pg_temp.insert_tenant('type-consultancy', p_tenant_type => 'consultancy'), 'tenant_type accepts consultancy');
select lives_ok(pg_temp.insert_tenant('type-enterprise', p_tenant_type => 'enterprise'), 'tenant_type accepts enterprise');
select throws_ok(pg_temp.insert_tenant('bad-tier', p_subscription_tier => 'gold'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_subscription_tier_valid"',
  'subscription_tier rejects an unknown tier');
select lives_ok(pg_temp.insert_tenant('tier-starter', p_subscription_tier => 'starter'), 'subscription_tier accepts starter');
select lives_ok(pg_temp.insert_tenant('tier-professional', p_subscription_tier => 'professional'), 'subscription_tier accepts professional');
select lives_ok(pg_temp.insert_tenant('tier-enterprise', p_subscription_tier => 'enterprise'), 'subscription_tier accepts enterprise');
select throws_ok(pg_temp.insert_tenant('bad-email', p_email_config => '["reply@example.com"]'), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_email_config_object"',
  'email_config must be an object');
select throws_ok(pg_temp.insert_tenant('bad-name', p_display_name => '   '), '23514',
  'new row for relation "tenant_profiles" violates check constraint "tenant_profiles_display_name_length"',
  'display_name cannot be blank');

-------------------------------------------------------------------------------
-- The unique index itself is case-insensitive, even without the CHECK.
-------------------------------------------------------------------------------
-- Postgres alters no table with pending trigger events: record the inserts
-- above in the change feed now rather than at the end of the transaction.
set constraints public.tenant_profiles_record_change immediate;
alter table public.tenant_profiles drop constraint tenant_profiles_custom_domain_format;

select throws_ok(
  pg_temp.insert_tenant('domain-thief', 'COACH.Defect-Test.example'),
  '23505', 'duplicate key value violates unique constraint "tenant_profiles_custom_domain_key"',
  'the unique index on lower(custom_domain) rejects a case variant on its own'
);

select * from finish();
rollback;
