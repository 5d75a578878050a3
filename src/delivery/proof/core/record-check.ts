import { canonicalJson } from '../../../kernel/canonical-json.ts';
import { personalCommitment, proofContentHash, proofRecordProblem, type ProofRecord } from './record.ts';
import { receiptClaims, type ReceiptClaims } from './receipt.ts';

// Does a stored (or exported) record still say what its receipt certifies?
// Checked in the order that names the change best: the record's shape, the
// facts the receipt repeats, the personal data against its commitment, then
// the content hash over everything.

export type RecordFailure = 'malformed' | 'fact_mismatch' | 'personal_data_altered' | 'content_hash_mismatch';

export type RecordVerification =
  | {
      readonly ok: true;
      /** `shredded` when the personal data was removed: the facts and the commitment still verify. */
      readonly personalData: 'present' | 'shredded';
      readonly contentHash: string;
    }
  | { readonly ok: false; readonly reason: RecordFailure; readonly message: string };

/** Claims compared field by field; `iss` is the verifier's concern (the keys), not the record's. */
const FACT_CLAIMS = ['jti', 'iat', 'tracking_number', 'image_hashes', 'delivered_at', 'device_time', 'location', 'location_verified', 'pin_verified', 'relationship'] as const;

/**
 * Recomputes what the receipt certifies from `record` (a parsed record, for
 * example read back from storage) and compares. Verify the receipt itself
 * first (verifyReceipt): this trusts `claims`.
 */
export function verifyRecordAgainstReceipt(record: unknown, claims: ReceiptClaims): RecordVerification {
  const problem = proofRecordProblem(record);
  if (problem !== undefined) return { ok: false, reason: 'malformed', message: `not a proof record: ${problem}` };
  const stored = record as ProofRecord;
  const expected = receiptClaims(stored, claims.iss);
  for (const name of FACT_CLAIMS) {
    if (canonicalJson(expected[name]) !== canonicalJson(claims[name])) {
      return { ok: false, reason: 'fact_mismatch', message: `the record's ${name} differs from the receipt's` };
    }
  }
  if (stored.personal !== null && personalCommitment(stored.personal) !== stored.personal_commitment) {
    return { ok: false, reason: 'personal_data_altered', message: 'the personal data (signer name or signature strokes) differs from what was committed to' };
  }
  const contentHash = proofContentHash(stored);
  if (contentHash !== claims.content_hash) {
    return { ok: false, reason: 'content_hash_mismatch', message: 'the record\'s content hash differs from the receipt\'s: a field was changed' };
  }
  return { ok: true, personalData: stored.personal === null ? 'shredded' : 'present', contentHash };
}
