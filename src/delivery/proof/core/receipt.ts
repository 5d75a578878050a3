import { SignJWT } from 'jose';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Keyring } from '../../../crypto/keyring.ts';
import { newId } from '../../../kernel/ids.ts';
import { verifyProofJws, type JwsFailure } from './jws.ts';
import { proofContentHash, type ProofRecord } from './record.ts';
import { ReceiptKeys } from './receipt-keys.ts';
import { RELATIONSHIPS } from './submission.schema.ts';

// The receipt: a compact JWS (JWT) signed with the keyring's Ed25519 `receipt`
// key, header {alg: EdDSA, typ: rampart-pod-receipt+jwt, kid}. Its claims are
// the non-personal facts of the proof plus the record's content hash; no name,
// signature, photo or PIN is in it, so it can be handed to the customer and
// outlives the shredding of the personal data.

export const RECEIPT_TYPE = 'rampart-pod-receipt+jwt';

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });

export const ReceiptClaimsSchema = Type.Object(
  {
    iss: Type.String({ minLength: 1, maxLength: 256 }),
    jti: Type.String({ pattern: '^rcpt_[A-Za-z0-9_-]{22,}$', maxLength: 64 }),
    iat: Type.Integer({ minimum: 0 }),
    v: Type.Literal(1),
    tracking_number: Type.String({ minLength: 1, maxLength: 128 }),
    content_hash: Sha256Hex,
    image_hashes: Type.Object({ signature: Sha256Hex, photo: Type.Optional(Sha256Hex) }, { additionalProperties: false }),
    delivered_at: Timestamp,
    device_time: Timestamp,
    location: Type.Object(
      {
        lat: Type.Number({ minimum: -90, maximum: 90 }),
        lon: Type.Number({ minimum: -180, maximum: 180 }),
        accuracy_m: Type.Number({ minimum: 0 }),
        distance_m: Type.Number({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    location_verified: Type.Boolean(),
    pin_verified: Type.Boolean(),
    relationship: Type.Enum([...RELATIONSHIPS]),
  },
  { additionalProperties: false },
);

export type ReceiptClaims = Static<typeof ReceiptClaimsSchema>;

const claimsValidator = Compile(ReceiptClaimsSchema);

/** A new receipt id: 128 bits from the CSPRNG, URL-safe. */
export function newReceiptId(): string {
  return newId('rcpt');
}

/** The claims a receipt for `record` carries (everything but the issuer is derived from the record). */
export function receiptClaims(record: ProofRecord, issuer: string): ReceiptClaims {
  const { images, gps } = record;
  return {
    iss: issuer,
    jti: record.receipt_id,
    iat: Math.floor(Date.parse(record.server_time) / 1000),
    v: 1,
    tracking_number: record.tracking_number,
    content_hash: proofContentHash(record),
    image_hashes: images.photo === undefined ? { signature: images.signature.sha256 } : { signature: images.signature.sha256, photo: images.photo.sha256 },
    delivered_at: record.server_time,
    device_time: record.device_time,
    location: { lat: gps.lat, lon: gps.lon, accuracy_m: gps.accuracy_m, distance_m: record.distance_m },
    location_verified: record.location_verified,
    pin_verified: record.pin_verified,
    relationship: record.relationship,
  };
}

export interface SignedReceipt {
  /** The compact JWS. */
  readonly receipt: string;
  readonly claims: ReceiptClaims;
  readonly kid: string;
}

/**
 * Signs the receipt for a record. May read (or create) the receipt key in the
 * database: call it before the transaction that stores the proof, never inside.
 */
export async function signReceipt(record: ProofRecord, options: { readonly keyring: Pick<Keyring, 'signingKey'>; readonly issuer: string }): Promise<SignedReceipt> {
  const claims = receiptClaims(record, options.issuer);
  const key = await options.keyring.signingKey('receipt');
  const receipt = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: RECEIPT_TYPE, kid: key.kid }).sign(key.privateKey);
  return { receipt, claims, kid: key.kid };
}

export type ReceiptFailure = JwsFailure | 'invalid_claims';

export type ReceiptVerification =
  | { readonly ok: true; readonly claims: ReceiptClaims; readonly kid: string }
  | { readonly ok: false; readonly reason: ReceiptFailure; readonly message: string };

/**
 * Verifies a receipt against receipt keys (a JWKS, or ReceiptKeys). Pins
 * EdDSA, the receipt `typ`, the header parameters and the kid within the given
 * keys; the claims must match the receipt's schema exactly. Never throws for
 * a bad receipt: the result names the reason. A malformed JWKS throws
 * `proof.jwks_invalid`.
 */
export async function verifyReceipt(jws: string, jwks: unknown): Promise<ReceiptVerification> {
  const keys = ReceiptKeys.fromJwks(jwks);
  const checked = await verifyProofJws(jws, RECEIPT_TYPE, keys);
  if (!checked.ok) return checked;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(checked.payload).toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed', message: 'payload is not JSON' };
  }
  if (!claimsValidator.Check(claims)) {
    const first = [...claimsValidator.Errors(claims)].find((e) => e.keyword !== 'boolean');
    return { ok: false, reason: 'invalid_claims', message: `claims are not a receipt's: ${first === undefined ? '/' : `${first.instancePath || '/'} ${first.message}`}` };
  }
  return { ok: true, claims, kid: checked.kid };
}
