import { createHash } from 'node:crypto';
import { CompactSign } from 'jose';
import type { Keyring } from '../../../crypto/keyring.ts';
import type { Clock } from '../../../kernel/clock.ts';
import { canonicalJson } from '../../../kernel/canonical-json.ts';
import { verifyProofJws, type JwsFailure } from './jws.ts';
import { verifyRecordAgainstReceipt, type RecordFailure } from './record-check.ts';
import type { ProofRecord } from './record.ts';
import { verifyReceipt, type ReceiptClaims, type ReceiptFailure } from './receipt.ts';
import { ReceiptKeys, type ReceiptJwks } from './receipt-keys.ts';

// The export of one proof (`pod.export`; the caller enforces step-up): one
// JSON document holding the record, its images (base64), the receipt and the
// receipt keys, plus `signature`, a detached JWS (typ rampart-pod-export+jws,
// the receipt key) whose payload is the SHA-256 of the canonical JSON of the
// bundle without `signature`. Anyone can check it offline.

export const BUNDLE_TYPE = 'rampart.pod.export';
export const BUNDLE_SIGNATURE_TYPE = 'rampart-pod-export+jws';

export interface ProofBundle {
  readonly type: typeof BUNDLE_TYPE;
  readonly v: 1;
  readonly exported_at: string;
  readonly record: ProofRecord;
  /** Base64 of each image still held; absent once shredded. */
  readonly images: { readonly signature?: string; readonly photo?: string };
  readonly receipt: string;
  readonly jwks: ReceiptJwks;
}

export interface SignedProofBundle extends ProofBundle {
  /** Detached compact JWS (`header..signature`) over bundleDigest(bundle). */
  readonly signature: string;
}

export interface ExportProofBundleOptions {
  readonly record: ProofRecord;
  /** The image bytes, when they have not been shredded. */
  readonly images: { readonly signature?: Uint8Array | undefined; readonly photo?: Uint8Array | undefined };
  readonly receipt: string;
  /** The receipt keys (receiptJwks). */
  readonly jwks: ReceiptJwks;
  readonly keyring: Pick<Keyring, 'signingKey'>;
  readonly clock: Clock;
}

/** SHA-256 of the canonical JSON of the bundle without its signature. */
export function bundleDigest(bundle: ProofBundle): Buffer {
  const unsigned = Object.fromEntries(Object.entries(bundle).filter(([name]) => name !== 'signature'));
  return createHash('sha256').update(canonicalJson(unsigned), 'utf8').digest();
}

/** Builds and signs an export bundle. Reads the receipt key: call it outside any transaction. */
export async function exportProofBundle(options: ExportProofBundleOptions): Promise<SignedProofBundle> {
  const images: { signature?: string; photo?: string } = {};
  if (options.images.signature !== undefined) images.signature = Buffer.from(options.images.signature).toString('base64');
  if (options.images.photo !== undefined) images.photo = Buffer.from(options.images.photo).toString('base64');
  const bundle: ProofBundle = {
    type: BUNDLE_TYPE,
    v: 1,
    exported_at: options.clock.now().toISOString(),
    record: options.record,
    images,
    receipt: options.receipt,
    jwks: { keys: options.jwks.keys },
  };
  const key = await options.keyring.signingKey('receipt');
  const jws = await new CompactSign(bundleDigest(bundle)).setProtectedHeader({ alg: 'EdDSA', typ: BUNDLE_SIGNATURE_TYPE, kid: key.kid }).sign(key.privateKey);
  const [header = '', , signature = ''] = jws.split('.');
  return { ...bundle, signature: `${header}..${signature}` };
}

export type ImageStatus = 'matches' | 'absent';

export type BundleFailure =
  | { readonly stage: 'bundle'; readonly reason: 'malformed' | JwsFailure }
  | { readonly stage: 'receipt'; readonly reason: ReceiptFailure }
  | { readonly stage: 'record'; readonly reason: RecordFailure }
  | { readonly stage: 'image'; readonly reason: 'malformed' | 'hash_mismatch' | 'not_in_record' };

export type BundleVerification =
  | {
      readonly ok: true;
      readonly claims: ReceiptClaims;
      readonly kid: string;
      /** `bundle`: no keys were given, so the bundle's own were used (integrity, not origin). */
      readonly keysFrom: 'given' | 'bundle';
      readonly personalData: 'present' | 'shredded';
      readonly images: { readonly signature: ImageStatus; readonly photo?: ImageStatus };
    }
  | ({ readonly ok: false; readonly message: string } & BundleFailure);

const BUNDLE_KEYS = ['exported_at', 'images', 'jwks', 'receipt', 'record', 'signature', 'type', 'v'];
const IMAGE_ROLES = ['signature', 'photo'] as const;

function malformed(message: string): BundleVerification {
  return { ok: false, stage: 'bundle', reason: 'malformed', message };
}

/**
 * Verifies a parsed bundle: its shape, the detached signature, the receipt,
 * the record against the receipt and each image against its hash. Keys come
 * from `options.jwks` when given (keys obtained apart from the bundle prove
 * where it came from); otherwise from the bundle itself, which proves only
 * that nothing in it was changed since someone holding those keys signed it.
 */
export async function verifyProofBundle(value: unknown, options: { readonly jwks?: unknown } = {}): Promise<BundleVerification> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return malformed('a bundle is a JSON object');
  const bundle = value as Record<string, unknown>;
  const names = Object.keys(bundle).sort();
  if (names.length !== BUNDLE_KEYS.length || names.some((name, i) => name !== BUNDLE_KEYS[i])) {
    return malformed(`a bundle has exactly the fields ${BUNDLE_KEYS.join(', ')}`);
  }
  if (bundle['type'] !== BUNDLE_TYPE || bundle['v'] !== 1) return malformed(`not a ${BUNDLE_TYPE} version 1 bundle`);
  if (typeof bundle['exported_at'] !== 'string' || typeof bundle['receipt'] !== 'string' || typeof bundle['signature'] !== 'string') {
    return malformed('exported_at, receipt and signature must be strings');
  }
  const images = bundle['images'];
  if (typeof images !== 'object' || images === null || Array.isArray(images) || Object.keys(images).some((k) => !(IMAGE_ROLES as readonly string[]).includes(k))) {
    return malformed('images must be an object with at most "signature" and "photo"');
  }
  const keys = ReceiptKeys.fromJwks(options.jwks ?? bundle['jwks']);
  const keysFrom = options.jwks === undefined ? 'bundle' : 'given';

  const signed = await verifyProofJws(bundle['signature'], BUNDLE_SIGNATURE_TYPE, keys, bundleDigest(value as unknown as SignedProofBundle));
  if (!signed.ok) return { ok: false, stage: 'bundle', reason: signed.reason, message: `bundle signature: ${signed.message}` };

  const receipt = await verifyReceipt(bundle['receipt'], keys);
  if (!receipt.ok) return { ok: false, stage: 'receipt', reason: receipt.reason, message: `receipt: ${receipt.message}` };

  const record = verifyRecordAgainstReceipt(bundle['record'], receipt.claims);
  if (!record.ok) return { ok: false, stage: 'record', reason: record.reason, message: `record: ${record.message}` };

  const imageStatus: { signature: ImageStatus; photo?: ImageStatus } = { signature: 'absent' };
  const hashes = receipt.claims.image_hashes;
  for (const role of IMAGE_ROLES) {
    const data = (images as Record<string, unknown>)[role];
    const expected = hashes[role];
    if (data === undefined) {
      if (expected !== undefined) imageStatus[role] = 'absent';
      continue;
    }
    if (expected === undefined) return { ok: false, stage: 'image', reason: 'not_in_record', message: `image ${role}: the record has no ${role}` };
    const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : undefined;
    if (bytes === undefined || bytes.toString('base64') !== data) return { ok: false, stage: 'image', reason: 'malformed', message: `image ${role}: not canonical base64` };
    if (createHash('sha256').update(bytes).digest('hex') !== expected) {
      return { ok: false, stage: 'image', reason: 'hash_mismatch', message: `image ${role}: its SHA-256 differs from the receipt's` };
    }
    imageStatus[role] = 'matches';
  }
  return { ok: true, claims: receipt.claims, kid: receipt.kid, keysFrom, personalData: record.personalData, images: imageStatus };
}
