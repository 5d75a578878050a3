import { timingSafeEqual } from 'node:crypto';

/**
 * Whether two secrets (or values derived from them) are equal, taking the same
 * time wherever they differ. Only their lengths may leak, so compare digests
 * when the length itself is secret. The one comparison for secrets in Rampart.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const left = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const right = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  return left.length === right.length && timingSafeEqual(left, right);
}
