import type { Kysely } from 'kysely';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Clock } from '../../kernel/clock.ts';
import { newId } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Db } from '../../storage/database.ts';
import type { Tables } from '../../storage/tables.ts';
import type { ShipmentEventSink } from '../shipments/events.ts';
import { WebhookDispatcher, type WebhookSettings } from './dispatcher.ts';
import { WebhookEndpoints } from './endpoints.ts';
import { checkShipmentEvent, eventBody, type ShipmentWebhookEvent } from './events.ts';
import { webhookEventFor } from './sink.ts';
import { DestinationGuard } from './ssrf.ts';

// Outbound webhooks for shipment events: the one function the shipments
// domain calls, and the parts the composition root wires.

export { SHIPMENT_EVENT_TYPES, type ShipmentEventData, type ShipmentEventType, type ShipmentWebhookEvent } from './events.ts';
export { WebhookDispatcher, type WebhookSettings } from './dispatcher.ts';
export { WebhookEndpoints } from './endpoints.ts';
export { registerWebhookRoutes } from './webhooks.routes.ts';
export { webhookEventFor } from './sink.ts';

export interface EnqueuedWebhookEvent {
  /** The event's id (`evt_…`): the body's `id`, the same for every endpoint it goes to. */
  readonly eventId: string;
  /** One delivery (`whd_…`, the `webhook-id` header) per enabled endpoint subscribed to the event's type. */
  readonly deliveryIds: readonly string[];
}

/**
 * Queues a shipment event for every enabled webhook endpoint subscribed to its
 * type. Call it inside the transaction that changes the shipment, after the
 * change, exactly as `appendAudit(trx, …)`:
 *
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('shipments').set({ status: 'delivered', … }).where('id', '=', id).execute();
 *   await appendAudit(trx, { action: 'shipment.deliver', … }, clock);
 *   await enqueueWebhookEvent(trx, {
 *     type: 'shipment.delivered',
 *     occurredAt: clock.now().toISOString(),
 *     shipment: { id, trackingNumber, status: 'delivered', depot, timeWindow: { start, end }, reason: null },
 *   });
 * });
 * ```
 *
 * - `type`: `shipment.created` | `shipment.assigned` | `shipment.out_for_delivery` | `shipment.delivered` | `shipment.failed` | `shipment.returned`.
 * - `occurredAt`: ISO 8601 time of the change, from the caller's injected clock. It is the body's
 *   `timestamp`, and the first attempt is due from then on.
 * - `shipment`: exactly `id`, `trackingNumber`, `status`, `depot`, `timeWindow` (`{ start, end }`
 *   ISO 8601, or null) and `reason` (a code such as `recipient_absent`, `^[a-z][a-z0-9_.-]{0,63}$`,
 *   or null). Nothing personal: any other property is refused.
 *
 * The deliveries commit or roll back with the caller's change, so an event is
 * neither lost by a crash after the commit nor sent for a change that rolled
 * back. Sending happens later, in the dispatcher, never in the transaction.
 * Nothing here decrypts or reaches the network, so it is safe on SQLite's
 * single connection. An event that does not match the schema throws
 * `RampartError('webhook.event_invalid')`, which rolls the caller's change back:
 * a programming error, caught by the caller's tests.
 */
export async function enqueueWebhookEvent(trx: Kysely<Tables>, event: ShipmentWebhookEvent): Promise<EnqueuedWebhookEvent> {
  checkShipmentEvent(event);
  const eventId = newId('evt');
  const payload = eventBody(eventId, event);
  const at = new Date(event.occurredAt).toISOString();
  const endpoints = await trx.selectFrom('webhook_endpoints').select(['id', 'events']).where('status', '=', 'enabled').orderBy('id').execute();
  const subscribed = endpoints.filter((e) => (JSON.parse(e.events) as string[]).includes(event.type));
  const rows = subscribed.map((e) => ({
    id: newId('whd'),
    endpoint_id: e.id,
    event_id: eventId,
    event_type: event.type,
    payload,
    attempts: 0,
    next_attempt_at: at,
    status: 'pending' as const,
    created_at: at,
  }));
  if (rows.length > 0) await trx.insertInto('webhook_deliveries').values(rows).execute();
  return { eventId, deliveryIds: rows.map((r) => r.id) };
}

/**
 * The shipments domain's event sink (`createDelivery({ eventSinks: [webhookSink] })`):
 * every creation, assignment and status change is queued for the subscribed
 * endpoints in the change's own transaction, with its non-personal fields only.
 */
export const webhookSink: ShipmentEventSink = async (trx, event) => {
  await enqueueWebhookEvent(trx, webhookEventFor(event));
};

export interface Webhooks {
  readonly endpoints: WebhookEndpoints;
  readonly dispatcher: WebhookDispatcher;
}

/** The endpoint service for the admin API and the dispatcher, sharing one destination policy. */
export function createWebhooks(options: { db: Db; keyring: Keyring; clock: Clock; logger: Logger; settings: WebhookSettings }): Webhooks {
  const guard = new DestinationGuard(options.settings);
  return {
    endpoints: new WebhookEndpoints({ db: options.db, keyring: options.keyring, clock: options.clock, guard }),
    dispatcher: new WebhookDispatcher({ db: options.db, keyring: options.keyring, clock: options.clock, logger: options.logger, settings: options.settings }),
  };
}
