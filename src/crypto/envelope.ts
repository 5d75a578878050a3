import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { CryptoError } from '../kernel/errors.ts';

// AES-256-GCM with a random 96-bit nonce and a 128-bit tag: the one cipher used
// for stored secrets. Callers always bind the ciphertext to where it lives with
// associated data, so it cannot be moved and still decrypt.

export const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface Sealed {
  readonly nonce: Buffer;
  /** ciphertext followed by the authentication tag */
  readonly body: Buffer;
}

export function seal(key: Buffer, plaintext: Uint8Array, aad: string): Sealed {
  if (key.length !== KEY_BYTES) throw new RangeError('AES-256-GCM needs a 32-byte key');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, body };
}

/** Throws CryptoError('crypto.authentication_failed') on any alteration, wrong key or wrong AAD. */
export function open(key: Buffer, sealed: Sealed, aad: string, what: string): Buffer {
  if (sealed.nonce.length !== NONCE_BYTES || sealed.body.length < TAG_BYTES) {
    throw new CryptoError('crypto.ciphertext_malformed', `${what}: nonce or tag has the wrong length`);
  }
  const tag = sealed.body.subarray(sealed.body.length - TAG_BYTES);
  const ciphertext = sealed.body.subarray(0, sealed.body.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (error) {
    throw new CryptoError('crypto.authentication_failed', `${what}: authentication failed (altered, moved, or encrypted under another key)`, { cause: error });
  }
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes strict base64url; anything else (padding, other characters) is malformed. */
export function fromBase64Url(text: string | undefined, what: string): Buffer {
  if (text === undefined || !B64URL.test(text)) throw new CryptoError('crypto.ciphertext_malformed', `${what}: not base64url`);
  return Buffer.from(text, 'base64url');
}

/** Serialises a sealed value as `<prefix>.<nonce>.<body>`. */
export function formatSealed(prefix: string, sealed: Sealed): string {
  return `${prefix}.${sealed.nonce.toString('base64url')}.${sealed.body.toString('base64url')}`;
}

/** Derives an independent 256-bit subkey from the master key for one use. */
export function deriveKey(masterKey: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.from('rampart', 'utf8'), Buffer.from(info, 'utf8'), KEY_BYTES));
}
