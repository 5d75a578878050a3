import { randomBytes } from 'node:crypto';

// Every identifier and token comes from the CSPRNG.

/** A prefixed, URL-safe, 128-bit random identifier, e.g. `acct_Xq3…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** A URL-safe random token of `bytes` bytes (default 256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

// Crockford's alphabet: no I, L, O or U, so codes survive being read aloud or retyped.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Random code for humans to type: `bits` of entropy in Crockford base32, grouped by 4. */
export function humanCode(bits = 160): string {
  const chars = Math.ceil(bits / 5);
  const bytes = randomBytes(chars);
  let out = '';
  for (let i = 0; i < chars; i++) {
    // 256 is a multiple of 32, so taking the low five bits is unbiased.
    out += CROCKFORD.charAt((bytes[i] ?? 0) & 31);
    if (i % 4 === 3 && i !== chars - 1) out += '-';
  }
  return out;
}

/** Canonical form of a typed human code: upper case, separators dropped, look-alikes folded. */
export function normalizeHumanCode(input: string): string {
  return input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
}
