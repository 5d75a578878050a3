import { randomBytes } from 'node:crypto';

/** A fresh 256-bit master key. */
export function masterKey(): Buffer {
  return randomBytes(32);
}
