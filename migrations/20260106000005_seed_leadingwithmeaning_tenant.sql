-- Seed the Leading with Meaning tenant (Mark's coaching practice).
--
-- The first tenant on the platform, served at coach.leadingwithmeaning.com.
-- Its owner is the auth user with Mark's email when that account already
-- exists; otherwise user_id stays null until the service role assigns it.
-- Idempotent: an existing leadingwithmeaning row is left untouched, so edits
-- made after the first deploy are never overwritten by a re-run.

insert into public.tenant_profiles (
  user_id,
  slug,
  display_name,
  tenant_type,
  brand_config,
  email_config,
  enabled_assessments,
  subscription_tier,
  is_active,
  custom_domain
)
values (
  (
    select id
    from auth.users
    where lower(email) = 'mark@leadingwithmeaning.com'
    order by created_at
    limit 1
  ),
  'leadingwithmeaning',
  'Leading with Meaning',
  'coach',
  jsonb_build_object(
    'logo', jsonb_build_object(
      'url', 'https://leadingwithmeaning.com/images/leading-with-meaning-logo.svg',
      'alt', 'Leading with Meaning',
      'width', 180
    ),
    'colors', jsonb_build_object(
      'primary', '#2d5a3d',
      'primaryHover', '#234730',
      'secondary', '#c9a227',
      'background', '#ffffff',
      'backgroundSubtle', '#f6f4ec',
      'text', '#1f2a24',
      'textMuted', '#5e6b63',
      'border', '#e2ddcc'
    ),
    'fonts', jsonb_build_object(
      'heading', 'Playfair Display',
      'body', 'Lato'
    ),
    'tagline', 'Lead with purpose. Grow with meaning.',
    'welcomeMessage', 'Welcome. This assessment takes about fifteen minutes and helps us understand how you lead today.',
    'completionMessage', 'Thank you for completing the assessment. Mark will be in touch to walk you through your results.',
    'showPoweredBy', false
  ),
  jsonb_build_object(
    'fromName', 'Mark at Leading with Meaning',
    'replyTo', 'mark@leadingwithmeaning.com',
    'signature', 'Mark' || chr(10) || 'Leading with Meaning'
  ),
  array['industry4']::text[],
  'professional',
  true,
  'coach.leadingwithmeaning.com'
)
on conflict (slug) do nothing;
