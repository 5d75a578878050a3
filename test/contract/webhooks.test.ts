import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { appendAudit } from '../../src/audit/append.ts';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { claimDelivery, recordOutcome } from '../../src/delivery/webhooks/deliveries.store.ts';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../src/delivery/webhooks/dispatcher.ts';
import { WebhookEndpoints, type WebhookChange } from '../../src/delivery/webhooks/endpoints.ts';
import { enqueueWebhookEvent, type ShipmentWebhookEvent } from '../../src/delivery/webhooks/index.ts';
import { DestinationGuard, type Resolver } from '../../src/delivery/webhooks/ssrf.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { DATABASE_TARGETS, serviceSkipReason, type OpenedDatabase } from '../support/databases.ts';
import { hasCode } from '../support/errors.ts';
import { masterKey } from '../support/keys.ts';
import { verifyStandardWebhook } from '../support/standard-webhooks.ts';
import { shipmentEvents, startReceiver, type Receiver } from '../support/webhooks.ts';

// Webhooks on every supported database: deliveries enqueued in the caller's
// transaction, claimed once even by two dispatchers, retried with backoff on a
// frozen clock, refused before any byte leaves for an internal address, and
// signed so that a receiver's independent check accepts them.

const change: WebhookChange = { actor: { type: 'cli', id: 'contract', authMethod: 'local_shell' } };
const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const SETTINGS = { allowPrivateCidrs: LOOPBACK, timeoutMs: 2_000, maxAttempts: 4, baseBackoffSeconds: 10, maxBackoffSeconds: 300, pollIntervalMs: 50, maxResponseBytes: 1024 };

for (const target of DATABASE_TARGETS) {
  describe(`webhooks on ${target.name}`, { skip: serviceSkipReason(target.skip) }, () => {
    let opened: OpenedDatabase;
    let keyring: Keyring;
    let receiver: Receiver;
    let endpoints: WebhookEndpoints;
    let clock: ManualClock;
    let event: ReturnType<typeof shipmentEvents>;

    const db = () => opened.database.db;
    const delivery = (id: string) => db().selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const dispatcher = (overrides: Partial<WebhookDispatcherOptions> = {}) =>
      new WebhookDispatcher({ db: db(), keyring, clock, logger: createMemoryLogger('warn').logger, settings: SETTINGS, ...overrides });
    const enqueue = (e: ShipmentWebhookEvent) => db().transaction().execute((trx) => enqueueWebhookEvent(trx, e));
    const auditCount = async () => (await db().selectFrom('audit_entries').select('seq').execute()).length;

    before(async () => {
      opened = await target.open();
      keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock: new ManualClock(), columns: ENCRYPTED_COLUMNS });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
      await opened.cleanup();
    });
    beforeEach(() => {
      clock = new ManualClock('2026-06-01T08:00:00.000Z');
      event = shipmentEvents(clock);
      endpoints = new WebhookEndpoints({ db: db(), keyring, clock, guard: new DestinationGuard({ allowPrivateCidrs: LOOPBACK }) });
      receiver.requests.length = 0;
      receiver.script([], 200);
    });
    afterEach(async () => {
      await db().deleteFrom('webhook_deliveries').execute();
      await db().deleteFrom('webhook_endpoints').execute();
    });

    test('enqueue writes one delivery per enabled endpoint subscribed to the type, in the caller\'s transaction', async () => {
      const all = await endpoints.create({ name: 'all', url: `${receiver.origin}/all`, events: ['shipment.created', 'shipment.delivered'] }, change);
      const deliveredOnly = await endpoints.create({ name: 'delivered', url: `${receiver.origin}/d`, events: ['shipment.delivered'] }, change);
      const off = await endpoints.create({ name: 'off', url: `${receiver.origin}/off`, events: ['shipment.created'] }, change);
      await endpoints.update(off.endpoint.id, { status: 'disabled' }, change);

      const created = await enqueue(event('shipment.created'));
      assert.equal(created.deliveryIds.length, 1);
      assert.equal((await delivery(created.deliveryIds[0] ?? '')).endpoint_id, all.endpoint.id);
      const delivered = await enqueue(event('shipment.delivered'));
      const rows = await db().selectFrom('webhook_deliveries').selectAll().where('event_id', '=', delivered.eventId).orderBy('endpoint_id').execute();
      assert.deepEqual(rows.map((r) => r.endpoint_id).sort(), [all.endpoint.id, deliveredOnly.endpoint.id].sort());
      assert.equal(rows[0]?.payload, rows[1]?.payload, 'one body for every endpoint');
      assert.ok(rows.every((r) => r.status === 'pending' && r.attempts === 0 && r.next_attempt_at === clock.now().toISOString()));
      assert.deepEqual((await enqueue(event('shipment.failed'))).deliveryIds, [], 'no endpoint wants failures');
      const returns = await endpoints.create({ name: 'returns', url: `${receiver.origin}/r`, events: ['shipment.returned'] }, change);
      const returned = await enqueue(event('shipment.returned'));
      assert.deepEqual(await Promise.all(returned.deliveryIds.map(async (id) => (await delivery(id)).endpoint_id)), [returns.endpoint.id], 'returns go to the endpoint subscribed to them');

      const body = JSON.parse(rows[0]?.payload ?? '') as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['id', 'type', 'timestamp', 'data']);
      assert.equal(body['id'], delivered.eventId);
      assert.deepEqual(Object.keys(body['data'] as object), ['id', 'trackingNumber', 'status', 'depot', 'timeWindow', 'reason']);
    });

    test('a rolled-back change leaves no delivery; an invalid event rolls the change back', async () => {
      await endpoints.create({ name: 'all', url: `${receiver.origin}/`, events: ['shipment.created', 'shipment.failed'] }, change);
      const before = await auditCount();
      await assert.rejects(
        db().transaction().execute(async (trx) => {
          await appendAudit(trx, { action: 'shipment.create', outcome: 'success', actor: { type: 'system' } }, clock);
          await enqueueWebhookEvent(trx, event());
          throw new Error('the shipment change failed');
        }),
        /the shipment change failed/,
      );
      const invalid = [
        { ...event(), shipment: { ...event().shipment, recipientName: 'Ada Lovelace' } },
        { ...event(), type: 'shipment.teleported' },
        { ...event(), occurredAt: 'yesterday' },
        { ...event('shipment.failed'), shipment: { ...event().shipment, reason: 'Ada was not home' } },
        { ...event(), shipment: { ...event().shipment, timeWindow: { start: '2026-06-01T12:00:00Z', end: '2026-06-01T10:00:00Z' } } },
      ] as unknown as ShipmentWebhookEvent[];
      for (const bad of invalid) {
        await assert.rejects(
          db().transaction().execute(async (trx) => {
            await appendAudit(trx, { action: 'shipment.create', outcome: 'success', actor: { type: 'system' } }, clock);
            await enqueueWebhookEvent(trx, bad);
          }),
          hasCode('webhook.event_invalid'),
        );
      }
      assert.equal(await auditCount(), before, 'the caller\'s change rolled back with it');
      assert.equal((await db().selectFrom('webhook_deliveries').select('id').execute()).length, 0);
    });

    test('the receiver gets the body, signed: an independent Standard Webhooks check accepts it', async () => {
      const { endpoint, secret } = await endpoints.create({ name: 'r', url: `${receiver.origin}/hooks/rampart?tenant=7`, events: ['shipment.out_for_delivery'] }, change);
      const { deliveryIds } = await enqueue(event('shipment.out_for_delivery'));
      const report = await dispatcher().runOnce();
      assert.deepEqual(report, { claimed: 1, delivered: 1, retried: 0, failed: 0 });
      const received = receiver.requests[0];
      assert.ok(received !== undefined);
      assert.equal(received.path, '/hooks/rampart?tenant=7');
      assert.deepEqual(verifyStandardWebhook(received, secret, Math.floor(clock.now().getTime() / 1000)), { ok: true });
      assert.equal(received.headers['webhook-id'], deliveryIds[0]);
      const row = await delivery(deliveryIds[0] ?? '');
      assert.equal(received.body.toString('utf8'), row.payload);
      assert.deepEqual({ status: row.status, attempts: row.attempts, code: row.last_status_code, error: row.last_error, at: row.delivered_at }, { status: 'delivered', attempts: 1, code: 200, error: null, at: clock.now().toISOString() });
      assert.equal(endpoint.id, row.endpoint_id);
    });

    test('5xx answers are retried with exponential backoff and jitter on the injected clock, then delivered', async () => {
      const { secret } = await endpoints.create({ name: 'flaky', url: `${receiver.origin}/`, events: ['shipment.assigned'] }, change);
      receiver.script([500, 503], 200);
      const [id = ''] = (await enqueue(event('shipment.assigned'))).deliveryIds;
      const sender = dispatcher();

      assert.equal((await sender.runOnce()).retried, 1);
      let row = await delivery(id);
      let wait = Date.parse(row.next_attempt_at) - clock.now().getTime();
      assert.ok(wait >= 5_000 && wait <= 10_000, `first backoff ${wait} ms within [base/2, base]`);
      assert.deepEqual([row.status, row.attempts, row.last_status_code, row.last_error], ['pending', 1, 500, 'HTTP 500']);
      assert.equal((await sender.runOnce()).claimed, 0, 'not due yet');

      clock.advance(10_000);
      assert.equal((await sender.runOnce()).retried, 1);
      row = await delivery(id);
      wait = Date.parse(row.next_attempt_at) - clock.now().getTime();
      assert.ok(wait >= 10_000 && wait <= 20_000, `second backoff ${wait} ms doubled`);

      clock.advance(20_000);
      assert.equal((await sender.runOnce()).delivered, 1);
      row = await delivery(id);
      assert.deepEqual([row.status, row.attempts, row.last_status_code, row.last_error], ['delivered', 3, 200, null]);
      assert.equal(receiver.requests.length, 3);
      assert.deepEqual(new Set(receiver.requests.map((r) => r.headers['webhook-id'])), new Set([id]), 'one id across retries');
      const stamps = receiver.requests.map((r) => Number(r.headers['webhook-timestamp']));
      assert.ok(stamps[0]! < stamps[1]! && stamps[1]! < stamps[2]!, 'each attempt newly timestamped and signed');
      for (const r of receiver.requests) assert.equal(verifyStandardWebhook(r, secret, Number(r.headers['webhook-timestamp'])).ok, true);
    });

    test('after maxAttempts failures the delivery is failed and left alone; 410 Gone fails at once', async () => {
      await endpoints.create({ name: 'down', url: `${receiver.origin}/`, events: ['shipment.created'] }, change);
      receiver.script([], 500);
      const [id = ''] = (await enqueue(event())).deliveryIds;
      const sender = dispatcher();
      for (let i = 0; i < SETTINGS.maxAttempts; i++) {
        await sender.runOnce();
        clock.advance(SETTINGS.maxBackoffSeconds * 1000);
      }
      const row = await delivery(id);
      assert.deepEqual([row.status, row.attempts, row.last_error], ['failed', SETTINGS.maxAttempts, `HTTP 500; gave up after ${SETTINGS.maxAttempts} attempts`]);
      clock.advance(86_400_000);
      assert.equal((await sender.runOnce()).claimed, 0);
      assert.equal(receiver.requests.length, SETTINGS.maxAttempts);

      receiver.script([410]);
      const [gone = ''] = (await enqueue(event())).deliveryIds;
      await sender.runOnce();
      assert.deepEqual([(await delivery(gone)).status, (await delivery(gone)).attempts], ['failed', 1]);
    });

    test('an internal destination is refused at send time: the log says why and no request reaches the listening server', async () => {
      // Created while allow-listed (or under an innocent name); the dispatcher's policy is narrower.
      await endpoints.create({ name: 'literal', url: `${receiver.origin}/`, events: ['shipment.created'] }, change);
      await endpoints.create({ name: 'localhost', url: `http://localhost:${receiver.port}/`, events: ['shipment.created'] }, change);
      const named = new WebhookEndpoints({ db: db(), keyring, clock, guard: new DestinationGuard({ allowPrivateCidrs: [] }) });
      await named.create({ name: 'rebinding', url: `https://hooks.example.test:${receiver.port}/`, events: ['shipment.created'] }, change);
      await named.create({ name: 'metadata', url: 'https://metadata.example.test/latest/meta-data/', events: ['shipment.created'] }, change);
      const resolver: Resolver = (host) =>
        Promise.resolve(host === 'hooks.example.test' ? [{ address: '127.0.0.1', family: 4 }] : host === 'metadata.example.test' ? [{ address: '169.254.169.254', family: 4 }] : [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
      const strict = dispatcher({ settings: { ...SETTINGS, allowPrivateCidrs: [] }, resolver });
      const { deliveryIds } = await enqueue(event());
      assert.equal(deliveryIds.length, 4);
      assert.deepEqual(await strict.runOnce(), { claimed: 4, delivered: 0, retried: 0, failed: 4 });
      const errors = (await db().selectFrom('webhook_deliveries').select(['last_error', 'status']).execute()).map((r) => r.last_error ?? '').sort();
      assert.match(errors.join('\n'), /refused: 127\.0\.0\.1 is a loopback address/);
      assert.match(errors.join('\n'), /refused: localhost \(127\.0\.0\.1\) is a loopback address/);
      assert.match(errors.join('\n'), /refused: hooks\.example\.test \(127\.0\.0\.1\) is a loopback address/);
      assert.match(errors.join('\n'), /refused: metadata\.example\.test \(169\.254\.169\.254\) is a link-local/);
      assert.equal(receiver.requests.length, 0, 'the listening loopback receiver saw nothing');
    });

    test('a host that does not resolve is retried, and the recorded reason names the host and the resolver\'s answer', async () => {
      const named = new WebhookEndpoints({ db: db(), keyring, clock, guard: new DestinationGuard({ allowPrivateCidrs: [] }) });
      await named.create({ name: 'gone', url: 'https://gone.example.test/', events: ['shipment.created'] }, change);
      await named.create({ name: 'empty', url: 'https://empty.example.test/', events: ['shipment.created'] }, change);
      const resolver: Resolver = (host) =>
        host === 'empty.example.test' ? Promise.resolve([]) : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
      await enqueue(event());
      assert.deepEqual(await dispatcher({ resolver }).runOnce(), { claimed: 2, delivered: 0, retried: 2, failed: 0 });
      const rows = await db().selectFrom('webhook_deliveries').select(['last_error', 'status']).execute();
      assert.deepEqual(rows.map((r) => [r.status, r.last_error]).sort(), [
        ['pending', 'cannot resolve gone.example.test: ENOTFOUND'],
        ['pending', 'empty.example.test has no addresses'],
      ]);
    });

    test('the connection goes to the vetted address: the name is resolved once per attempt and never again', async () => {
      const answers = ['127.0.0.1', '10.66.0.1'];
      const lookups: string[] = [];
      const rebinding: Resolver = (host) => {
        lookups.push(host);
        return Promise.resolve([{ address: answers.shift() ?? '10.66.0.1', family: 4 }]);
      };
      await endpoints.create({ name: 'pinned', url: `http://rebind.example.test:${receiver.port}/in`, events: ['shipment.created'] }, change);
      await enqueue(event());
      assert.equal((await dispatcher({ resolver: rebinding }).runOnce()).delivered, 1);
      assert.deepEqual(lookups, ['rebind.example.test']);
      assert.equal(receiver.requests[0]?.headers.host, `rebind.example.test:${receiver.port}`);
      // The next attempt sees the rebound (private, not allow-listed) answer and is refused.
      await enqueue(event());
      const report = await dispatcher({ resolver: rebinding }).runOnce();
      assert.equal(report.failed, 1);
      assert.equal(receiver.requests.length, 1);
    });

    test('two dispatchers working the same queue send each delivery exactly once', async () => {
      await endpoints.create({ name: 'busy', url: `${receiver.origin}/`, events: ['shipment.created'] }, change);
      const ids = new Set<string>();
      for (let i = 0; i < 30; i++) for (const id of (await enqueue(event())).deliveryIds) ids.add(id);
      const one = dispatcher({ batchSize: 7 });
      const two = dispatcher({ batchSize: 7 });
      const drain = async (d: WebhookDispatcher) => {
        while ((await d.runOnce()).claimed > 0);
      };
      await Promise.all([drain(one), drain(two), drain(one)]);
      const sent = receiver.requests.map((r) => String(r.headers['webhook-id']));
      assert.equal(sent.length, 30);
      assert.deepEqual(new Set(sent), ids);
      assert.equal((await db().selectFrom('webhook_deliveries').select('id').where('status', '=', 'delivered').execute()).length, 30);
    });

    test('a claim abandoned by a crashed dispatcher is retried once its lease runs out, and the late outcome is dropped', async () => {
      await endpoints.create({ name: 'lease', url: `${receiver.origin}/`, events: ['shipment.created'] }, change);
      const [id = ''] = (await enqueue(event())).deliveryIds;
      const now = clock.now().toISOString();
      assert.equal(await claimDelivery(db(), id, 0, now, new Date(clock.now().getTime() + SETTINGS.timeoutMs + 30_000).toISOString()), true);
      assert.equal(await claimDelivery(db(), id, 0, now, now), false, 'a second claim of the same attempt loses');
      const survivor = dispatcher();
      assert.equal((await survivor.runOnce()).claimed, 0, 'leased');
      clock.advance(SETTINGS.timeoutMs + 30_000);
      assert.equal((await survivor.runOnce()).delivered, 1);
      assert.equal((await delivery(id)).attempts, 2);
      assert.equal(await recordOutcome(db(), id, 1, { kind: 'failed', statusCode: 500, error: 'late', at: now }), false);
      assert.equal((await delivery(id)).status, 'delivered');
    });

    test('a disabled endpoint\'s queued deliveries fail without a request; retry queues one again', async () => {
      const { endpoint } = await endpoints.create({ name: 'paused', url: `${receiver.origin}/`, events: ['shipment.created'] }, change);
      const [id = ''] = (await enqueue(event())).deliveryIds;
      await endpoints.update(endpoint.id, { status: 'disabled' }, change);
      await dispatcher().runOnce();
      assert.deepEqual([(await delivery(id)).status, (await delivery(id)).last_error], ['failed', 'the endpoint is disabled']);
      assert.equal(receiver.requests.length, 0);

      await endpoints.update(endpoint.id, { status: 'enabled' }, change);
      const again = await endpoints.retryDelivery(endpoint.id, id, change);
      assert.deepEqual([again.status, again.attempts, again.nextAttemptAt], ['pending', 0, clock.now().toISOString()]);
      await assert.rejects(endpoints.retryDelivery(endpoint.id, id, change), hasCode('webhook.delivery_pending'));
      await dispatcher().runOnce();
      assert.equal((await delivery(id)).status, 'delivered');
      assert.equal(receiver.requests[0]?.headers['webhook-id'], id);
    });

    test('secrets are stored only encrypted and bound to their row; rotation signs later attempts with the new one; the audit trail never holds them', async () => {
      const { endpoint, secret } = await endpoints.create({ name: 'rotating', url: `${receiver.origin}/`, events: ['shipment.created'] }, change);
      const stored = await db().selectFrom('webhook_endpoints').select('secret').where('id', '=', endpoint.id).executeTakeFirstOrThrow();
      assert.ok(!stored.secret.includes(secret.slice(6)));
      assert.equal(await keyring.decryptFieldText({ table: 'webhook_endpoints', column: 'secret', rowId: endpoint.id }, stored.secret), secret);
      await assert.rejects(keyring.decryptFieldText({ table: 'webhook_endpoints', column: 'secret', rowId: 'whk_someone_else' }, stored.secret), hasCode('crypto.authentication_failed'));

      const rotated = await endpoints.rotateSecret(endpoint.id, change);
      assert.notEqual(rotated.secret, secret);
      await enqueue(event());
      await dispatcher().runOnce();
      const received = receiver.requests[0];
      assert.ok(received !== undefined);
      const at = Number(received.headers['webhook-timestamp']);
      assert.equal(verifyStandardWebhook(received, rotated.secret, at).ok, true);
      assert.equal(verifyStandardWebhook(received, secret, at).ok, false);
      const trail = JSON.stringify(await db().selectFrom('audit_entries').selectAll().execute());
      for (const s of [secret, rotated.secret]) assert.ok(!trail.includes(s.slice(6)), 'no secret in the audit trail');
    });

    test('the delivery log pages newest first and filters by status, and goes with its endpoint', async () => {
      const { endpoint } = await endpoints.create({ name: 'log', url: `${receiver.origin}/`, events: ['shipment.created'] }, change);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(...(await enqueue(event())).deliveryIds);
        clock.advance(1_000);
      }
      await dispatcher({ batchSize: 1 }).runOnce();
      const first = await endpoints.deliveries(endpoint.id, { limit: 3 });
      assert.deepEqual(first.items.map((d) => d.id), ids.slice(2).reverse());
      assert.ok(first.nextCursor !== null);
      const second = await endpoints.deliveries(endpoint.id, { limit: 3, cursor: first.nextCursor });
      assert.deepEqual(second.items.map((d) => d.id), ids.slice(0, 2).reverse());
      assert.equal(second.nextCursor, null);
      assert.deepEqual((await endpoints.deliveries(endpoint.id, { limit: 10, status: 'delivered' })).items.map((d) => d.id), [ids[0]]);
      assert.deepEqual((await endpoints.deliveries(endpoint.id, { limit: 10, status: 'pending' })).items.length, 4);
      await assert.rejects(endpoints.deliveries(endpoint.id, { limit: 3, cursor: 'bm90LWEtY3Vyc29y' }), hasCode('request.invalid'));

      await endpoints.remove(endpoint.id, change);
      assert.equal((await db().selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', endpoint.id).execute()).length, 0, 'the log goes with the endpoint');
      const removed = await db().selectFrom('audit_entries').select('details').where('action', '=', 'webhook.delete').where('target_id', '=', endpoint.id).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(removed.details), { name: 'log', origin: receiver.origin, droppedPending: 4 });
      await assert.rejects(endpoints.get(endpoint.id), hasCode('webhook.not_found'));
    });
  });
}
