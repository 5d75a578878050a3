import type { ShipmentEvent } from '../shipments/events.ts';
import type { ShipmentWebhookEvent } from './events.ts';

// The shipments domain's events in the shape the webhook queue takes. The
// fields are picked one by one, so anything added to the domain event later
// (a driver, a destination, a note) reaches a receiver only by a change here.

export function webhookEventFor(event: ShipmentEvent): ShipmentWebhookEvent {
  return {
    type: event.type,
    occurredAt: event.at,
    shipment: {
      id: event.shipmentId,
      trackingNumber: event.trackingNumber,
      status: event.status,
      depot: event.depotId,
      timeWindow: { start: event.window.start, end: event.window.end },
      reason: event.reason ?? null,
    },
  };
}
