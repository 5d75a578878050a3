import { createPublicKey, type KeyObject } from 'node:crypto';
import type { PublicJwk } from '../../../crypto/keyring.ts';
import { RampartError } from '../../../kernel/errors.ts';
import type { Db } from '../../../storage/database.ts';

// The public keys a receipt may be signed with: the keyring's `receipt`
// purpose only, current and rotated out. A JWKS names no purpose, so the set
// handed to a verifier decides which keys count as receipt keys.

export interface ReceiptJwks {
  readonly keys: readonly PublicJwk[];
}

/** The receipt-purpose public keys (current and rotated out) as a JWKS, for exports and offline verification. */
export async function receiptJwks(db: Db): Promise<ReceiptJwks> {
  const rows = await db.selectFrom('signing_keys').select('public_jwk').where('purpose', '=', 'receipt').orderBy('created_at').orderBy('kid').execute();
  return { keys: rows.map((row) => JSON.parse(row.public_jwk) as PublicJwk) };
}

function refuse(message: string, cause?: unknown): RampartError {
  return new RampartError('proof.jwks_invalid', message, cause === undefined ? {} : { cause });
}

/** Verification keys by kid: Ed25519 public keys only. */
export class ReceiptKeys {
  readonly #keys: ReadonlyMap<string, KeyObject>;

  private constructor(keys: ReadonlyMap<string, KeyObject>) {
    this.#keys = keys;
  }

  /**
   * Accepts `{ keys: [...] }`. Keys of other types or algorithms are skipped
   * (they cannot have signed a receipt); a private key or a malformed Ed25519
   * key refuses the whole set with `proof.jwks_invalid`.
   */
  static fromJwks(jwks: unknown): ReceiptKeys {
    if (jwks instanceof ReceiptKeys) return jwks;
    const list = typeof jwks === 'object' && jwks !== null ? (jwks as { keys?: unknown }).keys : undefined;
    if (!Array.isArray(list)) throw refuse('a JWKS must be a JSON object with a "keys" array');
    const keys = new Map<string, KeyObject>();
    for (const entry of list) {
      if (typeof entry !== 'object' || entry === null) throw refuse('every entry of "keys" must be a JSON object');
      const jwk = entry as Record<string, unknown>;
      const kid = typeof jwk['kid'] === 'string' ? jwk['kid'] : '';
      if ('d' in jwk) throw refuse(`key ${kid.slice(0, 64)} in the JWKS is a private key; supply public keys only`);
      if (jwk['kty'] !== 'OKP' || jwk['crv'] !== 'Ed25519' || kid === '') continue;
      if ((jwk['alg'] !== undefined && jwk['alg'] !== 'EdDSA') || (jwk['use'] !== undefined && jwk['use'] !== 'sig')) continue;
      if (typeof jwk['x'] !== 'string') throw refuse(`key ${kid.slice(0, 64)} in the JWKS has no public key value`);
      try {
        keys.set(kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk['x'] }, format: 'jwk' }));
      } catch (error) {
        throw refuse(`key ${kid.slice(0, 64)} in the JWKS is not a valid Ed25519 public key`, error);
      }
    }
    return new ReceiptKeys(keys);
  }

  get(kid: string): KeyObject | undefined {
    return this.#keys.get(kid);
  }

  get size(): number {
    return this.#keys.size;
  }
}
