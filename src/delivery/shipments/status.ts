import { RampartError } from '../../kernel/errors.ts';

// The shipment status machine: pure, no I/O. Every status change anywhere in
// Rampart goes through `checkTransition`, so the table below is the whole truth.
//
//   created ──assign──▶ assigned ──▶ out_for_delivery ──▶ delivered
//      ▲                  │  ▲                │
//      └────unassign──────┘  │                ├──▶ failed(reason) ──▶ returned
//                            │                │        │
//                            └──re-delivery───┼────────┘
//                                             └──▶ returned
//
// Decisions: a failed delivery may be attempted again (failed → assigned, with
// a driver) or the parcel goes back (failed → returned); a parcel may also come
// back undelivered straight from the road (out_for_delivery → returned).
// `assigned → created` is an unassignment (a planned route was dropped).
// delivered and returned are final.

export const SHIPMENT_STATUSES = ['created', 'assigned', 'out_for_delivery', 'delivered', 'failed', 'returned'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

export const FAILURE_REASONS = ['recipient_absent', 'address_not_found', 'refused', 'damaged', 'access_denied', 'weather', 'other'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const MAX_NOTE_LENGTH = 500;

export const TRANSITIONS: Readonly<Record<ShipmentStatus, readonly ShipmentStatus[]>> = {
  created: ['assigned'],
  assigned: ['created', 'out_for_delivery'],
  out_for_delivery: ['delivered', 'failed', 'returned'],
  delivered: [],
  failed: ['assigned', 'returned'],
  returned: [],
};

/** Statuses in which nothing can change any more. */
export const FINAL_STATUSES: readonly ShipmentStatus[] = SHIPMENT_STATUSES.filter((s) => TRANSITIONS[s].length === 0);

export interface TransitionRequest {
  readonly to: ShipmentStatus;
  readonly reason?: FailureReason | undefined;
  /** Free text; required with reason `other`. */
  readonly note?: string | undefined;
}

export interface CheckedTransition {
  readonly from: ShipmentStatus;
  readonly to: ShipmentStatus;
  readonly reason: FailureReason | null;
  readonly note: string | null;
}

export function isShipmentStatus(value: string): value is ShipmentStatus {
  return (SHIPMENT_STATUSES as readonly string[]).includes(value);
}

export function isFailureReason(value: string): value is FailureReason {
  return (FAILURE_REASONS as readonly string[]).includes(value);
}

export function canTransition(from: ShipmentStatus, to: ShipmentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

function invalid(message: string): RampartError {
  return new RampartError('request.invalid', message, { publicDetail: message });
}

/**
 * The transition, when the table allows it and its reason and note are right;
 * otherwise a RampartError saying why (`shipment.invalid_transition` for the
 * table, `request.invalid` for a missing or misplaced reason or note).
 */
export function checkTransition(from: ShipmentStatus, request: TransitionRequest): CheckedTransition {
  const { to } = request;
  if (!isShipmentStatus(to)) throw invalid(`The status is one of ${SHIPMENT_STATUSES.join(', ')}.`);
  if (!canTransition(from, to)) {
    const allowed = TRANSITIONS[from];
    const detail = allowed.length === 0 ? `A ${from} shipment is final: its status cannot change.` : `A ${from} shipment can become ${allowed.join(' or ')}, not ${to}.`;
    throw new RampartError('shipment.invalid_transition', `${from} → ${to} is not allowed`, { publicDetail: detail });
  }
  const reason = request.reason ?? null;
  const note = request.note === undefined || request.note.trim() === '' ? null : request.note.trim();
  if (to === 'failed') {
    if (reason === null) throw invalid(`A failed delivery needs a reason: one of ${FAILURE_REASONS.join(', ')}.`);
    if (!isFailureReason(reason)) throw invalid(`The reason is one of ${FAILURE_REASONS.join(', ')}.`);
    if (reason === 'other' && note === null) throw invalid('Reason "other" needs a note saying what happened.');
  } else if (reason !== null) {
    throw invalid('Only a failed delivery has a reason.');
  }
  if (note !== null && to !== 'failed' && to !== 'returned') throw invalid('Only failed and returned shipments take a note.');
  if (note !== null && note.length > MAX_NOTE_LENGTH) throw invalid(`Notes are at most ${MAX_NOTE_LENGTH} characters.`);
  return { from, to, reason, note };
}
