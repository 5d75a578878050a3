import { createHmac, randomBytes } from 'node:crypto';
import { RampartError } from '../../kernel/errors.ts';

// Standard Webhooks signatures: HMAC-SHA256 under the endpoint's secret over
// `<webhook-id>.<webhook-timestamp>.<body>`, sent as `v1,<base64>`. The id is
// the delivery's (stable across retries, so receivers can deduplicate); the
// timestamp is the attempt's, so a captured request cannot be replayed later.

export const SECRET_PREFIX = 'whsec_';
/** 256 bits from the CSPRNG (the specification asks for 192 to 512). */
export const SECRET_BYTES = 32;

/** A new signing secret, `whsec_<base64>`, shown to the operator once. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new RampartError('webhook.secret_invalid', 'webhook secret lacks the whsec_ prefix');
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length < 24 || key.length > 64) throw new RampartError('webhook.secret_invalid', 'webhook secret is not 24 to 64 bytes of base64');
  return key;
}

export interface SignedMessage {
  /** The delivery id: no `.` (ids are base64url). */
  readonly id: string;
  /** Unix seconds of this attempt. */
  readonly timestamp: number;
  readonly body: string;
}

/** The `webhook-signature` value for one message. */
export function signWebhook(message: SignedMessage, secret: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${message.id}.${message.timestamp}.${message.body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers for one attempt. */
export function webhookHeaders(message: SignedMessage, secret: string): Record<string, string> {
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(message.timestamp),
    'webhook-signature': signWebhook(message, secret),
  };
}
