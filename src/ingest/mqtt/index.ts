import type { Aedes, Client } from 'aedes';
import type { RampartConfig } from '../../config/schema.ts';
import type { DeviceAuthenticator } from '../../devices/auth.ts';
import { loadTlsMaterial } from '../../http/listen.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Metrics } from '../../kernel/metrics.ts';
import type { EventLog } from '../../stream/event-log.ts';
import type { DeviceStatusBoard } from '../../telemetry/status.ts';
import { createDeviceFailureRecorder, type DeviceFailureRecorder } from '../auth-failures.ts';
import type { LastSeenRecorder } from '../last-seen.ts';
import { SourceThrottle } from '../../perimeter/source-throttle.ts';
import { startBroker } from './broker.ts';
import { PROTOCOL } from './connect.ts';
import { createTelemetryIntake } from './intake.ts';
import { SessionTable } from './sessions.ts';
import { listenForDevices, type DeviceSocketServer } from './socket-server.ts';
import { deviceboundPrefix, encodePropertyBag } from './topics.ts';

// The MQTT device listener: an MQTT 3.1.1 and 5 broker (aedes behind
// bridge.ts) on its own TCP or TLS port, speaking IoT Hub's device topics.
// The pieces: socket-server.ts (the port, allow-list, connections),
// broker.ts (the broker and its authorization hooks), sessions.ts (who is
// connected, for how long), intake.ts (telemetry into the event log, acknowledged
// once durable). Device telemetry is never routed to other clients
// (subscriptions are limited to a device's own devicebound topics, and
// forwarding re-checks that).

export interface MqttListenerOptions {
  readonly config: Pick<RampartConfig, 'mqtt' | 'ingest' | 'devices'>;
  readonly authenticator: DeviceAuthenticator;
  readonly eventLog: EventLog;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** Shared with the HTTP ingest so failures on either protocol count against one address; created when absent. */
  readonly throttle?: SourceThrottle;
  /** Shared recorder of refused credentials; created when absent. */
  readonly recordFailure?: DeviceFailureRecorder;
  readonly lastSeen?: LastSeenRecorder;
  /** The live view of devices for the console's map. */
  readonly status?: DeviceStatusBoard;
  /** CA bundle for device client certificates (with `mqtt.tls`): a device may then connect with a certificate instead of a SAS token. */
  readonly clientCa?: Buffer;
}

export interface MqttListener {
  /** `mqtt://host:port`, or `mqtts://` with TLS. */
  readonly url: string;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
  /**
   * Publishes (QoS 1) to `devices/<deviceId>/messages/devicebound/<properties>`.
   * False when the device is not connected or has not subscribed to its devicebound topics.
   */
  sendToDevice(deviceId: string, payload: Buffer, properties?: Readonly<Record<string, string>>): Promise<boolean>;
}

/** Room for the topic (with its property bag) and MQTT 5 properties beside the largest event body. */
const PACKET_OVERHEAD_BYTES = 128 * 1024;

const closeBroker = (broker: Aedes) => new Promise<void>((resolve) => broker.close(() => resolve()));

export async function startMqttListener(options: MqttListenerOptions): Promise<MqttListener> {
  const { config, authenticator, eventLog, metrics, clock } = options;
  const logger = options.logger.child({ listener: PROTOCOL });
  const { mqtt, ingest } = config;
  const throttle = options.throttle ?? new SourceThrottle({ clock, failuresPerSource: ingest.failuresPerSource, throttleSeconds: ingest.throttleSeconds });
  const recordFailure = options.recordFailure ?? createDeviceFailureRecorder({ eventLog, metrics, logger, clock, throttle });
  const tls = mqtt.tls === undefined ? undefined : loadTlsMaterial('mqtt.tls', mqtt.tls);

  const sessions = new SessionTable({ authenticator, metrics, logger, clock });
  const intake = createTelemetryIntake({ sessions, eventLog, ingest, metrics, logger, recordFailure, lastSeen: options.lastSeen, status: options.status });
  const broker = await startBroker({
    sessions,
    intake,
    authenticator,
    throttle,
    recordFailure,
    sasHosts: config.devices.sasHosts.map((host) => host.toLowerCase()),
    connectTimeoutMs: mqtt.connectTimeoutMs,
    metrics,
    logger,
  });

  let port: DeviceSocketServer;
  try {
    port = await listenForDevices({ mqtt, tls, clientCa: options.clientCa, maxPacketBytes: ingest.maxEventBytes + PACKET_OVERHEAD_BYTES, broker, sessions, metrics, logger });
  } catch (error) {
    await closeBroker(broker);
    throw error;
  }

  const stopRevocations = authenticator.onRevoked((deviceId) => sessions.endDevice(deviceId, 'credentials revoked'));
  logger.info({ url: port.url }, 'MQTT listener started');

  return {
    url: port.url,
    async close() {
      stopRevocations();
      const closed = port.stopAccepting();
      await closeBroker(broker);
      port.cutConnections();
      sessions.clear();
      await closed;
    },
    sendToDevice(deviceId, payload, properties = {}) {
      const topic = `${deviceboundPrefix(deviceId)}${encodePropertyBag(properties)}`;
      const session = sessions.ofDevice(deviceId).find((s) => s.client.connected && !s.client.closed && Object.keys(subscriptionsOf(s.client)).some((filter) => filter === `${deviceboundPrefix(deviceId)}#` || filter === topic));
      if (session === undefined) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        session.client.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (error) => resolve(error === undefined));
      });
    },
  };
}

/** The broker keeps each client's granted filters; its type declarations omit them. */
function subscriptionsOf(client: Client): Readonly<Record<string, unknown>> {
  return (client as Client & { subscriptions?: Record<string, unknown> }).subscriptions ?? {};
}
