import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { RampartConfig } from '../../src/config/schema.ts';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { createSasToken } from '../../src/crypto/sas.ts';
import { createDeviceAuthenticator, type ClosableDeviceAuthenticator } from '../../src/devices/authenticator.ts';
import { DeviceRegistry, type DeviceChange, type DeviceKind } from '../../src/devices/registry.ts';
import { startMqttListener, type MqttListener } from '../../src/ingest/mqtt/index.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { createMetrics, type Metrics } from '../../src/kernel/metrics.ts';
import { openEmbeddedEventLog } from '../../src/stream/embedded/index.ts';
import type { EventLog, StoredEvent } from '../../src/stream/event-log.ts';
import { hubDefinitions } from '../../src/stream/hubs.ts';
import { selfSignedCertificate } from './certs.ts';
import { sqliteTarget, type OpenedDatabase } from './databases.ts';
import { masterKey } from './keys.ts';
import { tempDir } from './tmp.ts';
import { within } from './wait.ts';

// A running MQTT listener over real parts: a migrated SQLite database, a
// keyring, a device registry and authenticator, and an embedded event log in
// a temporary directory. Devices connect with MQTT.js as IoT Hub devices do.

export const HUB_HOST = 'fleet.example.net';
export const change: DeviceChange = { actor: { type: 'cli', id: 'mqtt-test', authMethod: 'local_shell' } };

export interface TestDevice {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly primaryKey: string;
}

export interface TokenOptions {
  /** Seconds from now (negative: already expired). Default 3600. */
  readonly expiresIn?: number;
  /** The device the token's `sr` names (default: the device). */
  readonly resourceDevice?: string;
  readonly host?: string;
}

export interface ConnectOptions {
  readonly protocolVersion?: 4 | 5;
  readonly clientId?: string;
  readonly username?: string;
  readonly password?: string;
  readonly clean?: boolean;
  /** Trusted CA (PEM) for an `mqtts://` listener. */
  readonly ca?: string;
  /** Seconds; the client library's default otherwise. */
  readonly keepalive?: number;
}

export interface MqttFixture {
  readonly listener: MqttListener;
  readonly registry: DeviceRegistry;
  readonly keyring: Keyring;
  readonly authenticator: ClosableDeviceAuthenticator;
  readonly eventLog: EventLog;
  readonly clock: ManualClock;
  readonly config: RampartConfig;
  readonly metrics: Metrics;
  readonly opened: OpenedDatabase;
  readonly logLines: () => string[];
  readonly certPem: string | undefined;
  addDevice(kind?: DeviceKind): Promise<TestDevice>;
  token(device: TestDevice, options?: TokenOptions): string;
  connect(device: TestDevice, options?: ConnectOptions): Promise<MqttClient>;
  /** Every event of a hub, all partitions. */
  events(hub: string): Promise<StoredEvent[]>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  readonly config?: { ingest?: Partial<RampartConfig['ingest']>; mqtt?: Partial<RampartConfig['mqtt']> };
  /** Serve `mqtts://` with a self-signed certificate for 127.0.0.1 (its PEM is `fixture.certPem`). */
  readonly tls?: boolean;
  /** Wraps the event log the listener sees (to observe or delay appends). */
  readonly wrapEventLog?: (log: EventLog) => EventLog;
}

export async function startMqttFixture(options: FixtureOptions = {}): Promise<MqttFixture> {
  const opened = await sqliteTarget.open();
  const dir = tempDir('rampart-mqtt');
  const clock = new ManualClock(new Date());
  const { logger, lines } = createMemoryLogger('debug');
  const base = opened.config;
  const certificate = options.tls === true ? await selfSignedCertificate(dir.path) : undefined;
  const config: RampartConfig = {
    ...base,
    devices: { ...base.devices, sasHosts: [HUB_HOST] },
    ingest: { ...base.ingest, ...options.config?.ingest },
    mqtt: {
      ...base.mqtt,
      port: 0,
      ...options.config?.mqtt,
      ...(certificate === undefined ? {} : { tls: { certFile: certificate.certFile, keyFile: certificate.keyFile, minVersion: 'TLSv1.2' as const } }),
    },
  };
  const keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: ENCRYPTED_COLUMNS });
  const registry = new DeviceRegistry({ db: opened.database.db, keyring, clock });
  const authenticator = createDeviceAuthenticator({ db: opened.database.db, keyring, clock, config: config.devices, logger, registry });
  const eventLog = await openEmbeddedEventLog({
    path: join(dir.path, 'events.db'),
    hubs: hubDefinitions(config),
    clock,
    synchronous: 'normal',
    maxGroupEvents: 100,
    logger,
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const listener = await startMqttListener({ config, authenticator, eventLog: options.wrapEventLog?.(eventLog) ?? eventLog, logger, metrics, clock });
  const clients = new Set<MqttClient>();
  let n = 0;
  const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);

  const fixture: MqttFixture = {
    listener,
    registry,
    keyring,
    authenticator,
    eventLog,
    clock,
    config,
    metrics,
    opened,
    logLines: lines,
    certPem: certificate?.certPem,
    async addDevice(kind = 'drone') {
      n += 1;
      const id = `${kind}-${String(n).padStart(3, '0')}`;
      const created = await registry.add({ id, kind, name: `Unit ${n}`, depot: 'north' }, change);
      return { id, kind, primaryKey: created.primaryKey };
    },
    token(device, tokenOptions = {}) {
      return createSasToken({
        resourceUri: `${tokenOptions.host ?? HUB_HOST}/devices/${tokenOptions.resourceDevice ?? device.id}`,
        key: device.primaryKey,
        expiresAt: nowSeconds() + (tokenOptions.expiresIn ?? 3600),
        keyEncoding: 'base64',
      });
    },
    async connect(device, connectOptions = {}) {
      const clientOptions: IClientOptions = {
        clientId: connectOptions.clientId ?? device.id,
        username: connectOptions.username ?? `${HUB_HOST}/${device.id}/?api-version=2021-04-12`,
        password: connectOptions.password ?? fixture.token(device),
        protocolVersion: connectOptions.protocolVersion ?? 4,
        clean: connectOptions.clean ?? true,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ...(connectOptions.ca === undefined ? {} : { ca: connectOptions.ca }),
        ...(connectOptions.keepalive === undefined ? {} : { keepalive: connectOptions.keepalive }),
      };
      const client = await connectAsync(listener.url, clientOptions);
      clients.add(client);
      client.on('error', () => undefined);
      return client;
    },
    async events(hub) {
      const definition = eventLog.hubs.get(hub);
      if (definition === undefined) throw new Error(`no hub ${hub}`);
      const out: StoredEvent[] = [];
      for (let partition = 0; partition < definition.partitions; partition += 1) out.push(...(await eventLog.read(hub, partition, { sequence: 1 }, 1000)));
      return out;
    },
    async close() {
      await Promise.all([...clients].map((client) => client.endAsync(true).catch(() => undefined)));
      await listener.close();
      authenticator.close();
      await eventLog.close();
      await opened.cleanup();
      dir.cleanup();
    },
  };
  return fixture;
}

/** A valid drone telemetry reading. */
export function droneReading(overrides: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ lat: 52.37, lon: 4.89, altitude: 120, heading: 90, groundSpeed: 12.5, battery: 81, flightState: 'cruise', timestamp: '2026-06-01T08:00:00.000Z', ...overrides }));
}

/** A valid truck telemetry reading. */
export function truckReading(): Buffer {
  return Buffer.from(JSON.stringify({ lat: 52.37, lon: 4.89, speed: 20, heading: 180, odometer: 120_000, timestamp: '2026-06-01T08:00:00.000Z' }));
}

/** Resolves when the client's connection has closed (or rejects after `withinMs`). */
export async function closedWithin(client: MqttClient, withinMs: number): Promise<number> {
  const started = Date.now();
  if (client.connected) await within(new Promise<void>((resolve) => client.once('close', () => resolve())), withinMs, () => `client still connected after ${withinMs} ms`);
  return Date.now() - started;
}

/** The reason (MQTT 3.1.1 return code or MQTT 5 reason code) a CONNECT was refused with. */
export async function refusedWith(promise: Promise<MqttClient>): Promise<number> {
  try {
    const client = await promise;
    await client.endAsync(true);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    throw error;
  }
  throw new Error('the connection was accepted');
}
