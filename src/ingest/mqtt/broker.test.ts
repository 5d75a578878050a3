import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, describe, test } from 'node:test';
import type { AedesPublishPacket, Client } from 'aedes';
import type { AuthenticatedDevice, DeviceAuthenticator } from '../../devices/auth.ts';
import { ManualClock } from '../../kernel/clock.ts';
import { createMemoryLogger } from '../../kernel/logger.ts';
import { createMetrics } from '../../kernel/metrics.ts';
import type { MqttConnection } from './bridge.ts';
import { createBrokerHooks, type BrokerDeps } from './broker.ts';
import { SessionTable } from './sessions.ts';
import { deviceboundPrefix, eventsPrefix } from './topics.ts';

// The forwarding guard on its own. On the wire it sits behind subscribe
// authorization (test/e2e/ingest-mqtt.test.ts), which refuses every filter a
// leak would match; here each decision is asked of it directly, as the broker
// would for a subscription that got past that layer.

const clock = new ManualClock(new Date('2026-06-01T08:00:00Z'));
const { logger } = createMemoryLogger('warn');
const metrics = createMetrics({ defaultMetrics: false });
const authenticator = { stillValid: () => true } as unknown as DeviceAuthenticator;
const sessions = new SessionTable({ authenticator, metrics, logger, clock });
const hooks = createBrokerHooks({ sessions, metrics, logger } as unknown as BrokerDeps);
after(() => sessions.clear());

function connectedClient(id: string): Client {
  const client = { id, close: () => undefined } as unknown as Client;
  const connection = Object.assign(new EventEmitter(), { sendDisconnect: () => undefined }) as unknown as MqttConnection;
  const device: AuthenticatedDevice = { id, kind: 'drone', depot: 'north', credential: 'primary', expiresAt: Math.floor(clock.now().getTime() / 1000) + 3600, revision: 1 };
  sessions.open(client, connection, device);
  return client;
}

const packetOn = (topic: string) => ({ cmd: 'publish', topic, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, messageId: 1 }) as unknown as AedesPublishPacket;

describe('MQTT forwarding guard', () => {
  const watcher = connectedClient('drone-002');

  test('never forwards another device\'s telemetry, whatever the client subscribed to', () => {
    assert.equal(hooks.authorizeForward(watcher, packetOn(`${eventsPrefix('drone-001')}$.mid=m1`)), null);
    assert.equal(hooks.authorizeForward(watcher, packetOn(eventsPrefix('drone-002'))), null, 'not even its own telemetry');
  });

  test('never forwards another device\'s devicebound messages', () => {
    assert.equal(hooks.authorizeForward(watcher, packetOn(`${deviceboundPrefix('drone-001')}kind=return`)), null);
    assert.equal(hooks.authorizeForward(watcher, packetOn(`${deviceboundPrefix('drone-0020')}kind=return`)), null, 'an id the client\'s is a prefix of');
  });

  test('forwards a device\'s own devicebound messages, and nothing to a client without a session', () => {
    const packet = packetOn(`${deviceboundPrefix('drone-002')}kind=return`);
    assert.equal(hooks.authorizeForward(watcher, packet), packet);
    const stranger = { id: 'drone-003' } as unknown as Client;
    assert.equal(hooks.authorizeForward(stranger, packetOn(deviceboundPrefix('drone-003'))), null);
  });
});
