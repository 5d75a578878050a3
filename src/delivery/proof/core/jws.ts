import type { KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import type { ReceiptKeys } from './receipt-keys.ts';

// The checks every Rampart proof JWS (receipt or export signature) gets before
// and around jose's signature check: strict compact form, canonical base64url
// (an Ed25519 signature has four spare bits in its last character, so a
// lenient decoder would accept a changed receipt as the same one), exactly
// the header parameters Rampart writes, the expected `typ`, EdDSA, and a kid
// among the given keys.

export type JwsFailure = 'malformed' | 'wrong_type' | 'wrong_algorithm' | 'unknown_key' | 'bad_signature';

export type JwsCheck =
  | { readonly ok: true; readonly kid: string; readonly payload: Uint8Array }
  | { readonly ok: false; readonly reason: JwsFailure; readonly message: string };

/** Longest JWS accepted (a receipt is well under 2 kB). */
export const MAX_JWS_LENGTH = 16_384;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const HEADER_KEYS = ['alg', 'kid', 'typ'];

function fail(reason: JwsFailure, message: string): JwsCheck {
  return { ok: false, reason, message };
}

/** Decodes base64url only when the text is exactly what encoding the result gives back. */
export function canonicalBase64Url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/**
 * Verifies a compact JWS (or a detached one, with `detachedPayload` the
 * payload's bytes) of type `typ` against `keys`.
 */
export async function verifyProofJws(jws: string, typ: string, keys: ReceiptKeys, detachedPayload?: Uint8Array): Promise<JwsCheck> {
  if (typeof jws !== 'string' || jws.length > MAX_JWS_LENGTH) return fail('malformed', 'not a compact JWS of acceptable length');
  const parts = jws.split('.');
  if (parts.length !== 3) return fail('malformed', 'a compact JWS has three dot-separated parts');
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  const headerBytes = canonicalBase64Url(headerPart);
  const signature = canonicalBase64Url(signaturePart);
  if (headerBytes === undefined || signature === undefined) return fail('malformed', 'header or signature is not canonical base64url');
  if (detachedPayload === undefined ? canonicalBase64Url(payloadPart) === undefined : payloadPart !== '') {
    return fail('malformed', detachedPayload === undefined ? 'payload is not canonical base64url' : 'a detached signature carries no payload');
  }
  let header: unknown;
  try {
    header = JSON.parse(headerBytes.toString('utf8'));
  } catch {
    return fail('malformed', 'header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('malformed', 'header is not a JSON object');
  const fields = header as Record<string, unknown>;
  const names = Object.keys(fields).sort();
  if (names.length !== HEADER_KEYS.length || names.some((name, i) => name !== HEADER_KEYS[i])) {
    return fail('malformed', `header parameters must be exactly ${HEADER_KEYS.join(', ')} (found ${names.join(', ').slice(0, 200)})`);
  }
  if (fields['typ'] !== typ) return fail('wrong_type', `type ${JSON.stringify(fields['typ']).slice(0, 80)} is not ${typ}`);
  if (fields['alg'] !== 'EdDSA') return fail('wrong_algorithm', `algorithm ${JSON.stringify(fields['alg']).slice(0, 80)} is not EdDSA`);
  const kid = fields['kid'];
  if (typeof kid !== 'string' || kid === '') return fail('malformed', 'header names no key');
  const key: KeyObject | undefined = keys.get(kid);
  if (key === undefined) return fail('unknown_key', `signed with key ${kid.slice(0, 64)}, which is not among the receipt keys given`);
  const whole = detachedPayload === undefined ? jws : `${headerPart}.${Buffer.from(detachedPayload).toString('base64url')}.${signaturePart}`;
  try {
    const { payload } = await compactVerify(whole, key, { algorithms: ['EdDSA'] });
    return { ok: true, kid, payload };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return fail('bad_signature', `the signature does not verify with key ${kid.slice(0, 64)}`);
    return fail('malformed', `not a valid JWS (${typeof code === 'string' ? code : (error as Error).message})`);
  }
}
