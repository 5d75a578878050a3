import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { canonicalJson } from '../../kernel/canonical-json.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { ProofImageTable, ProofTable, Tables } from '../../storage/tables.ts';
import type { ImageRole, ProofFacts, ProofPersonalData, ProofRecord } from './core/index.ts';

// Stored proofs of delivery: rows, lookups and the record they hold. The
// record is the facts column (canonical JSON) plus the personal part, which
// the caller decrypts after the query — or null when shredded, which is
// exactly the form shredPersonalData gives.

export type ProofRow = Selectable<ProofTable>;
export type ProofImageMeta = Pick<Selectable<ProofImageTable>, 'id' | 'role' | 'content_type' | 'sha256'>;

/** What the driver app gets back, on the first submission and on every identical retry. */
export interface SubmittedProof {
  readonly proofId: string;
  readonly receiptId: string;
  readonly receipt: string;
  readonly locationVerified: boolean;
  readonly contentHash: string;
}

/** SHA-256 (hex) of the shipment id and the submission, canonically encoded: an identical retry has the same. */
export function requestFingerprint(shipmentId: string, submission: unknown): string {
  return createHash('sha256').update(canonicalJson({ shipmentId, submission }), 'utf8').digest('hex');
}

export function submittedView(row: ProofRow): SubmittedProof {
  return { proofId: row.id, receiptId: row.receipt_id, receipt: row.receipt, locationVerified: row.location_verified === 1, contentHash: row.content_hash };
}

export function notFound(what: string): RampartError {
  return new RampartError('proof.not_found', `no proof of delivery ${what} visible to the caller`);
}

export function findProofByKey(db: Kysely<Tables>, driverId: string, idempotencyKey: string): Promise<ProofRow | undefined> {
  return db.selectFrom('proofs').selectAll().where('driver_id', '=', driverId).where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
}

export function findProofByReceipt(db: Kysely<Tables>, receiptId: string): Promise<ProofRow | undefined> {
  return db.selectFrom('proofs').selectAll().where('receipt_id', '=', receiptId).executeTakeFirst();
}

export async function loadProof(db: Kysely<Tables>, id: string): Promise<ProofRow> {
  const row = await db.selectFrom('proofs').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw notFound(id);
  return row;
}

export async function loadProofForShipment(db: Kysely<Tables>, shipmentId: string): Promise<ProofRow> {
  const row = await db.selectFrom('proofs').selectAll().where('shipment_id', '=', shipmentId).executeTakeFirst();
  if (row === undefined) throw notFound(`for shipment ${shipmentId}`);
  return row;
}

export function imagesOf(db: Kysely<Tables>, proofId: string): Promise<ProofImageMeta[]> {
  return db.selectFrom('proof_images').select(['id', 'role', 'content_type', 'sha256']).where('proof_id', '=', proofId).orderBy('role', 'desc').execute();
}

/** The stored facts, parsed; whether they are still a record's is checked by whoever relies on them. */
export function storedFacts(row: ProofRow): ProofFacts {
  return JSON.parse(row.facts) as ProofFacts;
}

/** The stored record: the facts with their personal part (decrypted by the caller), or null once shredded. */
export function storedRecord(row: ProofRow, personal: ProofPersonalData | null): ProofRecord {
  return { ...storedFacts(row), personal };
}

export function personalRef(proofId: string) {
  return { table: 'proofs', column: 'personal', rowId: proofId };
}

export function imageRef(imageId: string) {
  return { table: 'proof_images', column: 'bytes', rowId: imageId };
}

export const IMAGE_ROLES: readonly ImageRole[] = ['signature', 'photo'];
