// A preview token's signature check (src/preview.rs): the HMAC-SHA256 of its key under
// PREVIEW_SIGNING_SECRET, base64url without padding, verified by Web Crypto (in constant time)
// before the database is asked anything about the key.

const encoder = new TextEncoder();
/** The verifying key of the last secret: imported once per isolate, not once per request. */
let verifying = { secret: null, key: null };

/** Whether `signature` is the HMAC of `key` under `secret`. Never throws: false instead. */
export async function verify(secret, key, signature) {
  try {
    if (verifying.secret !== secret) {
      const imported = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      verifying = { secret, key: imported };
    }
    const base64 = `${signature.replaceAll('-', '+').replaceAll('_', '/')}=`;
    const tag = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return await crypto.subtle.verify('HMAC', await verifying.key, tag, encoder.encode(key));
  } catch {
    return false;
  }
}
