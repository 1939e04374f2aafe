// Types of origin/verify.mjs: verifying the tenant identity the edge Worker forwards, and the
// domain events the control plane posts.

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

/** A domain event's request: a Fetch API Request, or its headers and its body exactly as received. */
export type DomainEventRequest =
  | Request
  | { headers: Headers | Record<string, string | string[] | undefined>; body: string | Uint8Array | ArrayBuffer };

/** What the control plane posts (docs/control-plane.md, "Domain events"). */
export interface DomainEvent {
  /** The same on every attempt: deduplicate by it (delivery is at least once). */
  id: string;
  type: 'domain.active' | 'domain.failed' | 'domain.moved' | 'domain.blocked' | 'domain.removed' | 'domain.pending' | string;
  hostname: string;
  tenantId: string;
  domainId: string;
  /** The row's status after the change (`removing` for domain.removed). */
  status: string | null;
  /** Its status before; null for a row that was inserted with this status. */
  previousStatus: string | null;
  /** Why, for a failure: the first of the domain's errors; else null. */
  reason: string | null;
  /** When the status changed, RFC 3339 UTC with milliseconds. */
  at: string;
}

export type VerifiedEvent = { ok: true; event: DomainEvent } | { ok: false; reason: Refusal; message: string };

/** Verifies a domain event's X-Domain-Event-Signature (options as `verifyTenantRequest`'s, `secret` being DOMAIN_EVENTS_SECRET). */
export function verifyDomainEvent(req: DomainEventRequest, options: VerifyOptions): Promise<VerifiedEvent>;

/** The canonical string of a domain event signed at `t`: `<t>.<body>`. */
export function domainEventCanonical(t: number, body: string): string;
