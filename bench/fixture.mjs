// The benchmark's tenants: 1000 deterministic rows that pass every CHECK on tenant_profiles
// (slug format, lowercase custom_domain, public.is_valid_brand_config), shaped like the demo
// tenants in supabase/seed.sql so a body is the size of a real one. Deterministic ids and
// values make every run load the same data, so runs are comparable.

const NAMES = [
  'northstar',
  'harbor',
  'summit',
  'meridian',
  'lantern',
  'evergreen',
  'compass',
  'keystone',
  'riverbend',
  'bluebird',
  'cedar',
  'horizon',
  'tidewater',
  'granite',
  'aurora',
  'foxglove',
  'ironwood',
  'juniper',
  'larkspur',
  'oakridge',
];
const KINDS = ['coaching', 'leadership', 'partners', 'academy', 'consulting', 'growth', 'mentoring'];
const FONTS = ['Inter', 'Montserrat', 'Open Sans', 'Lato', 'Merriweather', 'Source Sans 3', 'Georgia'];
const TYPES = ['coach', 'consultancy', 'enterprise'];

const title = (word) => word[0].toUpperCase() + word.slice(1);

/** A #rrggbb colour derived from two integers (a multiplicative hash: deterministic, spread out). */
const colour = (i, k) => `#${((Math.imul(i * 8 + k + 1, 2654435761) >>> 8) & 0xffffff).toString(16).padStart(6, '0')}`;

/** Tenant `i` (0-based) as it is inserted. */
export function tenant(i) {
  const name = NAMES[i % NAMES.length];
  const kind = KINDS[Math.floor(i / NAMES.length) % KINDS.length];
  const slug = `${name}-${kind}-${String(i).padStart(4, '0')}`;
  const displayName = `${title(name)} ${title(kind)} ${i}`;
  const keys = ['primary', 'primaryHover', 'secondary', 'background', 'backgroundSubtle', 'text', 'textMuted', 'border'];
  return {
    id: `b0000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    slug,
    displayName,
    tenantType: TYPES[i % TYPES.length],
    customDomain: `coach.${slug}.test`,
    brand: {
      logo: { url: `https://cdn.${slug}.test/logo.svg`, alt: displayName, width: 120 + (i % 80) },
      colors: Object.fromEntries(keys.map((key, k) => [key, colour(i, k)])),
      fonts: { heading: FONTS[i % FONTS.length], body: FONTS[(i + 3) % FONTS.length] },
      tagline: `Grow with ${displayName}.`,
      welcomeMessage: `Welcome to your ${displayName} leadership assessment.`,
      completionMessage: 'Thanks! Your coach will review your results with you.',
      showPoweredBy: i % 2 === 0,
    },
  };
}

export const tenants = (n) => Array.from({ length: n }, (_, i) => tenant(i));

const quote = (s) => `'${String(s).replaceAll("'", "''")}'`;

/** One INSERT for all of them (psql runs it in a single round trip). */
export function fixtureSql(list) {
  const rows = list.map(
    (t) =>
      `(${[
        quote(t.id),
        quote(t.slug),
        quote(t.displayName),
        quote(t.tenantType),
        `${quote(JSON.stringify(t.brand))}::jsonb`,
        quote(t.customDomain),
        "array['industry4']",
      ].join(', ')})`,
  );
  return `insert into public.tenant_profiles
  (id, slug, display_name, tenant_type, brand_config, custom_domain, enabled_assessments)
values
${rows.join(',\n')};\n`;
}
