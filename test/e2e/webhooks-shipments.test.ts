import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recipientFor, recipientValues, shipmentBody, squareArea } from '../support/delivery.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';
import { verifyStandardWebhook } from '../support/standard-webhooks.ts';
import { until } from '../support/wait.ts';
import { startReceiver, type Receiver } from '../support/webhooks.ts';

// Shipment changes made through the API reach a webhook receiver: the
// server registers the webhook queue as the shipments domain's event sink, so
// each creation and assignment is queued in its own transaction and sent
// signed, without the recipient's personal data; a change that rolls back
// sends nothing.

type Created = { endpoint: { id: string }; secret: string };
type Shipment = { id: string; trackingNumber: string; status: string };
type WebhookBody = { id: string; type: string; timestamp: string; data: { id: string; trackingNumber: string; status: string; depot: string; timeWindow: { start: string; end: string } | null; reason: string | null } };

describe('shipment events as webhooks', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  let dispatcher: SignedIn;
  let driver: SignedIn;
  let receiver: Receiver;
  let secret: string;
  let endpointId: string;

  const bodies = () => receiver.requests.map((r) => JSON.parse(r.body.toString('utf8')) as WebhookBody);
  const deliveries = () => rampart.running.database.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).orderBy('id').execute();

  before(async () => {
    rampart = await startTestRampart({ webhooks: { allowPrivateCidrs: ['127.0.0.0/8'], pollIntervalMs: 50 } });
    admin = await signInAdmin(rampart);
    receiver = await startReceiver();
    // Right after signing in: creating an endpoint needs a recent second factor.
    const created = await admin.browser.post<Created>('/api/v1/webhooks', {
      name: 'Operations',
      url: `${receiver.origin}/rampart`,
      events: ['shipment.created', 'shipment.assigned', 'shipment.out_for_delivery', 'shipment.returned'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    secret = created.body.secret;
    endpointId = created.body.endpoint.id;
    assert.equal((await admin.browser.post('/api/v1/depots', { id: 'north', name: 'North depot', location: { lat: 52.52, lon: 13.405 }, serviceArea: squareArea(52.52, 13.405) })).status, 201);
    dispatcher = await createSignedInUser(rampart, admin, 'dispatch1', 'dispatcher');
    driver = await createSignedInUser(rampart, admin, 'driver1', 'driver');
    assert.equal((await admin.browser.request('PUT', `/api/v1/users/${dispatcher.accountId}/depots`, { depots: ['north'] })).status, 200);
    assert.equal((await admin.browser.request('PUT', `/api/v1/drivers/${driver.accountId}`, { homeDepotId: 'north' })).status, 200);
  });
  after(async () => {
    await receiver.close();
    await rampart.stop();
  });

  test('a dispatcher creates and assigns a shipment: the receiver gets signed shipment.created and shipment.assigned without personal data', async () => {
    const recipient = recipientFor();
    const created = await dispatcher.browser.post<{ shipment: Shipment }>('/api/v1/shipments', shipmentBody({}, recipient));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const shipment = created.body.shipment;
    const assigned = await dispatcher.browser.request<Shipment>('PUT', `/api/v1/shipments/${shipment.id}/assignment`, { driverId: driver.accountId });
    assert.equal(assigned.status, 200, JSON.stringify(assigned.body));

    await receiver.waitFor(2);
    const now = Math.floor(rampart.clock.now().getTime() / 1000);
    for (const request of receiver.requests) {
      assert.equal(request.method, 'POST');
      assert.equal(request.path, '/rampart');
      assert.deepEqual(verifyStandardWebhook(request, secret, now), { ok: true });
      const text = request.body.toString('utf8');
      for (const value of recipientValues(recipient)) assert.ok(!text.includes(value), 'no recipient name, phone or address');
      assert.ok(!text.includes(driver.accountId), 'no driver');
    }
    assert.deepEqual(bodies().map((b) => b.type).sort(), ['shipment.assigned', 'shipment.created']);
    const createdEvent = bodies().find((b) => b.type === 'shipment.created');
    const assignedEvent = bodies().find((b) => b.type === 'shipment.assigned');
    assert.ok(createdEvent !== undefined && assignedEvent !== undefined);
    assert.deepEqual(createdEvent.data, {
      id: shipment.id,
      trackingNumber: shipment.trackingNumber,
      status: 'created',
      depot: 'north',
      timeWindow: { start: '2026-07-01T07:00:00.000Z', end: '2026-07-01T10:00:00.000Z' },
      reason: null,
    });
    assert.deepEqual([assignedEvent.data.id, assignedEvent.data.status], [shipment.id, 'assigned']);
    assert.notEqual(createdEvent.id, assignedEvent.id, 'one event each');
    const log = await until(async () => {
      const rows = await deliveries();
      return rows.length === 2 && rows.every((d) => d.status === 'delivered') ? rows : undefined;
    });
    assert.deepEqual(log.map((d) => d.event_type).sort(), ['shipment.assigned', 'shipment.created'], 'the delivery log shows both delivered');
  });

  test('a shipment change whose transaction fails enqueues nothing and sends nothing', async () => {
    const created = await dispatcher.browser.post<{ shipment: Shipment }>('/api/v1/shipments', shipmentBody());
    assert.equal(created.status, 201);
    const shipment = created.body.shipment;
    await receiver.waitFor(3);
    const queuedBefore = (await deliveries()).length;
    const sentBefore = receiver.requests.length;

    // Refused by the status machine before anything is written.
    const refused = await dispatcher.browser.post(`/api/v1/shipments/${shipment.id}/status`, { status: 'returned' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body['code'], 'shipment.invalid_transition');

    // The sink runs, then a later step of the same transaction fails: its delivery rolls back with the change.
    const delivery = rampart.running.delivery;
    await assert.rejects(
      delivery.db.transaction().execute(async (trx) => {
        await delivery.shipments.lifecycle.assign(trx, { actor: { type: 'system' }, shipmentId: shipment.id, driverId: driver.accountId });
        assert.equal((await trx.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', endpointId).execute()).length, queuedBefore + 1, 'queued inside the transaction');
        throw new Error('a later step of the change failed');
      }),
      /a later step of the change failed/,
    );
    assert.equal((await delivery.shipments.get(shipment.id)).status, 'created', 'the change rolled back');
    assert.equal((await deliveries()).length, queuedBefore, 'and its delivery with it');
    // Proof that the sender has moved on: a later change that commits is queued and sent; it is the only new request.
    const later = await dispatcher.browser.post<{ shipment: Shipment }>('/api/v1/shipments', shipmentBody());
    assert.equal(later.status, 201);
    await until(async () => ((await deliveries()).length === queuedBefore + 1 && (await deliveries()).every((d) => d.status === 'delivered') ? true : undefined));
    assert.equal(receiver.requests.length, sentBefore + 1, 'nothing was sent for the failed changes');
    assert.deepEqual([bodies().at(-1)?.type, bodies().at(-1)?.data.id], ['shipment.created', later.body.shipment.id]);
    assert.ok(bodies().every((b) => b.data.id !== shipment.id || b.type === 'shipment.created'));
  });
});
