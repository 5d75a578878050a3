import { createHash } from 'node:crypto';
import { randomToken } from '../../kernel/ids.ts';

// Public tracking links: `/t/<token>`, the token 256 bits from the CSPRNG in
// base64url. Only its SHA-256 is stored, so a database reader cannot build a
// working link; the token is shown when the shipment is created and when it is
// rotated, never again.

export const TRACKING_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newTrackingToken(): { token: string; hash: string } {
  const token = randomToken(32);
  return { token, hash: hashTrackingToken(token) };
}

export function hashTrackingToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function trackingPath(token: string): string {
  return `/t/${token}`;
}
