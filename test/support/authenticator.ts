import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

// A software WebAuthn authenticator (plus the browser's part of the ceremony)
// for tests. It produces what a real browser posts: a CBOR attestation object
// in the 'none' format, authenticator data with attested credential data, a
// clientDataJSON, and assertions signed with a real key (ES256 with DER-encoded
// ECDSA signatures, or Ed25519). Knobs let a test forge what an attacker, a
// clone or a broken client would send.

export type SoftwareAlgorithm = 'ES256' | 'Ed25519';

export interface SoftwareAuthenticatorOptions {
  /** The origin the "browser" reports in clientDataJSON. */
  readonly origin: string;
  /** The RP id the authenticator hashes into its authenticator data. */
  readonly rpId: string;
  /** Default ES256. */
  readonly algorithm?: SoftwareAlgorithm;
  readonly aaguid?: Uint8Array;
  readonly transports?: readonly string[];
  /** Synced-passkey style: sets the backup-eligible and backed-up flags. */
  readonly backedUp?: boolean;
}

/** Per-ceremony deviations from an honest authenticator and browser. */
export interface Forgery {
  /** clientDataJSON origin. */
  readonly origin?: string;
  /** clientDataJSON challenge (otherwise the options' challenge). */
  readonly challenge?: string;
  /** clientDataJSON type. */
  readonly type?: string;
  /** The RP id hashed into the authenticator data. */
  readonly rpId?: string;
  /** false: clear the UV flag (the user was not verified). */
  readonly userVerified?: boolean;
  /** false: clear the UP flag. */
  readonly userPresent?: boolean;
  /**
   * The signature counter to report. register: the credential's starting value.
   * authenticate: reported this once, as a clone would; the authenticator's own counter is left alone.
   */
  readonly signCount?: number;
  /** Flip a bit in the signature's last byte (the DER structure stays valid). */
  readonly alterSignature?: boolean;
  /** register: use this credential id (as a buggy or malicious authenticator might); authenticate: use this credential. */
  readonly credentialId?: string;
}

interface Credential {
  readonly id: Buffer;
  readonly rpId: string;
  readonly userHandle: string;
  readonly algorithm: SoftwareAlgorithm;
  readonly privateKey: KeyObject;
  signCount: number;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

const COSE_ALG: Record<SoftwareAlgorithm, number> = { ES256: -7, Ed25519: -8 };

// ---------------------------------------------------------------- CBOR (RFC 8949), just what WebAuthn needs

export type CborValue = number | string | Uint8Array | readonly CborValue[] | ReadonlyMap<CborValue, CborValue>;

function cborHead(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/** Encodes definite-length CBOR; map entries keep insertion order, so callers insert in canonical order. */
export function cborEncode(value: CborValue): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || Math.abs(value) > 0xffffffff) throw new Error(`cannot encode ${value}`);
    return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([cborHead(4, value.length), ...value.map((v: CborValue) => cborEncode(v))]);
  const map = value as ReadonlyMap<CborValue, CborValue>;
  const parts = [cborHead(5, map.size)];
  for (const [k, v] of map) parts.push(cborEncode(k), cborEncode(v));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- keys

function newKey(algorithm: SoftwareAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  return algorithm === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
}

/** The COSE_Key (RFC 9053) of a public key, in CTAP2 canonical key order. */
function coseKey(algorithm: SoftwareAlgorithm, publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  if (algorithm === 'Ed25519') {
    // kty OKP, alg EdDSA, crv Ed25519, x
    return cborEncode(new Map<CborValue, CborValue>([[1, 1], [3, -8], [-1, 6], [-2, x]]));
  }
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  // kty EC2, alg ES256, crv P-256, x, y
  return cborEncode(new Map<CborValue, CborValue>([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, y]]));
}

function signWith(credential: Credential, data: Buffer): Buffer {
  // ES256: node:crypto's default ECDSA encoding is DER, which WebAuthn requires.
  return credential.algorithm === 'ES256' ? sign('sha256', data, { key: credential.privateKey, dsaEncoding: 'der' }) : sign(null, data, credential.privateKey);
}

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();
const b64u = (data: Uint8Array): string => Buffer.from(data).toString('base64url');

// ---------------------------------------------------------------- the authenticator

export class SoftwareAuthenticator {
  readonly origin: string;
  readonly rpId: string;
  readonly algorithm: SoftwareAlgorithm;
  readonly aaguid: Buffer;
  readonly transports: readonly string[];
  readonly backedUp: boolean;
  readonly #credentials = new Map<string, Credential>();

  constructor(options: SoftwareAuthenticatorOptions) {
    this.origin = options.origin;
    this.rpId = options.rpId;
    this.algorithm = options.algorithm ?? 'ES256';
    this.aaguid = Buffer.from(options.aaguid ?? new Uint8Array(16));
    this.transports = options.transports ?? ['internal', 'hybrid'];
    this.backedUp = options.backedUp ?? false;
  }

  /** Ids (base64url) of the credentials this authenticator holds. */
  get credentialIds(): string[] {
    return [...this.#credentials.keys()];
  }

  /** The counter the credential last reported. */
  signCount(credentialId: string): number {
    return this.#require(credentialId).signCount;
  }

  /** navigator.credentials.create() followed by `toJSON()`. */
  register(options: PublicKeyCredentialCreationOptionsJSON, forgery: Forgery = {}): RegistrationResponseJSON {
    const rpId = options.rp.id ?? this.rpId;
    if (rpId !== this.rpId) throw new Error(`SecurityError: RP id ${rpId} is not valid for ${this.origin}`);
    const alg = COSE_ALG[this.algorithm];
    if (!options.pubKeyCredParams.some((p) => p.alg === alg)) throw new Error(`NotSupportedError: the RP does not accept ${this.algorithm}`);
    if (forgery.credentialId === undefined && options.excludeCredentials?.some((c) => this.#credentials.has(c.id)) === true) {
      throw new Error('InvalidStateError: this authenticator already holds an excluded credential');
    }

    const { privateKey, publicKey } = newKey(this.algorithm);
    const id = forgery.credentialId === undefined ? randomBytes(32) : Buffer.from(forgery.credentialId, 'base64url');
    const credential: Credential = { id, rpId, userHandle: options.user.id, algorithm: this.algorithm, privateKey, signCount: forgery.signCount ?? 0 };
    this.#credentials.set(b64u(id), credential);

    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const attested = Buffer.concat([this.aaguid, idLength, id, coseKey(this.algorithm, publicKey)]);
    const authData = this.#authData(forgery, FLAG_AT, credential.signCount, attested);
    const attestationObject = cborEncode(
      new Map<CborValue, CborValue>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    const credProps = options.extensions?.credProps === true ? { credProps: { rk: options.authenticatorSelection?.residentKey !== 'discouraged' } } : {};
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(this.#clientData('webauthn.create', options.challenge, forgery)),
        attestationObject: b64u(attestationObject),
        authenticatorData: b64u(authData),
        transports: [...this.transports],
        publicKeyAlgorithm: alg,
        publicKey: b64u(publicKey.export({ format: 'der', type: 'spki' })),
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: credProps,
    };
  }

  /** navigator.credentials.get() followed by `toJSON()`. Each honest assertion advances the counter by one. */
  authenticate(options: PublicKeyCredentialRequestOptionsJSON, forgery: Forgery = {}): AuthenticationResponseJSON {
    const rpId = options.rpId ?? this.rpId;
    if (rpId !== this.rpId) throw new Error(`SecurityError: RP id ${rpId} is not valid for ${this.origin}`);
    const credential = this.#choose(options, forgery.credentialId);
    if (forgery.signCount === undefined) credential.signCount += 1;
    const authData = this.#authData(forgery, 0, forgery.signCount ?? credential.signCount);
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge, forgery);
    const signature = signWith(credential, Buffer.concat([authData, sha256(clientDataJSON)]));
    if (forgery.alterSignature === true) signature[signature.length - 1] = (signature[signature.length - 1] ?? 0) ^ 0x01;
    return {
      id: b64u(credential.id),
      rawId: b64u(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: credential.userHandle,
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  #require(id: string): Credential {
    const credential = this.#credentials.get(id);
    if (credential === undefined) throw new Error(`NotAllowedError: no credential ${id} on this authenticator`);
    return credential;
  }

  #choose(options: PublicKeyCredentialRequestOptionsJSON, forced: string | undefined): Credential {
    if (forced !== undefined) return this.#require(forced);
    const allowed = options.allowCredentials ?? [];
    const candidates = [...this.#credentials.entries()].filter(([id, c]) => c.rpId === this.rpId && (allowed.length === 0 || allowed.some((a) => a.id === id)));
    const first = candidates[0];
    if (first === undefined) throw new Error('NotAllowedError: no matching credential on this authenticator');
    return first[1];
  }

  #authData(forgery: Forgery, extraFlags: number, signCount: number, attested: Buffer = Buffer.alloc(0)): Buffer {
    let flags = extraFlags;
    if (forgery.userPresent !== false) flags |= FLAG_UP;
    if (forgery.userVerified !== false) flags |= FLAG_UV;
    if (this.backedUp) flags |= FLAG_BE | FLAG_BS;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(signCount);
    return Buffer.concat([sha256(forgery.rpId ?? this.rpId), Buffer.from([flags]), counter, attested]);
  }

  #clientData(type: string, challenge: string, forgery: Forgery): Buffer {
    const data = { type: forgery.type ?? type, challenge: forgery.challenge ?? challenge, origin: forgery.origin ?? this.origin, crossOrigin: false };
    return Buffer.from(JSON.stringify(data), 'utf8');
  }
}
