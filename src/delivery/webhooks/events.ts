import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { RampartError } from '../../kernel/errors.ts';

// The shipment events webhooks carry, and the body each one is sent as. The
// payload is deliberately thin and non-personal: identifiers, status, depot,
// time window and a reason code — never names, addresses or phone numbers. An
// event with any other property is refused, so a shipment row handed over
// whole cannot leak a recipient's details to a receiver.

export const SHIPMENT_EVENT_TYPES = ['shipment.created', 'shipment.assigned', 'shipment.out_for_delivery', 'shipment.delivered', 'shipment.failed', 'shipment.returned'] as const;
export type ShipmentEventType = (typeof SHIPMENT_EVENT_TYPES)[number];

const Instant = Type.String({ format: 'date-time', maxLength: 40 });
const Printable = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+$' });

export const ShipmentEventDataSchema = Type.Object(
  {
    id: Printable(128),
    trackingNumber: Printable(64),
    status: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
    depot: Printable(64),
    timeWindow: Type.Union([Type.Object({ start: Instant, end: Instant }, { additionalProperties: false }), Type.Null()]),
    /** A failure reason code such as `recipient_absent`; never free text. */
    reason: Type.Union([Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,63}$' }), Type.Null()]),
  },
  { additionalProperties: false },
);

export const ShipmentWebhookEventSchema = Type.Object(
  {
    type: Type.Enum(SHIPMENT_EVENT_TYPES),
    occurredAt: Instant,
    shipment: ShipmentEventDataSchema,
  },
  { additionalProperties: false },
);

export type ShipmentEventData = Static<typeof ShipmentEventDataSchema>;
export type ShipmentWebhookEvent = Static<typeof ShipmentWebhookEventSchema>;

/** Refuses an event that does not match the schema exactly (a programming error in the caller). */
export function checkShipmentEvent(event: ShipmentWebhookEvent): void {
  if (!Value.Check(ShipmentWebhookEventSchema, event)) {
    const problems = [...Value.Errors(ShipmentWebhookEventSchema, event)].map((e) => `${e.instancePath || '/'}: ${e.message}`);
    throw new RampartError('webhook.event_invalid', `shipment webhook event refused: ${problems.slice(0, 5).join('; ')}`);
  }
  const window = event.shipment.timeWindow;
  if (window !== null && Date.parse(window.start) > Date.parse(window.end)) {
    throw new RampartError('webhook.event_invalid', 'shipment webhook event refused: /shipment/timeWindow: start is after end');
  }
}

/**
 * The JSON body receivers get (Standard Webhooks payload shape): `type`,
 * `timestamp` (when the change happened), `data`, plus the event's `id`, which
 * is the same for every endpoint the event goes to. Built once at enqueue time
 * and sent byte for byte on every attempt, so signatures stay verifiable.
 */
export function eventBody(eventId: string, event: ShipmentWebhookEvent): string {
  const s = event.shipment;
  return JSON.stringify({
    id: eventId,
    type: event.type,
    timestamp: new Date(event.occurredAt).toISOString(),
    data: {
      id: s.id,
      trackingNumber: s.trackingNumber,
      status: s.status,
      depot: s.depot,
      timeWindow: s.timeWindow === null ? null : { start: new Date(s.timeWindow.start).toISOString(), end: new Date(s.timeWindow.end).toISOString() },
      reason: s.reason,
    },
  });
}
