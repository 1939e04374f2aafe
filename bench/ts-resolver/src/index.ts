// Benchmark baseline: the tenant resolver as a typical team writes it in TypeScript, with
// @supabase/supabase-js and the Cache API. Same routes and public JSON shape as the Rust
// resolver for the two routes the benchmark loads; no memory tier, no single flight.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';

interface Env {
  SUPABASE_URL: string; // where `${SUPABASE_URL}/rest/v1` would be PostgREST on hosted Supabase
  SUPABASE_ANON_KEY: string;
  CACHE_TTL_SECONDS?: string;
}

const COLUMNS = 'id,slug,display_name,tenant_type,custom_domain,enabled_assessments,brand_config';

// The local stack runs bare PostgREST at `/`, while supabase-js always calls `${url}/rest/v1/…`
// (as hosted Supabase's gateway expects). Stripping the prefix in a custom fetch is the one
// change from production code; it costs a string replace per upstream request.
const localFetch: typeof fetch = (input, init) =>
  fetch(String(input instanceof Request ? input.url : input).replace('/rest/v1/', '/'), init);

// One client per isolate, created on first use (env is only known inside fetch).
let client: SupabaseClient | undefined;
const supabase = (env: Env) =>
  (client ??= createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { fetch: localFetch },
  }));

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    let column: 'slug' | 'custom_domain';
    let value: string;
    if (url.pathname === '/_tenant/health') return json(200, { status: 'ok' });
    if (url.pathname.startsWith('/_tenant/slug/')) {
      column = 'slug';
      value = decodeURIComponent(url.pathname.slice('/_tenant/slug/'.length));
    } else if (url.pathname === '/_tenant/brand.json') {
      column = 'custom_domain';
      value = (request.headers.get('host') ?? url.host).split(':')[0].toLowerCase();
    } else {
      return json(404, { error: { code: 'not_found', message: 'no such route' } });
    }

    // Cache API, keyed by lookup (a synthetic URL: brand.json differs per Host).
    const cacheKey = new Request(`https://tenant-cache.internal/${column}/${encodeURIComponent(value)}`);
    const cached = await caches.default.match(cacheKey);
    if (cached) return cached;

    // Row-level security shows a tenant only to a request that names it (x-tenant-lookup).
    const lookup = `${column === 'slug' ? 'slug' : 'domain'}:${value}`;
    const { data, error } = await supabase(env)
      .from('tenant_profiles')
      .select(COLUMNS)
      .eq(column, value)
      .setHeader('x-tenant-lookup', lookup)
      .maybeSingle();
    if (error) return json(503, { error: { code: 'upstream_unavailable', message: error.message } });
    if (!data) return json(404, { error: { code: 'tenant_not_found', message: 'no such tenant' } });

    const response = json(
      200,
      {
        id: data.id,
        slug: data.slug,
        displayName: data.display_name,
        tenantType: data.tenant_type,
        customDomain: data.custom_domain,
        enabledAssessments: data.enabled_assessments,
        brand: data.brand_config,
      },
      { 'cache-control': `public, max-age=${env.CACHE_TTL_SECONDS ?? '60'}` },
    );
    ctx.waitUntil(caches.default.put(cacheKey, response.clone()));
    return response;
  },
};
