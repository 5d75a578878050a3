import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SHIPMENT_EVENT_TYPES as DOMAIN_EVENT_TYPES, type ShipmentEvent } from '../shipments/events.ts';
import { checkShipmentEvent, eventBody, SHIPMENT_EVENT_TYPES } from './events.ts';
import { webhookEventFor } from './sink.ts';

// The adapter from the shipments domain's events to webhook events: every
// domain event type has a webhook type, each mapped event passes the queue's
// schema, and nothing beyond the listed non-personal fields is carried over.

function domainEvent(type: ShipmentEvent['type'], overrides: Partial<ShipmentEvent> = {}): ShipmentEvent {
  return {
    type,
    shipmentId: 'shp_0001',
    trackingNumber: 'RP-7KQ2-M9XD-4HT',
    status: type === 'shipment.created' ? 'created' : (type.slice('shipment.'.length) as ShipmentEvent['status']),
    depotId: 'north',
    window: { start: '2026-07-01T07:00:00.000Z', end: '2026-07-01T10:00:00.000Z' },
    ...(type === 'shipment.failed' ? { reason: 'recipient_absent' as const } : {}),
    at: '2026-07-01T06:15:00.000Z',
    ...overrides,
  };
}

describe('webhook sink', () => {
  test('webhooks offer every event type the shipments domain emits, shipment.returned included', () => {
    assert.deepEqual([...SHIPMENT_EVENT_TYPES], [...DOMAIN_EVENT_TYPES]);
    assert.ok((SHIPMENT_EVENT_TYPES as readonly string[]).includes('shipment.returned'));
  });

  test('each domain event maps to a webhook event the queue accepts', () => {
    for (const type of DOMAIN_EVENT_TYPES) {
      const mapped = webhookEventFor(domainEvent(type));
      assert.doesNotThrow(() => checkShipmentEvent(mapped), type);
      assert.deepEqual(mapped, {
        type,
        occurredAt: '2026-07-01T06:15:00.000Z',
        shipment: {
          id: 'shp_0001',
          trackingNumber: 'RP-7KQ2-M9XD-4HT',
          status: domainEvent(type).status,
          depot: 'north',
          timeWindow: { start: '2026-07-01T07:00:00.000Z', end: '2026-07-01T10:00:00.000Z' },
          reason: type === 'shipment.failed' ? 'recipient_absent' : null,
        },
      });
    }
  });

  test('a returned shipment\'s event carries the returned status and no reason', () => {
    const body = JSON.parse(eventBody('evt_1', webhookEventFor(domainEvent('shipment.returned')))) as { type: string; data: { status: string; reason: string | null } };
    assert.equal(body.type, 'shipment.returned');
    assert.deepEqual([body.data.status, body.data.reason], ['returned', null]);
  });

  test('fields a domain event might carry beyond the listed ones never reach the webhook', () => {
    const widened = { ...domainEvent('shipment.assigned'), recipientName: 'Rosalind Quayle', recipientAddress: '17 Lindenallee', driverId: 'acct_1', destination: { lat: 52.5, lon: 13.4 } } as ShipmentEvent;
    const mapped = webhookEventFor(widened);
    assert.doesNotThrow(() => checkShipmentEvent(mapped));
    const text = eventBody('evt_2', mapped);
    for (const leaked of ['Rosalind', 'Lindenallee', 'acct_1', '52.5']) assert.ok(!text.includes(leaked), leaked);
    assert.deepEqual(Object.keys(mapped.shipment), ['id', 'trackingNumber', 'status', 'depot', 'timeWindow', 'reason']);
  });
});
