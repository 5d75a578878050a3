import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { RampartError } from '../kernel/errors.ts';
import { checkpointPayload } from './chain.ts';

// Checkpoint signatures are checked against public keys only, and only as
// Ed25519: a key of any other type or algorithm in the set is ignored, so a
// verifier can never be talked into another algorithm by what the JWKS says.

export interface SignedCheckpoint {
  readonly seq: number;
  readonly head_hash: string;
  readonly at: string;
  readonly kid: string;
  /** base64url */
  readonly signature: string;
}

export type SignatureVerdict = 'valid' | 'invalid' | 'unknown_key' | 'malformed';

const ED25519_SIGNATURE_BYTES = 64;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class CheckpointKeys {
  readonly #keys: ReadonlyMap<string, KeyObject>;

  private constructor(keys: ReadonlyMap<string, KeyObject>) {
    this.#keys = keys;
  }

  /** Accepts `{ keys: [...] }`; keeps only Ed25519 keys with a kid. Throws audit.jwks_invalid when the shape is wrong. */
  static fromJwks(jwks: unknown): CheckpointKeys {
    const list = typeof jwks === 'object' && jwks !== null ? (jwks as { keys?: unknown }).keys : undefined;
    if (!Array.isArray(list)) throw new RampartError('audit.jwks_invalid', 'a JWKS must be a JSON object with a "keys" array');
    const keys = new Map<string, KeyObject>();
    for (const entry of list as unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue;
      const jwk = entry as Record<string, unknown>;
      if (jwk['kty'] !== 'OKP' || jwk['crv'] !== 'Ed25519' || typeof jwk['kid'] !== 'string' || typeof jwk['x'] !== 'string') continue;
      if (jwk['alg'] !== undefined && jwk['alg'] !== 'EdDSA') continue;
      if ('d' in jwk) throw new RampartError('audit.jwks_invalid', `key ${jwk['kid']} in the JWKS is a private key; supply public keys only`);
      let key: KeyObject;
      try {
        key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk['x'] } satisfies JsonWebKey, format: 'jwk' });
      } catch (error) {
        throw new RampartError('audit.jwks_invalid', `key ${jwk['kid']} in the JWKS is not a valid Ed25519 public key`, { cause: error });
      }
      if (key.asymmetricKeyType === 'ed25519') keys.set(jwk['kid'], key);
    }
    return new CheckpointKeys(keys);
  }

  get size(): number {
    return this.#keys.size;
  }

  verify(checkpoint: SignedCheckpoint): SignatureVerdict {
    const key = this.#keys.get(checkpoint.kid);
    if (key === undefined) return 'unknown_key';
    if (!Number.isSafeInteger(checkpoint.seq) || !BASE64URL.test(checkpoint.signature)) return 'malformed';
    const signature = Buffer.from(checkpoint.signature, 'base64url');
    if (signature.length !== ED25519_SIGNATURE_BYTES) return 'malformed';
    const payload = checkpointPayload(checkpoint.seq, checkpoint.head_hash, checkpoint.at);
    return verify(null, payload, key, signature) ? 'valid' : 'invalid';
  }
}
