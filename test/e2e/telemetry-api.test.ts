import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { partitionFor } from '../../src/stream/event-log.ts';
import { createTestDevice, droneReading, outsideRegistry, publish, publisherToken, type TestDevice } from '../support/devices.ts';
import { readSse, sseStream } from '../support/sse.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// Reading telemetry on the app plane: pages of events, partition information,
// consumer-group checkpoints and the live Server-Sent Events stream, for
// administrators and for integrations holding a telemetry.read token.

const DRONES = 'drone-telemetry';
const BINARY = 'binary-telemetry';

interface EventView {
  sequence: number;
  offset: number;
  publisher: string;
  enqueuedAt: string;
  bodyEncoding: 'json' | 'base64';
  body: unknown;
  properties: Record<string, string>;
}

describe('telemetry read API', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  let drone: TestDevice;
  let partition: number;
  let bearer: string;

  const send = async (n: number, hub = DRONES, body: string | Uint8Array = JSON.stringify(droneReading({ altitude: n })), contentType = 'application/json') => {
    const sent = await publish(rampart.running, { hub, deviceId: drone.id, token: publisherToken(drone, { hub, key: drone.primaryKey, clock: rampart.clock }), body, contentType });
    assert.equal(sent.status, 201, sent.text);
  };
  const events = (query: string) => admin.browser.get<{ events: EventView[]; nextSequence: number | null }>(`/api/v1/hubs/${DRONES}/partitions/${partition}/events?${query}`);

  before(async () => {
    rampart = await startTestRampart({ hubs: { [BINARY]: { partitions: 1, retentionHours: 1, retentionMaxBytes: 1_048_576, schema: 'none', onInvalid: 'refuse', allowNonJson: true } } });
    admin = await signInAdmin(rampart);
    const created = await admin.browser.post<{ clientId: string; clientSecret: string }>('/api/v1/service-principals', { name: 'fleet-dashboard', scopes: ['telemetry.read'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const basic = Buffer.from(`${encodeURIComponent(created.body.clientId)}:${encodeURIComponent(created.body.clientSecret)}`).toString('base64');
    const issued = await fetch(`${rampart.url}/api/v1/oauth/token`, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=telemetry.read' });
    assert.equal(issued.status, 200);
    bearer = ((await issued.json()) as { access_token: string }).access_token;
    drone = await createTestDevice(outsideRegistry(rampart.running, rampart.clock), { id: 'reader-d1' });
    partition = partitionFor(drone.id, 4);
    for (let n = 1; n <= 5; n += 1) await send(n);
  });
  after(() => rampart.stop());

  test('lists the hubs with origin, partitions, retention and content rules', async () => {
    const listed = await admin.browser.get<{ hubs: Array<Record<string, unknown>> }>('/api/v1/hubs');
    assert.equal(listed.status, 200);
    const drones = listed.body.hubs.find((h) => h['name'] === DRONES);
    assert.deepEqual(
      { ...drones, createdAt: undefined, updatedAt: undefined },
      { name: DRONES, origin: 'config', partitions: 4, retentionHours: 168, retentionMaxBytes: 1_073_741_824, schema: 'drone', onInvalid: 'refuse', allowNonJson: false, createdAt: undefined, updatedAt: undefined },
    );
    assert.equal(typeof drones?.['createdAt'], 'string');
    assert.equal(listed.body.hubs.find((h) => h['name'] === BINARY)?.['allowNonJson'], true);
    assert.ok(listed.body.hubs.some((h) => h['name'] === 'security-events'));
  });

  test('describes a partition: first and last sequence, last offset and time', async () => {
    const info = await admin.browser.get(`/api/v1/hubs/${DRONES}/partitions/${partition}`);
    assert.equal(info.status, 200);
    assert.equal(info.body['firstSequence'], 1);
    assert.equal(info.body['lastSequence'], 5);
    assert.equal(info.body['lastEnqueuedAt'], rampart.clock.now().toISOString());
    const missing = await admin.browser.get(`/api/v1/hubs/${DRONES}/partitions/9`);
    assert.equal(missing.status, 404);
    const unknown = await admin.browser.get('/api/v1/hubs/no-such-hub/partitions/0');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['code'], 'ingest.unknown_hub');
  });

  test('pages through events by fromSequence, JSON bodies as JSON', async () => {
    const first = await events('fromSequence=1&limit=2');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.events.map((e) => e.sequence), [1, 2]);
    assert.equal(first.body.events[0]?.bodyEncoding, 'json');
    assert.deepEqual(first.body.events[0].body, droneReading({ altitude: 1 }));
    assert.equal(first.body.events[0].publisher, drone.id);
    assert.equal(first.body.nextSequence, 3);
    const second = await events(`fromSequence=${first.body.nextSequence}&limit=10`);
    assert.deepEqual(second.body.events.map((e) => (e.body as { altitude: number }).altitude), [3, 4, 5]);
    const past = await events('fromSequence=6');
    assert.deepEqual(past.body, { events: [], nextSequence: null });
    const byOffset = await events(`fromOffset=${second.body.events[0]?.offset}&limit=1`);
    assert.deepEqual(byOffset.body.events.map((e) => e.sequence), [3]);
    const byTime = await events(`fromTime=${encodeURIComponent(first.body.events[0].enqueuedAt)}&limit=1`);
    assert.deepEqual(byTime.body.events.map((e) => e.sequence), [1]);
  });

  test('bodies that are not JSON come back as base64, flagged', async () => {
    await send(0, BINARY, Buffer.from([1, 2, 3, 250]), 'application/octet-stream');
    const page = await admin.browser.get<{ events: EventView[] }>(`/api/v1/hubs/${BINARY}/partitions/0/events?fromSequence=0`);
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.events.map((e) => [e.bodyEncoding, e.body]), [['base64', Buffer.from([1, 2, 3, 250]).toString('base64')]]);
  });

  test('refuses a query without exactly one starting point, or with a limit out of range (400)', async () => {
    for (const query of ['fromSequence=1&fromOffset=0', 'fromSequence=1&fromTime=2026-01-01T00:00:00Z', '', 'fromSequence=1&limit=0', 'fromSequence=1&limit=1001', 'fromSequence=-1', 'fromTime=yesterday', 'fromSequence=1&extra=1']) {
      const refused = await events(query);
      assert.equal(refused.status, 400, `${query}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body['code' as never], 'request.invalid', query);
    }
  });

  test('a service principal with telemetry.read reads and checkpoints with its bearer token', async () => {
    const headers = { authorization: `Bearer ${bearer}` };
    const page = await fetch(`${rampart.url}/api/v1/hubs/${DRONES}/partitions/${partition}/events?fromSequence=1&limit=3`, { headers });
    assert.equal(page.status, 200);
    const body = (await page.json()) as { events: EventView[] };
    assert.equal(body.events.length, 3);
    const last = body.events.at(-1);
    const put = await fetch(`${rampart.url}/api/v1/hubs/${DRONES}/consumergroups/dashboard/checkpoints/${partition}`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ sequence: last?.sequence, offset: last?.offset }) });
    assert.equal(put.status, 200, await put.clone().text());
    const got = await fetch(`${rampart.url}/api/v1/hubs/${DRONES}/consumergroups/dashboard/checkpoints/${partition}`, { headers });
    assert.deepEqual(await got.json(), await put.json());
    const anonymous = await fetch(`${rampart.url}/api/v1/hubs`);
    assert.equal(anonymous.status, 401);
  });

  test('checkpoints: none yet is 404; put, get and resume after it', async () => {
    const path = `/api/v1/hubs/${DRONES}/consumergroups/archiver/checkpoints/${partition}`;
    const none = await admin.browser.get(path);
    assert.equal(none.status, 404);
    const page = await events('fromSequence=1&limit=2');
    const last = page.body.events.at(-1)!;
    const put = await admin.browser.request('PUT', path, { sequence: last.sequence, offset: last.offset });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body['consumerGroup'], 'archiver');
    const got = await admin.browser.get<{ sequence: number; offset: number }>(path);
    assert.deepEqual({ sequence: got.body.sequence, offset: got.body.offset }, { sequence: 2, offset: last.offset });
    const resumed = await events(`fromSequence=${got.body.sequence + 1}`);
    assert.deepEqual(resumed.body.events.map((e) => e.sequence), [3, 4, 5]);
    const beyond = await admin.browser.request('PUT', path, { sequence: 99, offset: 0 });
    assert.equal(beyond.status, 400);
    const malformed = await admin.browser.request('PUT', path, { sequence: 'two' });
    assert.equal(malformed.status, 400);
    const badGroup = await admin.browser.get(`/api/v1/hubs/${DRONES}/consumergroups/bad%20group/checkpoints/${partition}`);
    assert.equal(badGroup.status, 400);
  });

  test('a driver may not read telemetry (403)', async () => {
    const driver = await createSignedInUser(rampart, admin, 'dora', 'driver');
    for (const path of ['/api/v1/hubs', `/api/v1/hubs/${DRONES}/partitions/${partition}/events?fromSequence=1`, `/api/v1/hubs/${DRONES}/partitions/${partition}/stream`]) {
      const refused = await driver.browser.get(path);
      assert.equal(refused.status, 403, path);
      assert.equal(refused.body['code'], 'access.denied');
    }
  });

  test('the live stream delivers new events with their sequence as id, and resumes after Last-Event-ID', async () => {
    const url = `${rampart.url}/api/v1/hubs/${DRONES}/partitions/${partition}/stream`;
    const live = await fetch(url, { headers: { cookie: admin.browser.cookie ?? '' } });
    assert.equal(live.status, 200);
    assert.match(live.headers.get('content-type') ?? '', /^text\/event-stream/);
    const stream = sseStream(live);
    // The first message (the retry line) is written after the stream fixed its start: later events are new to it.
    await stream.until((m) => m.length >= 1);
    await send(6);
    await send(7);
    const received = (await stream.until((m) => m.filter((x) => x.event === 'event').length >= 2)).filter((m) => m.event === 'event');
    await stream.close();
    assert.deepEqual(received.map((m) => m.id), ['6', '7'], 'only events newer than the connection');
    const data = JSON.parse(received[0]?.data ?? '{}') as EventView;
    assert.equal(data.sequence, 6);
    assert.deepEqual(data.body, droneReading({ altitude: 6 }));

    const resumed = await fetch(url, { headers: { cookie: admin.browser.cookie ?? '', 'last-event-id': '5' } });
    const again = (await readSse(resumed, (m) => m.filter((x) => x.event === 'event').length >= 2)).filter((m) => m.event === 'event');
    assert.deepEqual(again.map((m) => m.id), ['6', '7']);

    const fromStart = await fetch(`${url}?fromSequence=1`, { headers: { authorization: `Bearer ${bearer}` } });
    const all = (await readSse(fromStart, (m) => m.filter((x) => x.event === 'event').length >= 7)).filter((m) => m.event === 'event');
    assert.deepEqual(all.map((m) => m.id), ['1', '2', '3', '4', '5', '6', '7']);

    const badId = await fetch(url, { headers: { cookie: admin.browser.cookie ?? '', 'last-event-id': 'abc' } });
    assert.equal(badId.status, 400);
  });

  test('an open stream is ended by the server at shutdown, not cut when the drain timeout passes', async () => {
    const live = await fetch(`${rampart.url}/api/v1/hubs/${DRONES}/partitions/${partition}/stream`, { headers: { cookie: admin.browser.cookie ?? '' } });
    assert.equal(live.status, 200);
    const stream = sseStream(live);
    await stream.until((m) => m.length >= 1);
    const ending = stream.until(() => false, 10_000);
    await rampart.running.stop();
    await ending;
    // Left to the drain, the connection would be cut after shutdown.drainTimeoutMs (2 s here) and the read would fail.
    assert.equal(stream.endedBy, 'server', 'the stream was ended cleanly, before the drain had to cut it');
  });
});
