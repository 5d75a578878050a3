import { createHash, timingSafeEqual } from 'node:crypto';

// A receiver's check of a Standard Webhooks signature, written from the
// specification and independent of Rampart's signer: HMAC is built here from
// SHA-256 by its definition (RFC 2104), not with createHmac.
//   signed content: `<webhook-id>.<webhook-timestamp>.<raw body>`
//   key: base64 after the `whsec_` prefix
//   header: space-separated `v1,<base64 HMAC-SHA256>` entries; one match suffices
//   timestamp: integer Unix seconds, within a tolerance of the receiver's clock

const BLOCK = 64;

/** HMAC-SHA256(key, message) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ message)). */
export function referenceHmacSha256(key: Buffer, message: Buffer): Buffer {
  const k = Buffer.alloc(BLOCK);
  (key.length > BLOCK ? createHash('sha256').update(key).digest() : key).copy(k);
  const inner = Buffer.alloc(BLOCK);
  const outer = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = (k[i] ?? 0) ^ 0x36;
    outer[i] = (k[i] ?? 0) ^ 0x5c;
  }
  const innerHash = createHash('sha256').update(Buffer.concat([inner, message])).digest();
  return createHash('sha256').update(Buffer.concat([outer, innerHash])).digest();
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface ReceivedWebhook {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body bytes as received. */
  readonly body: Buffer;
}

/** What a careful receiver does before trusting a webhook. */
export function verifyStandardWebhook(received: ReceivedWebhook, secret: string, nowSeconds: number, toleranceSeconds = 300): Verdict {
  const id = received.headers['webhook-id'];
  const timestamp = received.headers['webhook-timestamp'];
  const signatures = received.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return { ok: false, reason: 'missing header' };
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: 'timestamp not an integer' };
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return { ok: false, reason: 'timestamp outside tolerance' };
  if (!secret.startsWith('whsec_')) return { ok: false, reason: 'secret format' };
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = referenceHmacSha256(key, Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), received.body]));
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no matching signature' };
}
