import type { Kysely, Selectable } from 'kysely';
import { RampartError } from '../../kernel/errors.ts';
import type { ShipmentTable, Tables } from '../../storage/tables.ts';
import type { FailureReason, ShipmentStatus } from './status.ts';

// Shipment rows and their views. Queries here never touch the encrypted
// recipient columns: lists and status changes work without decrypting anything.

export const PROOF_KINDS = ['signature', 'photo', 'pin'] as const;
export type ProofKind = (typeof PROOF_KINDS)[number];
export const DELIVERY_MODES = ['truck', 'drone'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export const SUMMARY_COLUMNS = [
  'id',
  'tracking_number',
  'reference',
  'depot_id',
  'dest_lat',
  'dest_lon',
  'weight_kg',
  'length_cm',
  'width_cm',
  'height_cm',
  'mode',
  'window_start',
  'window_end',
  'required_proof',
  'status',
  'failure_reason',
  'assigned_driver_id',
  'last_event_at',
  'created_at',
  'updated_at',
] as const;

export type SummaryRow = Pick<Selectable<ShipmentTable>, (typeof SUMMARY_COLUMNS)[number]>;

export interface TimeWindow {
  readonly start: string;
  readonly end: string;
}

/** A shipment without its recipient: what lists, status changes and events carry. */
export interface ShipmentSummary {
  readonly id: string;
  readonly trackingNumber: string;
  readonly reference: string | null;
  readonly depotId: string;
  readonly mode: DeliveryMode;
  readonly status: ShipmentStatus;
  readonly failureReason: FailureReason | null;
  readonly destination: { readonly lat: number; readonly lon: number };
  readonly parcel: { readonly weightKg: number; readonly lengthCm: number | null; readonly widthCm: number | null; readonly heightCm: number | null };
  readonly window: TimeWindow;
  readonly requiredProof: ProofKind[];
  readonly assignedDriverId: string | null;
  readonly lastEventAt: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Recipient {
  readonly name: string;
  readonly phone: string | null;
  readonly address: string;
}

export interface ShipmentDetail extends ShipmentSummary {
  /** null when the caller may not see recipient data. */
  readonly recipient: Recipient | null;
}

export function summaryView(row: SummaryRow): ShipmentSummary {
  return {
    id: row.id,
    trackingNumber: row.tracking_number,
    reference: row.reference,
    depotId: row.depot_id,
    mode: row.mode,
    status: row.status,
    failureReason: row.failure_reason,
    destination: { lat: row.dest_lat, lon: row.dest_lon },
    parcel: { weightKg: row.weight_kg, lengthCm: row.length_cm, widthCm: row.width_cm, heightCm: row.height_cm },
    window: { start: row.window_start, end: row.window_end },
    requiredProof: JSON.parse(row.required_proof) as ProofKind[],
    assignedDriverId: row.assigned_driver_id,
    lastEventAt: row.last_event_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function loadSummaryRow(db: Kysely<Tables>, id: string): Promise<SummaryRow> {
  const row = await db.selectFrom('shipments').select(SUMMARY_COLUMNS).where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new RampartError('shipment.not_found', `no shipment ${id}`);
  return row;
}

export async function loadShipment(db: Kysely<Tables>, id: string): Promise<ShipmentSummary> {
  return summaryView(await loadSummaryRow(db, id));
}
