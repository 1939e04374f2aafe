// Types of origin/verify.mjs: verifying the tenant identity the edge Worker forwards.

/** Anything with the request's headers, method and URL: a Node.js IncomingMessage or a Fetch API Request. */
export interface SignedRequest {
  headers: Headers | Record<string, string | string[] | undefined>;
  method: string;
  /** The path and query (`/welcome?x=1`, as Node.js gives it) or the absolute URL (as Fetch gives it). */
  url: string;
}

export interface VerifyOptions {
  /** ORIGIN_SIGNING_SECRET. */
  secret?: string;
  /** ORIGIN_SIGNING_SECRET_PREVIOUS: accepted while rotating, never used to sign. */
  previousSecret?: string;
  /** Instead of `secret` and `previousSecret`: every secret to accept. */
  secrets?: string[];
  /** How far the signature's time may be from now, in seconds (default 300): a finite number, 0 or more, else the call throws a TypeError. */
  toleranceSeconds?: number;
  /** Now, in ms since the epoch (default `Date.now()`). */
  now?: number;
}

export type Refusal = 'missing' | 'malformed' | 'expired' | 'future' | 'signature';

export type Verified =
  | { ok: true; tenantId: string | null; slug: string | null; host: string }
  | { ok: false; reason: Refusal; message: string };

/** Verifies a forwarded request's X-Tenant-Signature; `tenantId` and `slug` are null on the platform's own host. */
export function verifyTenantRequest(req: SignedRequest, options: VerifyOptions): Promise<Verified>;

/** The canonical string a signature at `t` covers (for other verifiers' tests). */
export function canonical(
  t: number,
  values: { method: string; host: string; pathAndQuery: string; tenantId?: string; slug?: string },
): string;

export const DEFAULT_TOLERANCE_SECONDS: number;
