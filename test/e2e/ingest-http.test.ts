import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { DeviceRegistry } from '../../src/devices/registry.ts';
import { createSasToken } from '../../src/crypto/sas.ts';
import { SCHEMA_INVALID_PROPERTY } from '../../src/ingest/events.ts';
import { partitionFor } from '../../src/stream/event-log.ts';
import { createTestDevice, droneReading, eventCounts, hubEvents, outsideRegistry, publish, publisherToken, truckReading, type TestDevice } from '../support/devices.ts';
import { startTestRampart, type TestRampart } from '../support/identity.ts';
import { referenceToken } from '../support/sas-reference.ts';
import { until, within } from '../support/wait.ts';

// The Event Hubs-style HTTPS ingest on a running server's device plane:
// what is accepted is durable and in order; what is refused — by
// authentication, publisher policy or content — stores nothing and never
// answers 5xx.

const DRONES = 'drone-telemetry';
const TRUCKS = 'truck-telemetry';
const BINARY = 'binary-telemetry';
const BATCH_TYPE = 'application/vnd.microsoft.servicebus.json';
const JSON_TYPE = 'application/json';
const MAX_EVENT_BYTES = 2048;
const MAX_REQUEST_BYTES = 16_384;

const hubs = {
  [TRUCKS]: { partitions: 4, retentionHours: 168, retentionMaxBytes: 1_073_741_824, schema: 'truck', onInvalid: 'flag', allowNonJson: false },
  [BINARY]: { partitions: 2, retentionHours: 168, retentionMaxBytes: 1_073_741_824, schema: 'none', onInvalid: 'refuse', allowNonJson: true },
} as const;

function flipLastSignatureBit(token: string): string {
  return token.replace(/sig=([^&]+)/, (_whole, sig: string) => {
    const bytes = Buffer.from(decodeURIComponent(sig), 'base64');
    bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0x01;
    return `sig=${encodeURIComponent(bytes.toString('base64'))}`;
  });
}

/** A correctly signed Event Hubs token that names no key (no `skn`): the IoT Hub device form. */
function tokenWithoutKeyName(device: TestDevice, hub: string, clock: TestRampart['clock']): string {
  return createSasToken({ resourceUri: `https://localhost/${hub}/publishers/${device.id}`, key: device.primaryKey, expiresAt: Math.floor(clock.now().getTime() / 1000) + 3600, keyEncoding: 'utf8' });
}

describe('HTTPS ingest on the device plane', () => {
  let rampart: TestRampart;
  let registry: DeviceRegistry;
  let drone: TestDevice;
  let other: TestDevice;
  let truck: TestDevice;

  const token = (device: TestDevice, hub = DRONES, extra: { expiresIn?: number; key?: string; publisher?: string } = {}) =>
    publisherToken(device, { hub, key: extra.key ?? device.primaryKey, clock: rampart.clock, ...(extra.expiresIn === undefined ? {} : { expiresIn: extra.expiresIn }), ...(extra.publisher === undefined ? {} : { publisher: extra.publisher }) });

  /** Runs `action`, then checks that no hub gained an event except security-events. */
  async function storesNothing(action: () => Promise<void>): Promise<void> {
    const before = await eventCounts(rampart.running);
    await action();
    const afterwards = await eventCounts(rampart.running);
    assert.deepEqual({ ...afterwards, 'security-events': 0 }, { ...before, 'security-events': 0 });
  }

  before(async () => {
    rampart = await startTestRampart({
      hubs,
      // Refusal tests below fail hundreds of times from one address; the throttle has its own server.
      ingest: { failuresPerSource: 10_000, maxEventBytes: MAX_EVENT_BYTES, maxRequestBytes: MAX_REQUEST_BYTES, maxBatchEvents: 50 },
    });
    registry = outsideRegistry(rampart.running, rampart.clock);
    drone = await createTestDevice(registry, { id: 'd1', kind: 'drone' });
    other = await createTestDevice(registry, { id: 'd10', kind: 'drone' });
    truck = await createTestDevice(registry, { id: 't1', kind: 'truck' });
  });
  after(() => rampart.stop());

  test('a single event is acknowledged with 201 only once it can be read back, with its properties', async () => {
    const reading = droneReading({ battery: 77 });
    const sent = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: token(drone), body: JSON.stringify(reading), contentType: JSON_TYPE, headers: { mission: '"m-42"', 'x-ms-retrypolicy': 'NoRetry' } });
    assert.equal(sent.status, 201, sent.text);
    assert.equal(sent.text, '');
    const stored = (await hubEvents(rampart.running, DRONES)).filter((e) => e.publisher === drone.id);
    const last = stored.at(-1);
    assert.ok(last);
    assert.deepEqual(JSON.parse(last.body.toString('utf8')), reading);
    assert.equal(last.contentType, JSON_TYPE);
    assert.equal(last.partition, partitionFor(drone.id, 4));
    assert.deepEqual(last.properties, { mission: 'm-42' }, 'custom headers become properties; standard and x-ms- headers do not');
  });

  test('an Event Hubs client\'s atom+xml content type is taken as "unspecified" and the JSON body is checked as usual', async () => {
    const sent = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: token(drone), body: JSON.stringify(droneReading()), contentType: 'application/atom+xml;type=entry;charset=utf-8' });
    assert.equal(sent.status, 201, sent.text);
  });

  test('a batch is stored whole, in order, with each event\'s user properties and message id', async () => {
    const beforeCount = (await hubEvents(rampart.running, DRONES)).filter((e) => e.publisher === drone.id).length;
    const batch = [0, 1, 2, 3, 4].map((n) => ({ Body: JSON.stringify(droneReading({ altitude: 100 + n })), UserProperties: { n, leg: 'B' }, BrokerProperties: { MessageId: `batch-1-${n}`, PartitionKey: drone.id } }));
    const sent = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: token(drone), body: JSON.stringify(batch), contentType: BATCH_TYPE });
    assert.equal(sent.status, 201, sent.text);
    const stored = (await hubEvents(rampart.running, DRONES)).filter((e) => e.publisher === drone.id).slice(beforeCount);
    assert.deepEqual(stored.map((e) => (JSON.parse(e.body.toString()) as { altitude: number }).altitude), [100, 101, 102, 103, 104]);
    assert.deepEqual(stored.map((e) => e.properties), [0, 1, 2, 3, 4].map((n) => ({ n: String(n), leg: 'B' })));
    assert.deepEqual(stored.map((e) => e.messageId), [0, 1, 2, 3, 4].map((n) => `batch-1-${n}`));
    const sequences = stored.map((e) => e.sequence);
    assert.deepEqual(sequences, [...sequences].sort((a, b) => a - b));
  });

  test('a token made by an independent SAS implementation (either hex case) is accepted', async () => {
    const expiry = Math.floor(rampart.clock.now().getTime() / 1000) + 600;
    for (const hexCase of ['upper', 'lower'] as const) {
      const reference = await referenceToken({ uri: `https://localhost/${DRONES}/publishers/${drone.id}`, key: drone.secondaryKey, keyName: 'secondary', expiry, encoding: 'utf8', hexCase });
      const sent = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: reference, body: JSON.stringify(droneReading()), contentType: JSON_TYPE });
      assert.equal(sent.status, 201, `${hexCase}: ${sent.text}`);
    }
  });

  test('a retried send with the same MessageId is stored once', async () => {
    const send = () =>
      publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: token(drone), body: JSON.stringify(droneReading({ battery: 12 })), contentType: JSON_TYPE, headers: { brokerproperties: JSON.stringify({ MessageId: 'retry-me', Label: 'ignored' }) } });
    assert.equal((await send()).status, 201);
    assert.equal((await send()).status, 201, 'the retry is acknowledged too');
    const stored = (await hubEvents(rampart.running, DRONES)).filter((e) => e.messageId === 'retry-me');
    assert.equal(stored.length, 1);
  });

  test('credentials that do not prove the device are refused with 401, and nothing is stored', async () => {
    const body = JSON.stringify(droneReading());
    const cases: Array<[string, string | undefined, string]> = [
      ['no Authorization header', undefined, drone.id],
      ['a Bearer token', 'Bearer abc.def.ghi', drone.id],
      ['a flipped signature bit', flipLastSignatureBit(token(drone)), drone.id],
      ['another device\'s key', token(drone, DRONES, { key: other.primaryKey }), drone.id],
      ['an expired token', token(drone, DRONES, { expiresIn: -1 }), drone.id],
      ['a token lasting longer than allowed', token(drone, DRONES, { expiresIn: 10 * 365 * 86_400 }), drone.id],
      ['d1\'s token for d10', token(drone), other.id],
      ['a token for another hub', token(drone, TRUCKS), drone.id],
      ['a token for another host', publisherToken(drone, { hub: DRONES, key: drone.primaryKey, clock: rampart.clock, host: 'evil.example' }), drone.id],
      ['an unknown device', token({ ...drone, id: 'ghost' }), 'ghost'],
      ['garbage', 'SharedAccessSignature sr=%ZZ&sig=x&se=1', drone.id],
    ];
    await storesNothing(async () => {
      for (const [name, authorization, deviceId] of cases) {
        const sent = await publish(rampart.running, { hub: DRONES, deviceId, token: authorization, body, contentType: JSON_TYPE });
        assert.equal(sent.status, 401, `${name}: ${sent.text}`);
        assert.equal(sent.problem?.code, 'device.unauthorized', name);
        assert.equal(sent.problem.detail, undefined, `${name}: the answer does not say why`);
      }
    });
  });

  test('a correctly signed token without skn is refused with 401, recorded as malformed, and nothing is stored', async () => {
    const failures = async () => /reason="malformed"\} (\d+)/.exec(await rampart.running.metrics.registry.getSingleMetricAsString('rampart_device_auth_failures_total'))?.[1] ?? '0';
    const before = Number(await failures());
    const body = JSON.stringify(droneReading());
    await storesNothing(async () => {
      const sent = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: tokenWithoutKeyName(drone, DRONES, rampart.clock), body, contentType: JSON_TYPE });
      assert.equal(sent.status, 401, sent.text);
      assert.equal(sent.problem?.code, 'device.unauthorized');
      assert.equal(sent.headers.get('www-authenticate'), 'SharedAccessSignature');
    });
    assert.equal(Number(await failures()), before + 1, 'counted as a malformed credential');
    const last = (await hubEvents(rampart.running, 'security-events')).map((e) => JSON.parse(e.body.toString()) as Record<string, unknown>).at(-1);
    assert.deepEqual({ type: last?.['type'], reason: last?.['reason'], deviceId: last?.['deviceId'], protocol: last?.['protocol'] }, { type: 'device.auth_failed', reason: 'malformed', deviceId: drone.id, protocol: 'https' });
    const named = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: token(drone), body, contentType: JSON_TYPE });
    assert.equal(named.status, 201, 'the same key with skn=primary is accepted');
  });

  test('publisher policy: a device publishes only as itself, with its own id as partition key (403)', async () => {
    const body = JSON.stringify(droneReading());
    await storesNothing(async () => {
      const header = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: token(drone), body, contentType: JSON_TYPE, headers: { brokerproperties: JSON.stringify({ PartitionKey: other.id }) } });
      assert.equal(header.status, 403, header.text);
      assert.equal(header.problem?.code, 'device.forbidden');
      const batch = [{ Body: body }, { Body: body, BrokerProperties: { PartitionKey: other.id } }];
      const inBatch = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: token(drone), body: JSON.stringify(batch), contentType: BATCH_TYPE });
      assert.equal(inBatch.status, 403, inBatch.text);
    });
  });

  test('an unknown hub answers 404 only to an authenticated device; strangers learn nothing', async () => {
    const stranger = await publish(rampart.running, { hub: 'no-such-hub', deviceId: drone.id, token: flipLastSignatureBit(token(drone, 'no-such-hub')), body: '{}', contentType: JSON_TYPE });
    assert.equal(stranger.status, 401);
    const known = await publish(rampart.running, { hub: 'no-such-hub', deviceId: drone.id, token: token(drone, 'no-such-hub'), body: '{}', contentType: JSON_TYPE });
    assert.equal(known.status, 404);
    assert.equal(known.problem?.code, 'ingest.unknown_hub');
  });

  test('malformed events get a clear 4xx naming the problem, and nothing is stored', async () => {
    const auth = token(drone);
    const cases: Array<[string, Partial<Parameters<typeof publish>[1]>, number, string, RegExp?]> = [
      ['broken JSON', { body: '{"lat": 1,' }, 400, 'ingest.invalid_event', /not valid JSON/],
      ['wrong content type', { body: JSON.stringify(droneReading()), contentType: 'text/plain' }, 415, 'request.unsupported_media_type'],
      ['JSON in another charset', { body: JSON.stringify(droneReading()), contentType: 'application/json; charset=latin1' }, 415, 'request.unsupported_media_type'],
      ['compressed body', { body: JSON.stringify(droneReading()), headers: { 'content-encoding': 'gzip' } }, 415, 'request.unsupported_media_type'],
      ['invalid UTF-8', { body: Buffer.concat([Buffer.from('{"lat": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) }, 400, 'ingest.invalid_event', /UTF-8/],
      ['an empty body', { body: '' }, 400, 'ingest.invalid_event', /empty/],
      ['latitude out of range', { body: JSON.stringify(droneReading({ lat: 91 })) }, 400, 'ingest.invalid_event', /\/lat/],
      ['a missing field', { body: JSON.stringify({ ...droneReading(), battery: undefined }) }, 400, 'ingest.invalid_event', /battery/],
      ['an unknown flight state', { body: JSON.stringify(droneReading({ flightState: 'barrel-roll' })) }, 400, 'ingest.invalid_event', /flightState/],
      ['an unexpected field', { body: JSON.stringify(droneReading({ rogue: 1 })) }, 400, 'ingest.invalid_event', /rogue/],
      ['an event over maxEventBytes', { body: JSON.stringify({ ...droneReading(), pad: 'x'.repeat(MAX_EVENT_BYTES) }) }, 400, 'ingest.invalid_event', /limit/],
      ['a request over maxRequestBytes', { body: 'x'.repeat(MAX_REQUEST_BYTES + 1) }, 413, 'request.too_large'],
      ['a reserved property', { body: JSON.stringify(droneReading()), headers: { [SCHEMA_INVALID_PROPERTY]: 'false' } }, 400, 'ingest.invalid_event', /reserved/],
      ['malformed BrokerProperties', { body: JSON.stringify(droneReading()), headers: { brokerproperties: '{MessageId:' } }, 400, 'ingest.invalid_event', /BrokerProperties/],
      ['a non-string MessageId', { body: JSON.stringify(droneReading()), headers: { brokerproperties: '{"MessageId": 7}' } }, 400, 'ingest.invalid_event', /MessageId/],
      ['a batch that is not an array', { body: '{"Body": "{}"}', contentType: BATCH_TYPE }, 400, 'ingest.invalid_event', /array/],
      ['an empty batch', { body: '[]', contentType: BATCH_TYPE }, 400, 'ingest.invalid_event', /empty/],
      ['a batch with an object Body', { body: JSON.stringify([{ Body: droneReading() }]), contentType: BATCH_TYPE }, 400, 'ingest.invalid_event', /Body must be a string/],
      ['a batch entry with an unknown field', { body: JSON.stringify([{ Body: JSON.stringify(droneReading()), body: 'x' }]), contentType: BATCH_TYPE }, 400, 'ingest.invalid_event', /unknown field/],
      ['a batch over maxBatchEvents', { body: JSON.stringify(Array.from({ length: 51 }, () => ({ Body: '{}' }))), contentType: BATCH_TYPE }, 400, 'ingest.invalid_event', /limit is 50/],
      ['a batch whose third event breaks the schema', { body: JSON.stringify([droneReading(), droneReading(), droneReading({ battery: 140 }), droneReading()].map((r) => ({ Body: JSON.stringify(r) }))), contentType: BATCH_TYPE }, 400, 'ingest.invalid_event', /event 2: .*battery/],
      ['a batch with a non-scalar user property', { body: JSON.stringify([{ Body: JSON.stringify(droneReading()), UserProperties: { nested: { a: 1 } } }]), contentType: BATCH_TYPE }, 400, 'ingest.invalid_event', /UserProperties/],
    ];
    await storesNothing(async () => {
      for (const [name, overrides, status, code, detail] of cases) {
        const sent = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: auth, contentType: JSON_TYPE, body: '', ...overrides });
        assert.equal(sent.status, status, `${name}: ${sent.text}`);
        assert.equal(sent.problem?.code, code, name);
        if (detail !== undefined) assert.match(sent.problem.detail ?? '', detail, name);
      }
    });
  });

  test('a hub set to flag stores a schema-breaking event marked rampart-schema-invalid', async () => {
    const sent = await publish(rampart.running, { hub: TRUCKS, deviceId: truck.id, token: token(truck, TRUCKS), body: JSON.stringify(truckReading({ speed: -3 })), contentType: JSON_TYPE });
    assert.equal(sent.status, 201, sent.text);
    const good = await publish(rampart.running, { hub: TRUCKS, deviceId: truck.id, token: token(truck, TRUCKS), body: JSON.stringify(truckReading()), contentType: JSON_TYPE });
    assert.equal(good.status, 201, good.text);
    const stored = await hubEvents(rampart.running, TRUCKS);
    assert.equal(stored.at(-2)?.properties[SCHEMA_INVALID_PROPERTY], 'true');
    assert.match(stored.at(-2)?.properties['rampart-schema-problem'] ?? '', /\/speed/);
    assert.equal(stored.at(-1)?.properties[SCHEMA_INVALID_PROPERTY], undefined);
  });

  test('a hub allowing non-JSON stores bytes as sent, base64 batch bodies decoded', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    const single = await publish(rampart.running, { hub: BINARY, deviceId: drone.id, token: token(drone, BINARY), body: bytes, contentType: 'application/x-protobuf' });
    assert.equal(single.status, 201, single.text);
    const batch = await publish(rampart.running, { hub: BINARY, deviceId: drone.id, token: token(drone, BINARY), body: JSON.stringify([{ Body: bytes.toString('base64'), IsBodyBase64: true }, { Body: '{"ok":true}' }]), contentType: BATCH_TYPE });
    assert.equal(batch.status, 201, batch.text);
    const stored = await hubEvents(rampart.running, BINARY);
    assert.deepEqual(stored.map((e) => [e.contentType, e.body.toString('hex')]), [
      ['application/x-protobuf', bytes.toString('hex')],
      ['application/octet-stream', bytes.toString('hex')],
      ['application/json', Buffer.from('{"ok":true}').toString('hex')],
    ]);
  });

  test('fuzzed requests are refused with a 4xx or stored exactly as acknowledged — never a 5xx', async () => {
    const auth = token(drone);
    const before = await eventCounts(rampart.running);
    let acknowledged = 0;
    const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null));
    const reading = fc.record({
      lat: fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }), scalar),
      lon: fc.double({ min: -200, max: 200, noNaN: true }),
      altitude: fc.double({ min: -1000, max: 20_000, noNaN: true }),
      heading: fc.double({ min: -10, max: 400, noNaN: true }),
      groundSpeed: fc.double({ min: -1, max: 200, noNaN: true }),
      battery: fc.integer({ min: -5, max: 105 }),
      flightState: fc.constantFrom('cruise', 'hover', 'landing', 'loop'),
      timestamp: fc.constantFrom('2026-03-01T10:00:00Z', 'yesterday', '2026-03-01T10:00:00.123+02:00'),
    }, { requiredKeys: [] });
    const valid = fc
      .record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), battery: fc.integer({ min: 0, max: 100 }), heading: fc.double({ min: 0, max: 359.9, noNaN: true }) })
      .map((r) => JSON.stringify(droneReading(r)));
    const body = fc.oneof(
      valid,
      reading.map((r) => JSON.stringify(r)),
      fc.json({ maxDepth: 3 }),
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fc.record({ Body: fc.oneof(valid, reading.map((r) => JSON.stringify(r)), fc.json(), scalar), UserProperties: fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 3 }), BrokerProperties: fc.record({ MessageId: fc.oneof(fc.string({ maxLength: 140 }), fc.integer()), PartitionKey: fc.constantFrom(drone.id, other.id) }, { requiredKeys: [] }) }, { requiredKeys: ['Body'] }), { maxLength: 6 }).map((a) => JSON.stringify(a)),
    );
    const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    const headers = fc.dictionary(fc.constantFrom('brokerproperties', 'x-trace', 'mission', 'rampart-x', 'content-encoding', 'accept'), headerValue, { maxKeys: 3 });
    const contentType = fc.constantFrom(undefined, JSON_TYPE, 'application/json; charset=utf-8', 'application/json; charset=utf-16', BATCH_TYPE, 'text/plain', 'application/octet-stream', 'application/*', ';;;', 'application/atom+xml;type=entry');
    await fc.assert(
      fc.asyncProperty(body, headers, contentType, async (payload, extra, type) => {
        const sent = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: auth, body: payload, contentType: type, headers: extra });
        assert.ok(sent.status === 201 || (sent.status >= 400 && sent.status < 500), `status ${sent.status}: ${sent.text}`);
        if (sent.status >= 400) assert.match(sent.headers.get('content-type') ?? '', /^application\/problem\+json/);
        if (sent.status === 201) acknowledged += type === BATCH_TYPE ? (JSON.parse(Buffer.from(payload).toString()) as unknown[]).length : 1;
      }),
      { numRuns: 300 },
    );
    assert.ok(acknowledged > 0, 'some fuzzed requests were valid and accepted');
    const afterwards = await eventCounts(rampart.running);
    // Retries of a stored MessageId are acknowledged but not stored again; fast-check rarely repeats one.
    assert.ok(afterwards[DRONES]! - before[DRONES]! <= acknowledged, 'nothing beyond what was acknowledged');
    assert.deepEqual({ ...afterwards, [DRONES]: 0, 'security-events': 0 }, { ...before, [DRONES]: 0, 'security-events': 0 });
  });

  test('each device\'s events keep their order while several devices publish at once', async () => {
    const fleet = await Promise.all([0, 1, 2, 3, 4, 5].map((n) => createTestDevice(registry, { id: `swarm-${n}` })));
    const perDevice = 20;
    await Promise.all(
      fleet.map(async (device) => {
        const auth = token(device);
        for (let n = 0; n < perDevice; n += 1) {
          const sent = await publish(rampart.running, { hub: DRONES, deviceId: device.id, token: auth, body: JSON.stringify(droneReading({ altitude: n })), contentType: JSON_TYPE });
          assert.equal(sent.status, 201, sent.text);
        }
      }),
    );
    const stored = await hubEvents(rampart.running, DRONES);
    for (const device of fleet) {
      const mine = stored.filter((e) => e.publisher === device.id);
      assert.deepEqual(mine.map((e) => (JSON.parse(e.body.toString()) as { altitude: number }).altitude), Array.from({ length: perDevice }, (_, n) => n), device.id);
      assert.ok(mine.every((e) => e.partition === partitionFor(device.id, 4)));
    }
  });

  test('publishing records the device as seen', async () => {
    const seen = await createTestDevice(registry, { id: 'seen-1' });
    assert.equal((await registry.get(seen.id)).lastSeenAt, null);
    assert.equal((await publish(rampart.running, { hub: DRONES, deviceId: seen.id, token: token(seen), body: JSON.stringify(droneReading()), contentType: JSON_TYPE })).status, 201);
    // The last-seen time is written after the answer, off the request's path: read until it lands.
    const lastSeenAt = await until(async () => (await registry.get(seen.id)).lastSeenAt ?? undefined, 2_000);
    assert.equal(lastSeenAt, rampart.clock.now().toISOString());
  });

  test('disabling a device (elsewhere) makes its next request fail within a second', async () => {
    const doomed = await createTestDevice(registry, { id: 'doomed-1' });
    const auth = token(doomed);
    const send = () => publish(rampart.running, { hub: DRONES, deviceId: doomed.id, token: auth, body: JSON.stringify(droneReading()), contentType: JSON_TYPE });
    assert.equal((await send()).status, 201);
    // The server's authenticator reports the revocation when its change watch sees the disable; the next request is refused.
    let stop = (): void => undefined;
    const revoked = new Promise<void>((resolve) => {
      stop = rampart.running.devices.onRevoked((id) => {
        if (id === doomed.id) resolve();
      });
    });
    try {
      await registry.setStatus(doomed.id, 'disabled', { actor: { type: 'cli', id: 'test' } });
      const disabledAt = Date.now();
      await within(revoked, 1500, () => 'the disable was not noticed within 1.5 s');
      const status = (await send()).status;
      const elapsed = Date.now() - disabledAt;
      assert.equal(status, 401);
      assert.ok(elapsed <= 1000, `refused after ${elapsed} ms`);
    } finally {
      stop();
    }
  });

  test('every refusal is counted, logged without the token and recorded on the security-events hub', async () => {
    const forged = flipLastSignatureBit(token(drone));
    const sent = await publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: forged, body: '{}', contentType: JSON_TYPE });
    assert.equal(sent.status, 401);
    const security = await hubEvents(rampart.running, 'security-events');
    const records = security.map((e) => JSON.parse(e.body.toString()) as Record<string, unknown>);
    const last = records.at(-1);
    assert.deepEqual(Object.keys(last ?? {}).sort(), ['at', 'deviceId', 'protocol', 'reason', 'sourceIp', 'type']);
    assert.equal(last?.['type'], 'device.auth_failed');
    assert.equal(last['reason'], 'bad_signature');
    assert.equal(last['deviceId'], drone.id);
    assert.match(String(last['sourceIp']), /127\.0\.0\.1/);
    for (const reason of ['missing', 'expired', 'wrong_resource', 'unknown_device', 'lifetime_too_long']) assert.ok(records.some((r) => r['reason'] === reason), `a ${reason} failure was recorded`);
    assert.ok(records.some((r) => r['type'] === 'device.forbidden' && r['reason'] === 'publisher_policy'));
    assert.ok(!security.some((e) => e.body.toString().includes('sig=')), 'no token in security events');
    const metrics = await rampart.running.metrics.registry.getSingleMetricAsString('rampart_device_auth_failures_total');
    assert.match(metrics, /rampart_device_auth_failures_total\{reason="bad_signature"\} [1-9]/);
  });
});

describe('HTTPS ingest throttling', () => {
  let rampart: TestRampart;
  let drone: TestDevice;

  before(async () => {
    rampart = await startTestRampart({ ingest: { failuresPerSource: 3, throttleSeconds: 30 } });
    drone = await createTestDevice(outsideRegistry(rampart.running, rampart.clock), { id: 'd1' });
  });
  after(() => rampart.stop());

  test('an address that keeps failing gets 429 with Retry-After — even with a good token — until the time is up', async () => {
    const good = publisherToken(drone, { hub: DRONES, key: drone.primaryKey, clock: rampart.clock });
    const bad = flipLastSignatureBit(good);
    const send = (auth: string) => publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: auth, body: JSON.stringify(droneReading()), contentType: JSON_TYPE });
    for (let n = 0; n < 3; n += 1) assert.equal((await send(bad)).status, 401);
    const throttled = await send(good);
    assert.equal(throttled.status, 429);
    assert.equal(throttled.problem?.code, 'ingest.throttled');
    assert.equal(throttled.headers.get('retry-after'), '30');
    const securityBefore = (await eventCounts(rampart.running))['security-events'];
    assert.equal((await send(bad)).status, 429, 'throttled requests do no authentication work');
    assert.equal((await eventCounts(rampart.running))['security-events'], securityBefore, 'and record nothing');
    rampart.clock.advance(31_000);
    assert.equal((await send(good)).status, 201);
  });

  test('tokens without skn count against the address like every malformed credential', async () => {
    // A fresh window, whatever an earlier test left.
    rampart.clock.advance(31_000);
    const send = (auth: string) => publish(rampart.running, { hub: DRONES, deviceId: drone.id, token: auth, body: JSON.stringify(droneReading()), contentType: JSON_TYPE });
    for (let n = 0; n < 3; n += 1) assert.equal((await send(tokenWithoutKeyName(drone, DRONES, rampart.clock))).status, 401);
    const throttled = await send(publisherToken(drone, { hub: DRONES, key: drone.primaryKey, clock: rampart.clock }));
    assert.equal(throttled.status, 429);
    assert.equal(throttled.problem?.code, 'ingest.throttled');
    rampart.clock.advance(31_000);
  });
});
