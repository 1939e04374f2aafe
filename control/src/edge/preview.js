// A preview key's signature (control/src/preview.rs): the HMAC-SHA256 of the key's characters
// under PREVIEW_SIGNING_SECRET, by Web Crypto. The token is built and encoded in Rust.

const encoder = new TextEncoder();
/** The signing key of the last secret: imported once per isolate, not once per request. */
let signing = { secret: null, key: null };

/** Resolves with the HMAC-SHA256 of `message` under `secret` (its UTF-8 bytes), 32 bytes. */
export async function sign(secret, message) {
  if (signing.secret !== secret) {
    const key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    signing = { secret, key };
  }
  return new Uint8Array(await crypto.subtle.sign('HMAC', await signing.key, encoder.encode(message)));
}
