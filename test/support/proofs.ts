import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/storage/database.ts';
import { northOf, proofSubmission } from './proof-factories.ts';
import type { ProofSubmission } from '../../src/delivery/proof/core/index.ts';
import { deliverySnapshot } from './delivery.ts';

// Proof-of-delivery submissions for shipments made with the delivery
// factories (destination 52.53, 13.41), and what a refused one must leave alone.

export const SHIPMENT_DESTINATION = { lat: 52.53, lon: 13.41 };

/** A valid submission taken `meters` north of the shipment's destination, with a fresh idempotency key. */
export function submissionFor(overrides: Partial<ProofSubmission> = {}, meters = 12): ProofSubmission {
  const at = northOf(SHIPMENT_DESTINATION, meters);
  return proofSubmission({ gps: { lat: at.lat, lon: at.lon, accuracyM: 5 }, idempotencyKey: randomUUID(), ...overrides });
}

/** The delivery tables, the proof tables and the audit trail's head. */
export async function proofSnapshot(db: Db): Promise<string> {
  const [delivery, proofs, images] = await Promise.all([
    deliverySnapshot(db),
    db.selectFrom('proofs').selectAll().orderBy('id').execute(),
    db.selectFrom('proof_images').select(['id', 'proof_id', 'role', 'sha256', 'bytes']).orderBy('id').execute(),
  ]);
  return JSON.stringify({ delivery, proofs, images });
}

/** The same text with the character at `index` replaced by another of the same alphabet. */
export function changeCharAt(text: string, index: number): string {
  const c = text.charAt(index);
  const replacement = c === 'A' ? 'B' : c === '.' ? 'A' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}
