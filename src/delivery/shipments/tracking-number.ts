import { randomBytes } from 'node:crypto';

// Tracking numbers people read aloud and type: `RP-` and eleven characters
// in groups of four, e.g. `RP-7KQ2-M9XD-4HT`. The characters are Crockford's
// base32 alphabet without Z (31 symbols, so a prime modulus fits): ten from the
// CSPRNG (49.5 bits) and a check character, the position-weighted sum mod 31,
// which catches every single mistyped character and every swap of two
// neighbours. Uniqueness is the database's unique index; a clash is drawn again.

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXY';
const RANDOM_CHARS = 10;
export const TRACKING_NUMBER_PATTERN = '^RP-[0-9A-HJKMNP-TV-Y]{4}-[0-9A-HJKMNP-TV-Y]{4}-[0-9A-HJKMNP-TV-Y]{3}$';

function checkChar(payload: string): string {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) sum += (i + 1) * ALPHABET.indexOf(payload.charAt(i));
  return ALPHABET.charAt(sum % ALPHABET.length);
}

function format(compact: string): string {
  return `RP-${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8)}`;
}

export function newTrackingNumber(): string {
  let payload = '';
  while (payload.length < RANDOM_CHARS) {
    // Five unbiased bits per byte; 31 (outside the alphabet) is drawn again.
    for (const byte of randomBytes(RANDOM_CHARS)) {
      const value = byte & 31;
      if (value < ALPHABET.length && payload.length < RANDOM_CHARS) payload += ALPHABET.charAt(value);
    }
  }
  return format(payload + checkChar(payload));
}

/**
 * The canonical tracking number for what someone typed (any case, spaces or
 * dashes anywhere, `RP` prefix optional, I/L read as 1 and O as 0), or
 * undefined when it is not one (wrong length, alphabet or check character).
 */
export function parseTrackingNumber(input: string): string | undefined {
  let compact = input.toUpperCase().replace(/[\s-]/g, '');
  if (compact.startsWith('RP') && compact.length === RANDOM_CHARS + 3) compact = compact.slice(2);
  compact = compact.replace(/[IL]/g, '1').replace(/O/g, '0');
  if (compact.length !== RANDOM_CHARS + 1 || !/^[0-9A-HJKMNP-TV-Y]+$/.test(compact)) return undefined;
  const payload = compact.slice(0, RANDOM_CHARS);
  return checkChar(payload) === compact.charAt(RANDOM_CHARS) ? format(compact) : undefined;
}
