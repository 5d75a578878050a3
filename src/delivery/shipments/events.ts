import type { Kysely } from 'kysely';
import type { Tables } from '../../storage/tables.ts';
import type { FailureReason, ShipmentStatus } from './status.ts';
import type { TimeWindow } from './shipments.store.ts';

// Domain events. Every creation, assignment and status change calls each
// registered sink inside the transaction that makes the change, so an outbox
// (webhooks) commits or rolls back with it. A sink that throws undoes the change.
// An unassignment (assigned → created) produces no event.

export const SHIPMENT_EVENT_TYPES = ['shipment.created', 'shipment.assigned', 'shipment.out_for_delivery', 'shipment.delivered', 'shipment.failed', 'shipment.returned'] as const;
export type ShipmentEventType = (typeof SHIPMENT_EVENT_TYPES)[number];

export interface ShipmentEvent {
  readonly type: ShipmentEventType;
  readonly shipmentId: string;
  readonly trackingNumber: string;
  readonly status: ShipmentStatus;
  readonly depotId: string;
  readonly window: TimeWindow;
  readonly reason?: FailureReason;
  /** ISO-8601 time of the change. */
  readonly at: string;
}

export type ShipmentEventSink = (trx: Kysely<Tables>, event: ShipmentEvent) => Promise<void>;

export function eventTypeFor(status: ShipmentStatus): ShipmentEventType | undefined {
  switch (status) {
    case 'created':
      return undefined;
    case 'assigned':
      return 'shipment.assigned';
    case 'out_for_delivery':
      return 'shipment.out_for_delivery';
    case 'delivered':
      return 'shipment.delivered';
    case 'failed':
      return 'shipment.failed';
    case 'returned':
      return 'shipment.returned';
  }
}
