// HMAC-SHA256 by Web Crypto, for the control plane's two signatures: a preview key's
// (control/src/preview.rs: the key's characters under PREVIEW_SIGNING_SECRET) and a domain
// event's (control/src/notify.rs: its canonical string under DOMAIN_EVENTS_SECRET). What is
// signed, and the token or header around it, is built in Rust.

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
