import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { constantTimeEqual } from './compare.ts';
import { CryptoError } from '../kernel/errors.ts';
import type { Clock } from '../kernel/clock.ts';
import { newId } from '../kernel/ids.ts';
import type { Database } from '../storage/database.ts';
import { deriveKey, formatSealed, fromBase64Url, open, seal } from './envelope.ts';
import type { EncryptedColumn } from './encrypted-columns.ts';
import * as store from './keyring.store.ts';

// Envelope encryption. The master key (KEK) never encrypts data: it wraps
// per-purpose data keys and the Ed25519 signing keys, which are stored wrapped
// in the database. A field ciphertext is bound by associated data to its table,
// column, row and key, so a value copied anywhere else fails to decrypt.
//
//   field ciphertext:  rk1.<dataKeyId>.<nonce>.<ciphertext‖tag>   (base64url parts)
//   wrapped key:       w1.<nonce>.<ciphertext‖tag>

const FIELD_FORMAT = 'rk1';
const WRAP_FORMAT = 'w1';

/** Active keys are re-read this often, so a rotation by another process is picked up. */
export const ACTIVE_KEY_CACHE_MS = 5_000;

export const SIGNING_PURPOSES = ['receipt', 'audit', 'token'] as const;
export type SigningPurpose = (typeof SIGNING_PURPOSES)[number];

export interface FieldRef {
  readonly table: string;
  readonly column: string;
  readonly rowId: string;
}

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export interface PublicJwk extends JsonWebKey {
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

interface Cached<T> {
  readonly value: T;
  readonly loadedAt: number;
}

export interface KeyringOptions {
  readonly database: Database;
  readonly masterKey: Buffer;
  readonly clock: Clock;
  /** Encrypted columns; a column's purpose picks its data key. */
  readonly columns: readonly EncryptedColumn[];
}

function fieldAad(ref: FieldRef, keyId: string): string {
  return ['rampart/field/v1', ref.table, ref.column, ref.rowId, keyId].join('\0');
}

export function fieldKeyPrefix(keyId: string): string {
  return `${FIELD_FORMAT}.${keyId}.`;
}

export class Keyring {
  readonly #database: Database;
  readonly #wrapKey: Buffer;
  readonly #clock: Clock;
  readonly #purposeOf: Map<string, string>;
  readonly #dataKeys = new Map<string, Buffer>();
  readonly #activeDataKeys = new Map<string, Cached<string>>();
  readonly #activeSigningKeys = new Map<string, Cached<SigningKey>>();

  private constructor(options: KeyringOptions) {
    this.#database = options.database;
    this.#wrapKey = deriveKey(options.masterKey, 'rampart/kek/wrap/v1');
    this.#clock = options.clock;
    this.#purposeOf = new Map(options.columns.map((c) => [`${c.table}.${c.column}`, c.purpose]));
  }

  /**
   * Opens the keyring, recording the master key's fingerprint on first use and
   * refusing a different master key afterwards (clearer than failing to unwrap later).
   */
  static async open(options: KeyringOptions): Promise<Keyring> {
    const fingerprint = masterKeyFingerprint(options.masterKey);
    const db = options.database.db;
    let stored = await store.readKekFingerprint(db);
    if (stored === undefined) {
      try {
        await store.insertKekFingerprint(db, fingerprint, options.clock.now().toISOString());
        stored = fingerprint;
      } catch (error) {
        // Another instance recorded its key first: compare against that one.
        if (!options.database.isUniqueViolation(error)) throw error;
        stored = (await store.readKekFingerprint(db)) ?? '';
      }
    }
    if (!constantTimeEqual(stored, fingerprint)) {
      throw new CryptoError('crypto.master_key_mismatch', 'the master key does not match the one this database\'s keys were wrapped with');
    }
    return new Keyring(options);
  }

  /** Encrypts a value for one row's column with the column's purpose key. */
  async encryptField(ref: FieldRef, plaintext: string | Uint8Array): Promise<string> {
    const purpose = this.#purposeOf.get(`${ref.table}.${ref.column}`);
    if (purpose === undefined) throw new Error(`${ref.table}.${ref.column} is not a registered encrypted column`);
    const keyId = await this.activeDataKeyId(purpose);
    const key = await this.#dataKey(keyId);
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    return formatSealed(`${FIELD_FORMAT}.${keyId}`, seal(key, bytes, fieldAad(ref, keyId)));
  }

  async decryptField(ref: FieldRef, ciphertext: string): Promise<Buffer> {
    const parts = ciphertext.split('.');
    const what = `${ref.table}.${ref.column} of row ${ref.rowId}`;
    if (parts.length !== 4 || parts[0] !== FIELD_FORMAT || parts[1] === undefined || parts[1] === '') {
      throw new CryptoError('crypto.ciphertext_malformed', `${what}: not a ${FIELD_FORMAT} ciphertext (truncated or damaged)`);
    }
    const keyId = parts[1];
    const sealed = { nonce: fromBase64Url(parts[2], what), body: fromBase64Url(parts[3], what) };
    return open(await this.#dataKey(keyId), sealed, fieldAad(ref, keyId), what);
  }

  async decryptFieldText(ref: FieldRef, ciphertext: string): Promise<string> {
    return (await this.decryptField(ref, ciphertext)).toString('utf8');
  }

  /** The id of the purpose's active data key, creating the first one on demand. */
  async activeDataKeyId(purpose: string): Promise<string> {
    const cached = this.#fresh(this.#activeDataKeys.get(purpose));
    if (cached !== undefined) return cached;
    const db = this.#database.db;
    const row = await this.#findOrCreateActive(
      () => store.findActiveDataKey(db, purpose),
      async () => {
        const fresh = this.newDataKeyRow(purpose);
        try {
          await store.insertDataKey(db, fresh);
        } catch (error) {
          this.#dataKeys.delete(fresh.id); // our row was not stored, so neither is its material
          throw error;
        }
      },
      `data key for ${purpose}`,
    );
    this.#activeDataKeys.set(purpose, { value: row.id, loadedAt: this.#clock.now().getTime() });
    return row.id;
  }

  /** Drops cached active keys so the next use reads the database (after a rotation). */
  forgetActiveKeys(): void {
    this.#activeDataKeys.clear();
    this.#activeSigningKeys.clear();
  }

  async #dataKey(id: string): Promise<Buffer> {
    const cached = this.#dataKeys.get(id);
    if (cached !== undefined) return cached;
    const row = await store.findDataKey(this.#database.db, id);
    if (row?.wrapped_key == null) {
      throw new CryptoError('crypto.unknown_key', `data key ${id} is ${row === undefined ? 'unknown' : 'retired'}`);
    }
    const material = this.#unwrap(row.wrapped_key, dataKeyAad(row.id, row.purpose), `data key ${id}`);
    this.#dataKeys.set(id, material);
    return material;
  }

  /** The purpose's active Ed25519 signing key, creating the first one on demand. */
  async signingKey(purpose: SigningPurpose): Promise<SigningKey> {
    const cached = this.#fresh(this.#activeSigningKeys.get(purpose));
    if (cached !== undefined) return cached;
    const db = this.#database.db;
    const row = await this.#findOrCreateActive(
      () => store.findActiveSigningKey(db, purpose),
      () => store.insertSigningKey(db, this.newSigningKeyRow(purpose)),
      `signing key for ${purpose}`,
    );
    const key = {
      kid: row.kid,
      privateKey: createPrivateKey({
        key: this.#unwrap(row.wrapped_private_key, signingKeyAad(row.kid, row.purpose), `signing key ${row.kid}`),
        format: 'der',
        type: 'pkcs8',
      }),
    };
    this.#activeSigningKeys.set(purpose, { value: key, loadedAt: this.#clock.now().getTime() });
    return key;
  }

  /** A new, wrapped Ed25519 key pair as a row; the caller inserts it. */
  newSigningKeyRow(purpose: SigningPurpose): store.SigningKeyRow {
    const kid = newId('sk');
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk: PublicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
    return {
      kid,
      purpose,
      alg: 'EdDSA',
      status: 'active',
      public_jwk: JSON.stringify(jwk),
      wrapped_private_key: this.#wrap(privateKey.export({ format: 'der', type: 'pkcs8' }), signingKeyAad(kid, purpose)),
      created_at: this.#clock.now().toISOString(),
      rotated_at: null,
    };
  }

  /** A new wrapped data key row for `purpose`; the caller inserts it. */
  newDataKeyRow(purpose: string): store.DataKeyRow {
    const id = newId('dk');
    const material = randomBytes(32);
    this.#dataKeys.set(id, material);
    return { id, purpose, status: 'active', wrapped_key: this.#wrap(material, dataKeyAad(id, purpose)), created_at: this.#clock.now().toISOString(), retired_at: null };
  }

  async sign(purpose: SigningPurpose, data: Uint8Array): Promise<{ kid: string; signature: Buffer }> {
    const key = await this.signingKey(purpose);
    return { kid: key.kid, signature: sign(null, data, key.privateKey) };
  }

  /** Verifies against any published key (active or rotated out); unknown kid is an error. */
  async verify(kid: string, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const row = await store.findSigningKey(this.#database.db, kid);
    if (row === undefined) throw new CryptoError('crypto.unknown_key', `signing key ${kid} is unknown`);
    const publicKey = createPublicKey({ key: JSON.parse(row.public_jwk) as JsonWebKey, format: 'jwk' });
    return verify(null, data, publicKey, signature);
  }

  /** Public keys of every signing key, current and rotated out, for the JWKS endpoint. */
  async publicJwks(): Promise<{ keys: PublicJwk[] }> {
    const rows = await store.listSigningKeys(this.#database.db);
    return { keys: rows.map((r) => JSON.parse(r.public_jwk) as PublicJwk) };
  }

  /**
   * The active row, creating it when there is none. The database allows one active
   * key per purpose, so if another process creates one at the same moment, ours is
   * refused as a unique violation and theirs is used.
   */
  async #findOrCreateActive<Row>(find: () => Promise<Row | undefined>, create: () => Promise<void>, what: string): Promise<Row> {
    const existing = await find();
    if (existing !== undefined) return existing;
    try {
      await create();
    } catch (error) {
      if (!this.#database.isUniqueViolation(error)) throw error;
    }
    const created = await find();
    if (created === undefined) throw new Error(`no active ${what} after creating one`);
    return created;
  }

  #fresh<T>(entry: Cached<T> | undefined): T | undefined {
    if (entry === undefined || this.#clock.now().getTime() - entry.loadedAt >= ACTIVE_KEY_CACHE_MS) return undefined;
    return entry.value;
  }

  #wrap(material: Uint8Array, aad: string): string {
    return formatSealed(WRAP_FORMAT, seal(this.#wrapKey, material, aad));
  }

  #unwrap(wrapped: string, aad: string, what: string): Buffer {
    const parts = wrapped.split('.');
    if (parts.length !== 3 || parts[0] !== WRAP_FORMAT) throw new CryptoError('crypto.ciphertext_malformed', `${what}: not a wrapped key`);
    return open(this.#wrapKey, { nonce: fromBase64Url(parts[1], what), body: fromBase64Url(parts[2], what) }, aad, what);
  }
}

function dataKeyAad(id: string, purpose: string): string {
  return ['rampart/data-key/v1', id, purpose].join('\0');
}

function signingKeyAad(kid: string, purpose: string): string {
  return ['rampart/signing-key/v1', kid, purpose].join('\0');
}

/** Identifies a master key without revealing it: HMAC under a derived subkey. */
export function masterKeyFingerprint(masterKey: Buffer): string {
  return createHmac('sha256', deriveKey(masterKey, 'rampart/kek/fingerprint/v1')).update('rampart master key').digest('base64url');
}

