import { createHash, randomBytes } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { canonicalJson } from '../../../kernel/canonical-json.ts';
import { distanceMetres } from '../../../kernel/geo.ts';
import { roundDistance, type LatLon } from './geo.ts';
import type { CheckedImage } from './images.ts';
import { PHOTO_TYPES, RELATIONSHIPS, StrokesSchema, type ProofSubmission } from './submission.schema.ts';

// The proof record: everything a proof of delivery establishes, in two parts.
//
//   facts     non-personal: shipment, driver id, relationship, intent, PIN flag,
//             GPS fix, destination, distance, location_verified, times, image
//             hashes, and `personal_commitment`
//   personal  the signer's name and signature strokes, with a random salt
//
// personal_commitment = SHA-256(canonical JSON of `personal`), and the
// content hash = SHA-256(canonical JSON of the facts). So the content hash
// covers every field — the personal ones through the commitment — and survives
// shredding: deleting `personal` (and the images) leaves facts that still hash
// to the receipt's content hash. The salt (256 bits, destroyed with the rest)
// stops anyone from confirming a guessed name against the commitment.

export const RECORD_TYPE = 'rampart.pod.record';
export const PERSONAL_TYPE = 'rampart.pod.personal';

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

const ImageFactSchema = Type.Object(
  {
    sha256: Sha256Hex,
    content_type: Type.Enum([...PHOTO_TYPES]),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    bytes: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

export const ProofPersonalDataSchema = Type.Object(
  {
    type: Type.Literal(PERSONAL_TYPE),
    salt: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    signer_name: Text(200),
    strokes: StrokesSchema,
  },
  { additionalProperties: false },
);

const factFields = {
  v: Type.Literal(1),
  type: Type.Literal(RECORD_TYPE),
  receipt_id: Text(64),
  tracking_number: Text(128),
  shipment_id: Text(128),
  driver_id: Text(128),
  relationship: Type.Enum([...RELATIONSHIPS]),
  intent: Type.Object({ statement: Text(2000), accepted: Type.Literal(true) }, { additionalProperties: false }),
  pin_verified: Type.Boolean(),
  gps: Type.Object(
    { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }), accuracy_m: Type.Number({ minimum: 0 }) },
    { additionalProperties: false },
  ),
  destination: Type.Object({ lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) }, { additionalProperties: false }),
  distance_m: Type.Number({ minimum: 0 }),
  radius_m: Type.Number({ minimum: 0 }),
  location_verified: Type.Boolean(),
  device_time: Timestamp,
  server_time: Timestamp,
  images: Type.Object({ signature: ImageFactSchema, photo: Type.Optional(ImageFactSchema) }, { additionalProperties: false }),
  personal_commitment: Sha256Hex,
};

export const ProofFactsSchema = Type.Object(factFields, { additionalProperties: false });

/** A stored record: `personal` is null once the personal data has been shredded. */
export const ProofRecordSchema = Type.Object({ ...factFields, personal: Type.Union([ProofPersonalDataSchema, Type.Null()]) }, { additionalProperties: false });

export type ProofPersonalData = Static<typeof ProofPersonalDataSchema>;
export type ProofFacts = Static<typeof ProofFactsSchema>;
export type ProofRecord = Static<typeof ProofRecordSchema>;
export type ImageFact = Static<typeof ImageFactSchema>;

const recordValidator = Compile(ProofRecordSchema);

/** The first schema problem of a would-be record, or undefined when it is one. */
export function proofRecordProblem(value: unknown): string | undefined {
  if (recordValidator.Check(value)) return undefined;
  for (const error of recordValidator.Errors(value)) {
    if (error.keyword === 'boolean') continue;
    return `${error.instancePath === '' ? '/' : error.instancePath}: ${error.message}`;
  }
  return '/: not a proof record';
}

export function isProofRecord(value: unknown): value is ProofRecord {
  return recordValidator.Check(value);
}

/** What the shipments side knows and vouches for; the submission supplies the rest. */
export interface ProofContext {
  readonly trackingNumber: string;
  readonly shipmentId: string;
  readonly driverId: string;
  readonly destination: LatLon;
  /** True only when the shipment has a PIN and the one submitted matched it (see `pinMatches`). */
  readonly pinVerified: boolean;
}

export interface BuildProofRecordInput {
  readonly submission: ProofSubmission;
  readonly context: ProofContext;
  readonly images: { readonly signature: CheckedImage; readonly photo?: CheckedImage | undefined };
  readonly receiptId: string;
  readonly serverTime: Date;
  readonly radiusMeters: number;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function imageFact(image: CheckedImage): ImageFact {
  return { sha256: image.sha256, content_type: image.contentType, width: image.width, height: image.height, bytes: image.bytes.length };
}

/** SHA-256 (hex) of the personal part: what stays of it after shredding. */
export function personalCommitment(personal: ProofPersonalData): string {
  return sha256Hex(canonicalJson(personal));
}

/** The record without its personal part: the form the content hash covers. */
export function proofFacts(record: ProofRecord | ProofFacts): ProofFacts {
  const facts: Partial<ProofRecord> = { ...record };
  delete facts.personal;
  return facts as ProofFacts;
}

/** SHA-256 (hex) of the canonical JSON of the record's facts (personal data included through its commitment). */
export function proofContentHash(record: ProofRecord | ProofFacts): string {
  return sha256Hex(canonicalJson(proofFacts(record)));
}

/** Builds the canonical record of a checked submission. The PIN itself is never part of it. */
export function buildProofRecord(input: BuildProofRecordInput): ProofRecord {
  const { submission, context, images } = input;
  const distance = roundDistance(distanceMetres(submission.gps, context.destination));
  const personal: ProofPersonalData = {
    type: PERSONAL_TYPE,
    salt: randomBytes(32).toString('base64url'),
    signer_name: submission.signerName,
    strokes: submission.signature.strokes,
  };
  const record: ProofRecord = {
    v: 1,
    type: RECORD_TYPE,
    receipt_id: input.receiptId,
    tracking_number: context.trackingNumber,
    shipment_id: context.shipmentId,
    driver_id: context.driverId,
    relationship: submission.relationship,
    intent: { statement: submission.intent.statement, accepted: true },
    pin_verified: context.pinVerified,
    gps: { lat: submission.gps.lat, lon: submission.gps.lon, accuracy_m: submission.gps.accuracyM },
    destination: { lat: context.destination.lat, lon: context.destination.lon },
    distance_m: distance,
    radius_m: input.radiusMeters,
    // At the radius still counts; beyond it the proof is kept, flagged.
    location_verified: distance <= input.radiusMeters,
    device_time: submission.deviceTime,
    server_time: input.serverTime.toISOString(),
    images: images.photo === undefined ? { signature: imageFact(images.signature) } : { signature: imageFact(images.signature), photo: imageFact(images.photo) },
    personal_commitment: personalCommitment(personal),
    personal,
  };
  const problem = proofRecordProblem(record);
  if (problem !== undefined) throw new Error(`built an invalid proof record: ${problem}`);
  return record;
}

/**
 * The record with its personal data removed. The caller must also delete the
 * images and every stored copy of the personal part; the receipt and the
 * facts keep verifying (see verifyRecordAgainstReceipt).
 */
export function shredPersonalData(record: ProofRecord): ProofRecord {
  return { ...record, personal: null };
}

/** When the personal data of a proof taken at `serverTime` is due for shredding. */
export function personalDataExpiresAt(serverTime: string, retentionYears: number): Date {
  const at = new Date(serverTime);
  at.setUTCFullYear(at.getUTCFullYear() + retentionYears);
  return at;
}
