import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { WebhookEndpoints } from '../../src/delivery/webhooks/endpoints.ts';
import { enqueueWebhookEvent, type ShipmentWebhookEvent } from '../../src/delivery/webhooks/index.ts';
import { DestinationGuard } from '../../src/delivery/webhooks/ssrf.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { startRampart } from '../../src/server.ts';
import { migrateUp, openDatabase } from '../../src/storage/database.ts';
import { testConfig } from '../support/config.ts';
import { auditEntries, createSignedInUser, freshSignIn, signIn, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';
import { verifyStandardWebhook } from '../support/standard-webhooks.ts';
import { tempDir } from '../support/tmp.ts';
import { until } from '../support/wait.ts';
import { shipmentEvents, startReceiver, type Receiver } from '../support/webhooks.ts';

// Webhook administration through the API and deliveries through a running
// server: secrets shown once and behind a recent second factor, bad input
// refused with nothing written, internal destinations refused at creation
// and at send time, and queued events delivered after a crash.

type Endpoint = { id: string; name: string; url: string; events: string[]; status: string };
type Created = { endpoint: Endpoint; secret: string };
type Delivery = { id: string; status: string; attempts: number; lastStatusCode: number | null; lastError: string | null; payload: string; eventType: string };

async function enqueue(rampart: TestRampart, event: ShipmentWebhookEvent) {
  return rampart.running.database.db.transaction().execute((trx) => enqueueWebhookEvent(trx, event));
}

describe('webhook administration', () => {
  let rampart: TestRampart;
  let admin: SignedIn;

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
  });
  after(() => rampart.stop());

  const freshAdmin = () => freshSignIn(rampart, admin);

  async function snapshot(): Promise<string> {
    const db = rampart.running.database.db;
    return JSON.stringify([
      await db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute(),
      await db.selectFrom('webhook_deliveries').selectAll().orderBy('id').execute(),
      await db.selectFrom('audit_entries').select('seq').orderBy('seq', 'desc').limit(1).execute(),
    ]);
  }

  test('creating and rotating need a recent second factor; the secret is shown once and stored only encrypted', async () => {
    const browser = await freshAdmin();
    rampart.clock.advance(6 * 60_000);
    const before = await snapshot();
    const stale = await browser.post('/api/v1/webhooks', { name: 'Ops', url: 'https://hooks.example.com/rampart', events: ['shipment.delivered'] });
    assert.equal(stale.status, 401);
    assert.equal(stale.body['code'], 'auth.step_up_required');
    assert.equal(await snapshot(), before, 'nothing written');

    rampart.clock.advance(30_000);
    assert.equal((await browser.post('/api/v1/auth/mfa/totp', { code: admin.code() })).status, 200, 'step-up');
    const created = await browser.post<Created>('/api/v1/webhooks', { name: 'Ops', url: 'https://hooks.example.com/rampart?token=abc', events: ['shipment.delivered', 'shipment.created'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { endpoint, secret } = created.body;
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual([endpoint.name, endpoint.url, endpoint.events, endpoint.status], ['Ops', 'https://hooks.example.com/rampart?token=abc', ['shipment.created', 'shipment.delivered'], 'enabled']);

    for (const path of [`/api/v1/webhooks/${endpoint.id}`, '/api/v1/webhooks']) {
      const read = await browser.get(path);
      assert.equal(read.status, 200);
      assert.ok(!JSON.stringify(read.body).includes(secret.slice(6)), `${path} never carries the secret`);
    }
    const row = await rampart.running.database.db.selectFrom('webhook_endpoints').select('secret').where('id', '=', endpoint.id).executeTakeFirstOrThrow();
    assert.match(row.secret, /^rk1\./);
    const entry = (await auditEntries(rampart, 'webhook.create')).at(-1);
    assert.ok(entry !== undefined);
    assert.equal(entry.actor_id, admin.accountId);
    assert.equal(entry.target_id, endpoint.id);
    assert.deepEqual(JSON.parse(entry.details), { name: 'Ops', origin: 'https://hooks.example.com', events: ['shipment.created', 'shipment.delivered'] }, 'origin only: the query may hold a token');

    rampart.clock.advance(6 * 60_000);
    assert.equal((await browser.post(`/api/v1/webhooks/${endpoint.id}/rotate-secret`)).body['code'], 'auth.step_up_required');
    rampart.clock.advance(30_000);
    assert.equal((await browser.post('/api/v1/auth/mfa/totp', { code: admin.code() })).status, 200);
    const rotated = await browser.post<Created>(`/api/v1/webhooks/${endpoint.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, secret);
    assert.equal((await auditEntries(rampart, 'webhook.rotate_secret')).length, 1);
    const trail = JSON.stringify(await rampart.running.database.db.selectFrom('audit_entries').selectAll().execute());
    assert.ok(!trail.includes(secret.slice(6)) && !trail.includes(rotated.body.secret.slice(6)), 'no secret in the audit trail');
  });

  test('bad input and internal destinations are refused at creation with a clear error; nothing is written', async () => {
    const browser = await freshAdmin();
    const before = await snapshot();
    const valid = { name: 'Receiver', url: 'https://hooks.example.com/in', events: ['shipment.created'] };
    const schemaErrors = [
      {},
      { name: 'Receiver', url: 'https://hooks.example.com/in' },
      { ...valid, events: [] },
      { ...valid, events: ['shipment.teleported'] },
      { ...valid, events: ['shipment.created', 'shipment.created'] },
      { ...valid, name: '' },
      { ...valid, name: 'x'.repeat(101) },
      { ...valid, url: `https://hooks.example.com/${'a'.repeat(2048)}` },
      { ...valid, secret: 'whsec_chosen_by_me' },
      { ...valid, status: 'disabled' },
    ];
    for (const body of schemaErrors) {
      const refused = await browser.post('/api/v1/webhooks', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body['code'], 'request.invalid', JSON.stringify(body));
    }
    const destinations: Record<string, RegExp> = {
      'https://127.0.0.1/hook': /127\.0\.0\.1 is a loopback address/,
      'https://[::1]:8443/hook': /::1 is a loopback address/,
      'https://10.1.2.3/hook': /10\.1\.2\.3 is a private \(RFC 1918\) address/,
      'https://169.254.169.254/latest/meta-data/': /169\.254\.169\.254 is a link-local/,
      'https://localhost:9000/': /localhost \(127\.0\.0\.1\) is a loopback address/,
      'https://100.64.1.1/': /carrier-grade NAT/,
      'https://[fd00::5]/': /unique-local/,
      'https://[::ffff:192.168.1.1]/': /private/,
      'http://hooks.example.com/in': /Plain http/,
      'https://user:pw@hooks.example.com/in': /user name or password/,
      'ftp://hooks.example.com/in': /scheme ftp:/,
      'hooks.example.com/in': /not an absolute URL/,
    };
    for (const [url, reason] of Object.entries(destinations)) {
      const refused = await browser.post('/api/v1/webhooks', { ...valid, url });
      assert.equal(refused.status, 400, url);
      assert.equal(refused.body['code'], 'webhook.url_refused', url);
      assert.match(String(refused.body['detail']), reason, url);
    }
    const notJson = await browser.request('POST', '/api/v1/webhooks', undefined, { 'content-type': 'application/json' });
    assert.equal(notJson.status, 400);
    assert.equal(await snapshot(), before, 'nothing written, nothing audited');
  });

  test('list paginates; get, change and delete answer 404 for unknown endpoints and refuse bad changes without writing', async () => {
    const browser = await freshAdmin();
    const ids: string[] = [];
    for (const name of ['A', 'B', 'C']) ids.push((await browser.post<Created>('/api/v1/webhooks', { name, url: `https://${name.toLowerCase()}.example.com/`, events: ['shipment.failed'] })).body.endpoint.id);
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Endpoint[]; nextCursor: string | null } } = await browser.get(`/api/v1/webhooks?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      all.push(...page.body.items.map((e) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(all, [...all].sort());
    for (const id of ids) assert.ok(all.includes(id));
    assert.equal((await browser.get('/api/v1/webhooks?limit=1000')).status, 400);
    assert.equal((await browser.get('/api/v1/webhooks?colour=red')).status, 400);

    const unknown = 'whk_AAAAAAAAAAAAAAAAAAAAAA';
    assert.equal((await browser.get(`/api/v1/webhooks/${unknown}`)).body['code'], 'webhook.not_found');
    assert.equal((await browser.request('PATCH', `/api/v1/webhooks/${unknown}`, { status: 'disabled' })).status, 404);
    assert.equal((await browser.request('DELETE', `/api/v1/webhooks/${unknown}`)).status, 404);
    assert.equal((await browser.get('/api/v1/webhooks/not-an-id')).status, 400);

    const id = ids[0] ?? '';
    const before = await snapshot();
    for (const body of [{}, { url: 'https://10.0.0.1/' }, { url: 'https://localhost/' }, { events: [] }, { status: 'paused' }, { colour: 'red' }, { name: 'ok', secret: 'x' }]) {
      const refused = await browser.request('PATCH', `/api/v1/webhooks/${id}`, body);
      assert.equal(refused.status, 400, JSON.stringify(body));
    }
    assert.equal(await snapshot(), before, 'refused changes write nothing');

    const changed = await browser.request<Endpoint>('PATCH', `/api/v1/webhooks/${id}`, { events: ['shipment.delivered', 'shipment.failed'], status: 'disabled', url: 'https://a.example.com/v2' });
    assert.equal(changed.status, 200);
    assert.deepEqual([changed.body.events, changed.body.status, changed.body.url], [['shipment.delivered', 'shipment.failed'], 'disabled', 'https://a.example.com/v2']);
    const update = (await auditEntries(rampart, 'webhook.update')).at(-1);
    assert.deepEqual(Object.keys(JSON.parse(update?.details ?? '{}') as object).sort(), ['events', 'status', 'url']);
    assert.equal((await browser.request<Endpoint>('PATCH', `/api/v1/webhooks/${id}`, { status: 'enabled' })).body.status, 'enabled');

    const deleted = await browser.request('DELETE', `/api/v1/webhooks/${id}`);
    assert.equal(deleted.status, 204);
    assert.equal((await browser.get(`/api/v1/webhooks/${id}`)).status, 404);
    assert.deepEqual((await auditEntries(rampart, 'webhook.delete')).map((e) => e.target_id), [id]);
  });

  test('the delivery log lists queued deliveries; a pending one cannot be retried; deleting the endpoint drops them', async () => {
    const browser = await freshAdmin();
    const { endpoint } = (await browser.post<Created>('/api/v1/webhooks', { name: 'Log', url: 'https://log.example.invalid/', events: ['shipment.created', 'shipment.failed'] })).body;
    const event = shipmentEvents(rampart.clock);
    // Due in an hour: the dispatcher leaves them alone while this test looks.
    const later = (e: ShipmentWebhookEvent): ShipmentWebhookEvent => ({ ...e, occurredAt: new Date(rampart.clock.now().getTime() + 3_600_000).toISOString() });
    const created = await enqueue(rampart, later(event('shipment.created')));
    rampart.clock.advance(1_000);
    await enqueue(rampart, later(event('shipment.failed')));
    const log = await browser.get<{ items: Delivery[]; nextCursor: string | null }>(`/api/v1/webhooks/${endpoint.id}/deliveries?status=pending&limit=1`);
    assert.equal(log.status, 200);
    assert.equal(log.body.items.length, 1);
    const [newest] = log.body.items;
    assert.ok(newest !== undefined);
    assert.equal(newest.eventType, 'shipment.failed', 'newest first');
    assert.match(newest.payload, /"reason":"recipient_absent"/);
    const next = await browser.get<{ items: Delivery[] }>(`/api/v1/webhooks/${endpoint.id}/deliveries?status=pending&limit=1&cursor=${log.body.nextCursor}`);
    const mine = await rampart.running.database.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', endpoint.id).where('event_id', '=', created.eventId).execute();
    assert.deepEqual(next.body.items.map((d) => d.id), mine.map((d) => d.id));
    assert.equal((await browser.get(`/api/v1/webhooks/${endpoint.id}/deliveries?status=lost`)).status, 400);
    assert.equal((await browser.get(`/api/v1/webhooks/${endpoint.id}/deliveries?cursor=not*valid`)).status, 400);

    const before = await snapshot();
    const pending = await browser.post(`/api/v1/webhooks/${endpoint.id}/deliveries/${mine[0]?.id}/retry`);
    assert.equal(pending.status, 409);
    assert.equal(pending.body['code'], 'webhook.delivery_pending');
    assert.equal((await browser.post(`/api/v1/webhooks/${endpoint.id}/deliveries/whd_AAAAAAAAAAAAAAAAAAAAAA/retry`)).body['code'], 'webhook.delivery_not_found');
    assert.equal(await snapshot(), before);

    assert.equal((await browser.request('DELETE', `/api/v1/webhooks/${endpoint.id}`)).status, 204);
    assert.equal((await rampart.running.database.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', endpoint.id).execute()).length, 0);
    assert.equal((JSON.parse((await auditEntries(rampart, 'webhook.delete')).at(-1)?.details ?? '{}') as { droppedPending?: number }).droppedPending, 2);
  });

  test('only administrators manage webhooks', async () => {
    const browser = await freshAdmin();
    const dispatcher = await createSignedInUser(rampart, { ...admin, browser }, 'dispatch1', 'dispatcher');
    const before = await snapshot();
    assert.equal((await dispatcher.browser.get('/api/v1/webhooks')).status, 403);
    assert.equal((await dispatcher.browser.post('/api/v1/webhooks', { name: 'x', url: 'https://x.example.com/', events: ['shipment.created'] })).status, 403);
    assert.equal(await snapshot(), before);
  });
});

describe('webhook delivery through a running server', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  let receiver: Receiver;

  before(async () => {
    rampart = await startTestRampart({ webhooks: { allowPrivateCidrs: ['127.0.0.0/8'], pollIntervalMs: 50 } });
    admin = await signInAdmin(rampart);
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await rampart.stop();
  });

  test('an allow-listed local receiver gets the event, signed; the log shows it delivered; narrowing the allow-list later refuses it at send time', async () => {
    const browser = admin.browser;
    const created = await browser.post<Created>('/api/v1/webhooks', { name: 'Local', url: `${receiver.origin}/rampart`, events: ['shipment.delivered'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { endpoint, secret } = created.body;
    const event = shipmentEvents(rampart.clock);
    const { deliveryIds } = await enqueue(rampart, event('shipment.delivered'));
    await receiver.waitFor(1);
    const received = receiver.requests[0];
    assert.ok(received !== undefined);
    assert.deepEqual(verifyStandardWebhook(received, secret, Math.floor(rampart.clock.now().getTime() / 1000)), { ok: true });
    assert.equal(received.headers['webhook-id'], deliveryIds[0]);
    assert.equal((JSON.parse(received.body.toString()) as { type: string }).type, 'shipment.delivered');
    const delivered = await until(async () => {
      const log = await browser.get<{ items: Delivery[] }>(`/api/v1/webhooks/${endpoint.id}/deliveries`);
      const item = log.body.items[0];
      return item?.status === 'delivered' ? item : undefined;
    });
    assert.deepEqual([delivered.attempts, delivered.lastStatusCode, delivered.lastError], [1, 200, null]);

    // 410 Gone fails at once; an administrator's retry sends the same delivery again.
    receiver.script([410], 200);
    const gone = await enqueue(rampart, event('shipment.delivered'));
    const failed = await until(async () => {
      const log = await browser.get<{ items: Delivery[] }>(`/api/v1/webhooks/${endpoint.id}/deliveries?status=failed`);
      return log.body.items.find((d) => d.id === gone.deliveryIds[0]);
    });
    assert.deepEqual([failed.attempts, failed.lastStatusCode, failed.lastError], [1, 410, 'HTTP 410']);
    const retried = await browser.post<Delivery>(`/api/v1/webhooks/${endpoint.id}/deliveries/${failed.id}/retry`);
    assert.equal(retried.status, 200);
    assert.deepEqual([retried.body.status, retried.body.attempts], ['pending', 0]);
    await receiver.waitFor(3);
    assert.deepEqual(receiver.requests.slice(1).map((r) => r.headers['webhook-id']), [failed.id, failed.id]);
    assert.equal((JSON.parse((await auditEntries(rampart, 'webhook.delivery_retry')).at(-1)?.details ?? '{}') as { delivery?: string }).delivery, failed.id);
    await until(async () => ((await browser.get<{ items: Delivery[] }>(`/api/v1/webhooks/${endpoint.id}/deliveries?status=pending`)).body.items.length === 0 ? true : undefined));

    // Restart with the allow-list removed: the stored endpoint now points somewhere webhooks may not go.
    await rampart.running.stop();
    const restarted = await startRampart({ ...rampart.config, webhooks: { ...rampart.config.webhooks, allowPrivateCidrs: [] } }, { logger: createMemoryLogger('warn').logger, clock: rampart.clock, announce: () => undefined });
    try {
      const again = await signIn({ ...rampart, running: restarted, url: restarted.urls.app }, admin);
      const refusedCreation = await again.post('/api/v1/webhooks', { name: 'Local 2', url: `${receiver.origin}/rampart`, events: ['shipment.delivered'] });
      assert.equal(refusedCreation.body['code'], 'webhook.url_refused');
      await restarted.database.db.transaction().execute((trx) => enqueueWebhookEvent(trx, event('shipment.delivered')));
      const refused = await until(async () => {
        const log = await again.get<{ items: Delivery[] }>(`/api/v1/webhooks/${endpoint.id}/deliveries?status=failed`);
        return log.body.items[0];
      });
      assert.match(refused.lastError ?? '', /^refused: 127\.0\.0\.1 is a loopback address that webhooks may not reach/);
      assert.equal(refused.attempts, 1, 'refused at once, not retried');
      // Proof that the sender has moved on: a later event is refused in its turn, and still nothing reached the receiver.
      await restarted.database.db.transaction().execute((trx) => enqueueWebhookEvent(trx, event('shipment.delivered')));
      await until(async () => {
        const log = await again.get<{ items: Delivery[] }>(`/api/v1/webhooks/${endpoint.id}/deliveries?status=failed`);
        return log.body.items.length >= 2 ? true : undefined;
      });
      assert.equal(receiver.requests.length, 3, 'no further request reached the listening loopback receiver');
    } finally {
      await restarted.stop();
    }
  });
});

describe('webhook crash safety', () => {
  test('events committed before a SIGKILL are delivered after restart; rolled-back ones never are', async () => {
    const dir = tempDir('rampart-webhook-kill');
    const receiver = await startReceiver();
    const masterKey = randomBytes(32).toString('base64');
    const config = testConfig(dir.path, { keyring: { masterKey }, webhooks: { allowPrivateCidrs: ['127.0.0.0/8'], pollIntervalMs: 50 } });
    try {
      const database = await openDatabase(config, createMemoryLogger('warn').logger);
      await migrateUp(database);
      const keyring = await Keyring.open({ database, masterKey: Buffer.from(masterKey, 'base64'), clock: systemClock, columns: ENCRYPTED_COLUMNS });
      const endpoints = new WebhookEndpoints({ db: database.db, keyring, clock: systemClock, guard: new DestinationGuard(config.webhooks) });
      const { secret } = await endpoints.create({ name: 'Crash', url: `${receiver.origin}/`, events: ['shipment.out_for_delivery'] }, { actor: { type: 'system' } });
      await database.close();

      const child = spawn(process.execPath, [new URL('../support/webhook-enqueue-child.ts', import.meta.url).pathname, dir.path], { stdio: ['ignore', 'pipe', 'inherit'] });
      const committed: string[] = [];
      const rolledBack: string[] = [];
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const [word, id] = line.split(' ');
          if (word === 'committed' && id !== undefined) committed.push(id);
          if (word === 'rolledback' && id !== undefined) rolledBack.push(id);
        }
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      await until(() => Promise.resolve(committed.length >= 40 ? true : undefined), 30_000);
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      assert.ok(rolledBack.length > 0);

      const running = await startRampart(config, { logger: createMemoryLogger('warn').logger, announce: () => undefined });
      try {
        const stored = await running.database.db.selectFrom('webhook_deliveries').select(['id', 'event_id']).execute();
        assert.ok(stored.length >= committed.length, 'every acknowledged commit has its delivery');
        await receiver.waitFor(stored.length, 30_000);
        await until(async () => ((await running.database.db.selectFrom('webhook_deliveries').select('id').where('status', '!=', 'delivered').execute()).length === 0 ? true : undefined));
        const events = receiver.requests.map((r) => (JSON.parse(r.body.toString()) as { id: string }).id);
        for (const id of committed) assert.ok(events.includes(id), `committed event ${id} delivered`);
        for (const id of rolledBack) assert.ok(!events.includes(id), `rolled-back event ${id} never sent`);
        for (const r of receiver.requests) assert.equal(verifyStandardWebhook(r, secret, Math.floor(Date.now() / 1000)).ok, true);
        assert.equal(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size, receiver.requests.length, 'each delivery sent once');
      } finally {
        await running.stop();
      }
    } finally {
      await receiver.close();
      dir.cleanup();
    }
  });
});
