import { constantTimeEqual } from '../../crypto/compare.ts';
import { canonicalJson } from '../../kernel/canonical-json.ts';
import type { Db } from '../../storage/database.ts';
import type { ShipmentStatus } from '../shipments/status.ts';
import { receiptJwks, verifyReceipt, verifyRecordAgainstReceipt, type ReceiptClaims } from './core/index.ts';
import { findProofByReceipt, storedRecord } from './proofs.store.ts';

// What the public receipt page (`/r/{receiptId}`) says. Without a receipt:
// only non-personal status. With the receipt the customer holds: whether it
// is genuine (a receipt key of this server signed it, `typ` pinned) and
// unaltered (its claims are the stored receipt's, and the stored record still
// hashes to its content hash). Nothing here decrypts: the facts suffice.

export interface ReceiptStatus {
  readonly receiptId: string;
  readonly shipmentStatus: ShipmentStatus;
  readonly deliveredAt: string;
  readonly locationVerified: boolean;
  /** Present only when a receipt was presented. */
  readonly verification?: ReceiptCheck;
}

export interface ReceiptCheck {
  /** Signed by a receipt key of this server, as a receipt. */
  readonly genuine: boolean;
  /** Genuine, for this receipt id, equal to the stored receipt, and the stored record matches it. */
  readonly unaltered: boolean;
  /** Why not, when either is false. */
  readonly problem?: string;
}

/** Undefined when no proof has this receipt id. */
export async function receiptStatus(db: Db, receiptId: string, presented?: string): Promise<ReceiptStatus | undefined> {
  const row = await findProofByReceipt(db, receiptId);
  if (row === undefined) return undefined;
  const shipment = await db.selectFrom('shipments').select('status').where('id', '=', row.shipment_id).executeTakeFirstOrThrow();
  const status = { receiptId: row.receipt_id, shipmentStatus: shipment.status, deliveredAt: row.server_time, locationVerified: row.location_verified === 1 };
  if (presented === undefined) return status;

  const jwks = await receiptJwks(db);
  const checked = await verifyReceipt(presented, jwks);
  if (!checked.ok) return { ...status, verification: { genuine: false, unaltered: false, problem: `not a genuine receipt of this server (${checked.reason.replaceAll('_', ' ')})` } };
  const altered = (problem: string) => ({ ...status, verification: { genuine: true, unaltered: false, problem } });
  if (checked.claims.jti !== row.receipt_id) return altered('a genuine receipt, but for another receipt id');
  const stored = await verifyReceipt(row.receipt, jwks);
  if (!stored.ok || !sameClaims(stored.claims, checked.claims)) return altered('its claims differ from the receipt stored for this delivery');
  // Not a secret (the receipt carries it), and the receipt's signature was checked first; compared in constant time all the same, as every presented value is.
  if (!constantTimeEqual(row.content_hash, checked.claims.content_hash)) return altered('the stored content hash differs from the receipt\'s');
  let record: unknown;
  try {
    record = storedRecord(row, null);
  } catch {
    return altered('the stored record is unreadable');
  }
  const matched = verifyRecordAgainstReceipt(record, checked.claims);
  if (!matched.ok) return altered(`the stored record does not match the receipt (${matched.reason.replaceAll('_', ' ')})`);
  return { ...status, verification: { genuine: true, unaltered: true } };
}

function sameClaims(a: ReceiptClaims, b: ReceiptClaims): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
