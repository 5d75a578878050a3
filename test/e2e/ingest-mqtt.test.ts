import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IDisconnectPacket } from 'mqtt';
import { generate, parser, type Packet } from 'mqtt-packet';
import { DeviceRegistry } from '../../src/devices/registry.ts';
import type { EventLog } from '../../src/stream/event-log.ts';
import { change, closedWithin, droneReading, HUB_HOST, refusedWith, startMqttFixture, truckReading, type MqttFixture, type TestDevice } from '../support/mqtt.ts';

// The MQTT device listener end to end: MQTT.js clients speaking IoT Hub's
// conventions against a real database, keyring, authenticator and embedded
// event log. Every refusal is checked for its code and for nothing stored.

const VERSIONS = [4, 5] as const;
const events = (id: string) => `devices/${id}/messages/events/`;
const devicebound = (id: string) => `devices/${id}/messages/devicebound/`;

/** Fires whenever something a condition reads may have changed: an event appended to the log, bytes arriving on a raw session. */
const progress = new EventEmitter();
progress.setMaxListeners(0);

/** Resolves once `condition` holds, looking again at each change it could depend on; fails after `withinMs`. */
async function until(condition: () => Promise<boolean> | boolean, withinMs = 3_000): Promise<void> {
  const deadline = AbortSignal.timeout(withinMs);
  for (;;) {
    // Listen before looking, so a change between the look and the wait is not missed.
    const looked = new AbortController();
    const next = once(progress, 'change', { signal: AbortSignal.any([looked.signal, deadline]) });
    next.catch(() => undefined);
    if (await condition()) {
      looked.abort();
      return;
    }
    try {
      await next;
    } catch {
      throw new Error(`condition not met within ${withinMs} ms`);
    }
  }
}

describe('MQTT ingest', () => {
  let f: MqttFixture;
  /** What the wrapped event log saw, in order: each appended event's resolution. */
  const journal: string[] = [];
  let appendDelayMs = 0;

  const wrap = (log: EventLog): EventLog => ({
    hubs: log.hubs,
    async append(hub, input) {
      const positions = await log.append(hub, input);
      if (appendDelayMs > 0) await sleep(appendDelayMs);
      for (const event of input) journal.push(`durable ${event.messageId ?? '-'}`);
      progress.emit('change');
      return positions;
    },
    read: (...args) => log.read(...args),
    waitFor: (...args) => log.waitFor(...args),
    partitionInfo: (...args) => log.partitionInfo(...args),
    getCheckpoint: (...args) => log.getCheckpoint(...args),
    putCheckpoint: (...args) => log.putCheckpoint(...args),
    enforceRetention: () => log.enforceRetention(),
    createHub: (spec) => log.createHub(spec),
    updateHub: (name, changes) => log.updateHub(name, changes),
    close: () => log.close(),
  });
  const telemetryCount = async () => (await f.events('drone-telemetry')).length + (await f.events('truck-telemetry')).length;

  before(async () => {
    f = await startMqttFixture({ config: { ingest: { failuresPerSource: 10_000, maxEventBytes: 4096 }, mqtt: { connectTimeoutMs: 1_000 } }, wrapEventLog: wrap });
  });
  after(async () => {
    await f.close();
  });

  for (const version of VERSIONS) {
    describe(`MQTT ${version === 4 ? '3.1.1' : '5'}`, () => {
      test('a QoS 1 publish is acknowledged and stored with its properties and message id', async () => {
        const device = await f.addDevice('drone');
        const client = await f.connect(device, { protocolVersion: version });
        await client.publishAsync(`${events(device.id)}$.mid=msg-1&$.ct=application%2Fjson&route=north%2F7`, droneReading(), { qos: 1 });
        const stored = (await f.events('drone-telemetry')).filter((e) => e.publisher === device.id);
        assert.equal(stored.length, 1);
        assert.equal(stored[0]!.messageId, 'msg-1');
        assert.equal(stored[0]!.contentType, 'application/json');
        assert.deepEqual(stored[0]!.properties, { route: 'north/7' });
        assert.deepEqual(JSON.parse(stored[0]!.body.toString()), JSON.parse(droneReading().toString()));
        await client.endAsync();
      });

      test('an IoT Hub device token, which names no key (no skn), opens a session', async () => {
        const device = await f.addDevice('drone');
        const password = f.token(device);
        assert.doesNotMatch(password, /skn=/);
        const client = await f.connect(device, { protocolVersion: version, password });
        await client.publishAsync(events(device.id), droneReading(), { qos: 1 });
        assert.equal((await f.events('drone-telemetry')).filter((e) => e.publisher === device.id).length, 1);
        await client.endAsync();
      });

      test('a QoS 0 publish is stored', async () => {
        const device = await f.addDevice('drone');
        const client = await f.connect(device, { protocolVersion: version });
        await client.publishAsync(events(device.id), droneReading(), { qos: 0 });
        await until(async () => (await f.events('drone-telemetry')).some((e) => e.publisher === device.id));
        await client.endAsync();
      });

      test('a truck\'s telemetry goes to the truck hub', async () => {
        const device = await f.addDevice('truck');
        const client = await f.connect(device, { protocolVersion: version });
        await client.publishAsync(events(device.id), truckReading(), { qos: 1 });
        assert.equal((await f.events('truck-telemetry')).filter((e) => e.publisher === device.id).length, 1);
        assert.equal((await f.events('drone-telemetry')).filter((e) => e.publisher === device.id).length, 0);
        await client.endAsync();
      });

      test('a retried publish with the same message id is stored once', async () => {
        const device = await f.addDevice('drone');
        const client = await f.connect(device, { protocolVersion: version });
        for (let i = 0; i < 2; i += 1) await client.publishAsync(`${events(device.id)}$.mid=same`, droneReading(), { qos: 1 });
        assert.equal((await f.events('drone-telemetry')).filter((e) => e.publisher === device.id).length, 1);
        await client.endAsync();
      });

      test('refuses bad credentials with the right CONNACK code and stores nothing', async () => {
        const device = await f.addDevice('drone');
        const other = await f.addDevice('drone');
        const before = await telemetryCount();
        const notAuthorized = version === 4 ? 5 : 0x87;
        const badCredentials = version === 4 ? 4 : 0x86;
        const cases: [string, Parameters<MqttFixture['connect']>[1], number][] = [
          ['wrong key', { password: f.token({ ...device, primaryKey: other.primaryKey }) }, notAuthorized],
          ['expired token', { password: f.token(device, { expiresIn: -60 }) }, notAuthorized],
          ['another device\'s token', { password: f.token(other) }, notAuthorized],
          ['token for another host', { password: f.token(device, { host: 'elsewhere.example.net' }) }, notAuthorized],
          ['client id not the username\'s device', { username: `${HUB_HOST}/${other.id}/?api-version=2021-04-12` }, notAuthorized],
          ['malformed username', { username: device.id }, badCredentials],
          ['unknown host in the username', { username: `elsewhere.example.net/${device.id}/?api-version=2021-04-12` }, badCredentials],
          ['password that is not a SAS token', { password: 'hunter2' }, badCredentials],
        ];
        for (const [name, options, code] of cases) {
          assert.equal(await refusedWith(f.connect(device, { protocolVersion: version, ...options })), code, name);
        }
        assert.equal(await telemetryCount(), before);
      });

      test('a publish to another device\'s topic ends the session and stores nothing', async () => {
        const device = await f.addDevice('drone');
        const other = await f.addDevice('drone');
        const client = await f.connect(device, { protocolVersion: version });
        const disconnect = new Promise<IDisconnectPacket>((resolve) => client.once('disconnect', resolve));
        const before = await telemetryCount();
        client.publish(events(other.id), droneReading(), { qos: 1 }, () => undefined);
        await closedWithin(client, 2_000);
        if (version === 5) assert.equal((await disconnect).reasonCode, 0x87);
        assert.equal(await telemetryCount(), before);
      });

      test('QoS 2, retained and oversized publishes are refused and store nothing', async () => {
        const device = await f.addDevice('drone');
        const before = await telemetryCount();
        const attempts: [string, Buffer, { qos: 0 | 1 | 2; retain: boolean }][] = [
          ['QoS 2', droneReading(), { qos: 2, retain: false }],
          ['retained', droneReading(), { qos: 1, retain: true }],
          ['oversized', Buffer.alloc(f.config.ingest.maxEventBytes + 1, 0x20), { qos: 1, retain: false }],
          ['far beyond any limit', Buffer.alloc(f.config.ingest.maxEventBytes + 256 * 1024, 0x20), { qos: 1, retain: false }],
        ];
        for (const [name, payload, options] of attempts) {
          const client = await f.connect(device, { protocolVersion: version });
          let acknowledged = false;
          client.publish(events(device.id), payload, options, (error) => {
            if (error === undefined) acknowledged = true;
          });
          await closedWithin(client, 2_000).catch((error: unknown) => {
            throw new Error(`${name}: ${String(error)}`);
          });
          assert.equal(acknowledged, false, name);
        }
        assert.equal(await telemetryCount(), before);
      });

      test('invalid telemetry is refused and stores nothing', async () => {
        const device = await f.addDevice('drone');
        const client = await f.connect(device, { protocolVersion: version });
        const before = await telemetryCount();
        client.publish(events(device.id), droneReading({ battery: 140 }), { qos: 1 });
        await closedWithin(client, 2_000);
        assert.equal(await telemetryCount(), before);
      });

      test('a device subscribes only to its own devicebound topics and receives what is sent to it', async () => {
        const device = await f.addDevice('drone');
        const other = await f.addDevice('drone');
        const client = await f.connect(device, { protocolVersion: version });
        const refused = version === 4 ? 128 : 0x87;
        for (const filter of [`${devicebound(other.id)}#`, '#', `devices/${device.id}/messages/events/#`, '$SYS/#', `devices/+/messages/devicebound/#`]) {
          const error = await client.subscribeAsync(filter, { qos: 1 }).then(
            () => undefined,
            (refusal: unknown) => refusal as { packet?: { granted?: unknown[] } },
          );
          assert.deepEqual(error?.packet?.granted, [refused], filter);
        }
        assert.equal(await f.listener.sendToDevice(device.id, Buffer.from('early')), false, 'not subscribed yet');
        const [grant] = await client.subscribeAsync(`${devicebound(device.id)}#`, { qos: 1 });
        assert.equal(grant?.qos, 1);
        const received = new Promise<{ topic: string; payload: string }>((resolve) => client.once('message', (topic, payload) => resolve({ topic, payload: payload.toString() })));
        assert.equal(await f.listener.sendToDevice(device.id, Buffer.from('{"command":"return"}'), { 'message-id': 'c1', kind: 'return home' }), true);
        assert.deepEqual(await received, { topic: `${devicebound(device.id)}message-id=c1&kind=return%20home`, payload: '{"command":"return"}' });
        assert.equal(await f.listener.sendToDevice(other.id, Buffer.from('x')), false, 'other is not connected');
        await client.endAsync();
      });

      test('a device\'s telemetry never reaches another client, whatever it subscribes to', async () => {
        const device = await f.addDevice('drone');
        const other = await f.addDevice('drone');
        const watcher = await f.connect(other, { protocolVersion: version });
        // Where a leak of the device's telemetry would arrive: its events topic, any device's, or everything.
        const refused = version === 4 ? 128 : 0x87;
        for (const filter of [events(device.id), `${events(device.id)}#`, 'devices/+/messages/events/#', '#']) {
          const error = await watcher.subscribeAsync(filter, { qos: 1 }).then(
            () => undefined,
            (refusal: unknown) => refusal as { packet?: { granted?: unknown[] } },
          );
          assert.deepEqual(error?.packet?.granted, [refused], `subscription to ${filter} refused`);
        }
        await watcher.subscribeAsync(`${devicebound(other.id)}#`, { qos: 1 });
        const received: string[] = [];
        watcher.on('message', (topic) => received.push(topic));
        // Through the broker (a publish in the CONNECT's write) and through Rampart's own path (once the session is ready).
        const raw = await rawSession(device, version);
        raw.socket.write(Buffer.concat([raw.connect, raw.publish(1)]));
        await until(async () => (await raw.stored()).length === 1);
        raw.socket.write(raw.publish(2));
        await until(async () => (await raw.stored()).length === 2);
        // Sent after both publishes were stored, so anything they leaked would arrive before it.
        const barrier = new Promise<void>((resolve) => watcher.on('message', (topic) => topic === devicebound(other.id) && resolve()));
        assert.equal(await f.listener.sendToDevice(other.id, Buffer.from('barrier')), true);
        await barrier;
        assert.deepEqual(received, [devicebound(other.id)], 'only what was sent to the watcher');
        raw.socket.destroy();
        await watcher.endAsync();
      });

      test('a second connection with the same id replaces the first', async () => {
        const device = await f.addDevice('drone');
        const first = await f.connect(device, { protocolVersion: version });
        const takenOver = new Promise<IDisconnectPacket>((resolve) => first.once('disconnect', resolve));
        const second = await f.connect(device, { protocolVersion: version });
        await closedWithin(first, 2_000);
        if (version === 5) assert.equal((await takenOver).reasonCode, 0x8e, 'session taken over');
        assert.ok(second.connected);
        await second.publishAsync(events(device.id), droneReading(), { qos: 1 });
        await second.endAsync();
      });

      test('disabling the device in another registry disconnects it within a second', async () => {
        const device = await f.addDevice('drone');
        const client = await f.connect(device, { protocolVersion: version });
        const disconnect = new Promise<IDisconnectPacket>((resolve) => client.once('disconnect', resolve));
        // Another process: its own registry, not the one the authenticator listens to.
        const elsewhere = new DeviceRegistry({ db: f.opened.database.db, keyring: f.keyring, clock: f.clock });
        await elsewhere.setStatus(device.id, 'disabled', change);
        const took = await closedWithin(client, 1_000);
        assert.ok(took <= 1_000, `took ${took} ms`);
        if (version === 5) assert.equal((await disconnect).reasonCode, 0x87, 'not authorized');
        assert.equal(await refusedWith(f.connect(device, { protocolVersion: version })), version === 4 ? 5 : 0x87);
      });

      test('an expired token ends the session at the next publish, storing nothing', async () => {
        const device = await f.addDevice('drone');
        const client = await f.connect(device, { protocolVersion: version, password: f.token(device, { expiresIn: 120 }) });
        const before = await telemetryCount();
        f.clock.advance(121_000);
        try {
          client.publish(events(device.id), droneReading(), { qos: 1 });
          await closedWithin(client, 2_000);
        } finally {
          f.clock.advance(-121_000);
        }
        assert.equal(await telemetryCount(), before);
      });
    });
  }

  test('PUBACK is sent only after the append is durable', async () => {
    const device = await f.addDevice('drone');
    const client = await f.connect(device);
    journal.length = 0;
    appendDelayMs = 200;
    try {
      await Promise.all(
        ['a', 'b'].map((mid) => client.publishAsync(`${events(device.id)}$.mid=${mid}`, droneReading(), { qos: 1 }).then(() => journal.push(`puback ${mid}`))),
      );
    } finally {
      appendDelayMs = 0;
    }
    assert.deepEqual(journal.slice(0, 2).sort(), ['durable a', 'durable b']);
    assert.ok(journal.indexOf('durable a') < journal.indexOf('puback a'), journal.join(', '));
    assert.ok(journal.indexOf('durable b') < journal.indexOf('puback b'), journal.join(', '));
    await client.endAsync();
  });

  test('a device that only publishes keeps its session past its keep-alive interval', async () => {
    // The client library sends no PINGREQ while it is sending publishes, so the
    // listener must count publishes as activity for the keep-alive (1.5 × 1 s here).
    const device = await f.addDevice('drone');
    const client = await f.connect(device, { keepalive: 1 });
    const sent: string[] = [];
    client.on('packetsend', (packet) => sent.push(packet.cmd));
    const session = { closed: false };
    const gone = new Promise<void>((resolve) => client.once('close', () => resolve()));
    void gone.then(() => (session.closed = true));
    for (let i = 0; i < 30 && !session.closed; i++) {
      await Promise.race([client.publishAsync(events(device.id), droneReading(), { qos: i % 2 === 0 ? 1 : 0 }), gone]);
      // Not a wait for something to happen: the device's pace. Time passing while it publishes is what the keep-alive is about.
      await sleep(100);
    }
    assert.equal(session.closed, false, 'the session outlived 3 s of publishing with a 1 s keep-alive');
    assert.ok(!sent.includes('pingreq'), 'kept alive by its publishes alone');
    await until(async () => (await f.events('drone-telemetry')).filter((e) => e.publisher === device.id).length === 30);
    await client.endAsync();
  });

  test('a device that sends nothing after CONNECT is disconnected once 1.5 × its keep-alive has passed', async () => {
    const device = await f.addDevice('drone');
    const raw = await rawSession(device, 4, 1);
    raw.socket.write(raw.connect);
    await until(() => Buffer.concat(raw.received).length >= 4);
    const accepted = Date.now();
    await raw.closed;
    const took = Date.now() - accepted;
    // Not before 1.5 × 1 s (MQTT 3.1.1 §3.1.2.10); the upper bound only tells the keep-alive
    // apart from the listener's much longer idle timeout, with room for a loaded machine.
    assert.ok(took >= 1_400 && took < 15_000, `closed ${took} ms after CONNACK`);
  });

  /** The packets in bytes a client received. */
  function packetsOf(bytes: Buffer, protocolVersion: 4 | 5): Packet[] {
    const packets: Packet[] = [];
    const reader = parser({ protocolVersion });
    reader.on('packet', (packet) => packets.push(packet));
    reader.parse(bytes);
    return packets;
  }

  /** A device's MQTT connection (3.1.1 unless asked) on a bare socket: what it writes goes out as one write. */
  async function rawSession(device: TestDevice, protocolVersion: 4 | 5 = 4, keepalive = 30) {
    const socket = connectTcp(Number(new URL(f.listener.url).port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      progress.emit('change');
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const connect = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion, clientId: device.id, clean: true, keepalive, username: `${HUB_HOST}/${device.id}/?api-version=2021-04-12`, password: Buffer.from(f.token(device)) }, { protocolVersion });
    const publish = (messageId: number, topic = events(device.id)) => generate({ cmd: 'publish', topic: `${topic}$.mid=p${messageId}`, payload: droneReading(), qos: 1, messageId, retain: false, dup: false }, { protocolVersion });
    /** Packet identifiers of the PUBACKs received so far, after the CONNACK. */
    const acked = () => {
      const bytes = Buffer.concat(received);
      const ids: number[] = [];
      for (let at = 4; at + 4 <= bytes.length; at += 4) ids.push(bytes[at] === 0x40 && bytes[at + 1] === 0x02 ? bytes.readUInt16BE(at + 2) : -1);
      return ids;
    };
    const stored = async () => (await f.events('drone-telemetry')).filter((e) => e.publisher === device.id).map((e) => e.messageId);
    return { socket, received, closed, connect, publish, acked, stored };
  }

  test('a publish sent in the same write as CONNECT is stored and acknowledged in order with the ones after it', async () => {
    const device = await f.addDevice('drone');
    const raw = await rawSession(device);
    raw.socket.write(Buffer.concat([raw.connect, raw.publish(1), raw.publish(2)]));
    await until(() => raw.acked().length >= 2);
    raw.socket.write(Buffer.concat([raw.publish(3), raw.publish(4)]));
    await until(() => raw.acked().length >= 4);
    assert.deepEqual([...Buffer.concat(raw.received).subarray(0, 4)], [0x20, 0x02, 0x00, 0x00], 'CONNACK accepted');
    assert.deepEqual(raw.acked(), [1, 2, 3, 4], 'PUBACKs in the order of the publishes');
    assert.deepEqual(await raw.stored(), ['p1', 'p2', 'p3', 'p4']);
    raw.socket.destroy();
  });

  for (const version of [4, 5] as const) {
    test(`MQTT ${version === 4 ? '3.1.1' : '5'}: of publishes that arrive together, those before a refused one are stored, none after it, and none is acknowledged`, async () => {
      const device = await f.addDevice('drone');
      const other = await f.addDevice('drone');
      const raw = await rawSession(device, version);
      raw.socket.write(raw.connect);
      await until(() => Buffer.concat(raw.received).length >= 4);
      const window = Array.from({ length: 20 }, (_, i) => raw.publish(10 + i, i === 12 ? events(other.id) : events(device.id)));
      raw.socket.write(Buffer.concat(window));
      await raw.closed;
      if (version === 4) assert.deepEqual(raw.acked(), [], 'no PUBACK once the session is refused');
      else assert.deepEqual(packetsOf(Buffer.concat(raw.received), 5).map((packet) => packet.cmd), ['connack', 'disconnect'], 'no MQTT 5 PUBACK: a CONNACK, then the DISCONNECT saying why');
      // The admitted ones are appended after the refusal has closed the connection.
      await until(async () => (await raw.stored()).length >= 12);
      assert.deepEqual(await raw.stored(), Array.from({ length: 12 }, (_, i) => `p${10 + i}`));
      assert.deepEqual((await f.events('drone-telemetry')).filter((e) => e.publisher === other.id), []);
    });
  }

  test('a malformed PUBLISH among others closes the connection; nothing of that write is stored or acknowledged', async () => {
    const device = await f.addDevice('drone');
    const raw = await rawSession(device);
    raw.socket.write(raw.connect);
    await until(() => Buffer.concat(raw.received).length >= 4);
    // QoS 1 without a packet identifier: the topic is the whole variable header.
    const topic = Buffer.from(events(device.id));
    const malformed = Buffer.concat([Buffer.from([0x32, topic.length + 2, topic.length >> 8, topic.length & 0xff]), topic]);
    raw.socket.write(Buffer.concat([raw.publish(1), malformed, raw.publish(2)]));
    await raw.closed;
    assert.deepEqual(await raw.stored(), []);
    assert.deepEqual(raw.acked(), []);
  });

  test('MQTT 5 user properties and content type are stored as properties', async () => {
    const device = await f.addDevice('drone');
    const client = await f.connect(device, { protocolVersion: 5 });
    await client.publishAsync(`${events(device.id)}$.mid=v5`, droneReading(), { qos: 1, properties: { userProperties: { shift: 'night' }, contentType: 'application/json' } });
    const stored = (await f.events('drone-telemetry')).find((e) => e.publisher === device.id);
    assert.deepEqual(stored?.properties, { shift: 'night' });
    assert.equal(stored.contentType, 'application/json');
    await client.endAsync();
  });

  test('a connection that sends no CONNECT is closed after connectTimeoutMs', async () => {
    const { port } = new URL(f.listener.url);
    const socket = connectTcp(Number(port), '127.0.0.1');
    const started = Date.now();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const took = Date.now() - started;
    assert.ok(took >= f.config.mqtt.connectTimeoutMs - 100 && took < f.config.mqtt.connectTimeoutMs + 2_000, `closed after ${took} ms`);
  });

  test('logs refusals with reason, device and address, never the token', () => {
    const lines = f.logLines();
    const refusals = lines.filter((line) => line.includes('device authentication refused'));
    assert.ok(refusals.length > 0);
    assert.ok(refusals.every((line) => /"reason"/.test(line) && /"deviceId"/.test(line) && /"sourceIp"/.test(line)));
    assert.ok(!lines.some((line) => line.includes('SharedAccessSignature') || line.includes('sig=')), 'no token in the log');
  });
});

describe('MQTT ingest limits', () => {
  test('a source that failed too often is refused, even with valid credentials, until the throttle expires', async () => {
    const f = await startMqttFixture({ config: { ingest: { failuresPerSource: 3, throttleSeconds: 60 } } });
    try {
      const device = await f.addDevice('drone');
      for (let i = 0; i < 3; i += 1) assert.equal(await refusedWith(f.connect(device, { password: f.token(device, { expiresIn: -1 }) })), 5);
      assert.equal(await refusedWith(f.connect(device)), 3, 'MQTT 3.1.1: server unavailable');
      assert.equal(await refusedWith(f.connect(device, { protocolVersion: 5 })), 0x9f, 'MQTT 5: connection rate exceeded');
      f.clock.advance(61_000);
      const client = await f.connect(device, { password: f.token(device) });
      await client.endAsync();
      const metrics = await f.metrics.registry.getSingleMetricAsString('rampart_device_auth_failures_total');
      assert.match(metrics, /reason="expired"} 3/);
    } finally {
      await f.close();
    }
  });

  test('connections from outside the allow-list are closed before any MQTT byte', async () => {
    const f = await startMqttFixture({ config: { mqtt: { allow: ['10.0.0.0/8'] } } });
    try {
      const { port } = new URL(f.listener.url);
      const socket = connectTcp(Number(port), '127.0.0.1');
      let received = 0;
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.on('error', () => undefined);
      socket.write(Buffer.from([0x10, 0x00]));
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      assert.equal(received, 0);
      const metrics = await f.metrics.registry.getSingleMetricAsString('rampart_connections_refused_total');
      assert.match(metrics, /plane="mqtt",reason="allow-list"} [1-9]/);
    } finally {
      await f.close();
    }
  });

  test('over TLS, a device connects and publishes; a client that does not trust the certificate cannot', async () => {
    const f = await startMqttFixture({ tls: true });
    try {
      assert.match(f.listener.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
      const device = await f.addDevice('drone');
      await assert.rejects(f.connect(device));
      const client = await f.connect(device, { ca: f.certPem!, protocolVersion: 5 });
      await client.publishAsync(events(device.id), droneReading(), { qos: 1 });
      assert.equal((await f.events('drone-telemetry')).length, 1);
      await client.endAsync();
    } finally {
      await f.close();
    }
  });
});
