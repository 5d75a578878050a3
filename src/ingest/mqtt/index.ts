import { readFileSync } from 'node:fs';
import type { DeviceStatusBoard } from '../../telemetry/status.ts';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import ipaddr from 'ipaddr.js';
import type { RampartConfig } from '../../config/schema.ts';
import type { AuthenticatedDevice, DeviceAuthenticator } from '../../devices/auth.ts';
import { createAddressMatcher } from '../../http/cidr.ts';
import type { Clock } from '../../kernel/clock.ts';
import { ConfigError, RampartError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Metrics } from '../../kernel/metrics.ts';
import type { EventLog } from '../../stream/event-log.ts';
import { createDeviceFailureRecorder, type DeviceFailureRecorder } from '../auth-failures.ts';
import type { LastSeenRecorder } from '../last-seen.ts';
import { SourceThrottle } from '../source-throttle.ts';
import { MqttConnection } from './bridge.ts';
import { REASON } from './v5.ts';
import { checkConnect, type ClientCertificate } from './connect.ts';
import type { DevicePublish } from './frames.ts';
import type { PreparedEvent } from '../events.ts';
import { admitPublish, TELEMETRY_HUBS } from './publish.ts';
import { deviceboundPrefix, encodePropertyBag, isOwnDeviceboundFilter } from './topics.ts';

// The MQTT device listener: an MQTT 3.1.1 and 5 broker (aedes behind
// bridge.ts) on its own TCP or TLS port, speaking IoT Hub's device topics.
// Connections outside `mqtt.allow` are destroyed before any byte is read.
// Telemetry is appended inside the publish authorization hook, so the broker
// sends PUBACK only once the event is durable; device telemetry is never
// routed to other clients (subscriptions are limited to a device's own
// devicebound topics, and forwarding re-checks that).

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

interface Session {
  readonly client: Client;
  readonly connection: MqttConnection;
  readonly device: AuthenticatedDevice;
  expiryTimer: NodeJS.Timeout | undefined;
}

const PROTOCOL = 'mqtt';

/** A client certificate the TLS layer found chained to the device CA, as its SHA-256 thumbprint. */
function peerCertificate(socket: Socket): ClientCertificate | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const peer = socket.getPeerCertificate();
  if (typeof peer.fingerprint256 !== 'string' || peer.fingerprint256 === '') return undefined;
  return { thumbprint: peer.fingerprint256.replaceAll(':', '').toLowerCase(), notAfter: Math.floor(Date.parse(peer.valid_to) / 1000) };
}
/** Room for the topic (with its property bag) and MQTT 5 properties beside the largest event body. */
const PACKET_OVERHEAD_BYTES = 128 * 1024;
const MAX_TIMER_MS = 2_147_483_647;

const LISTEN_FAILURES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another process already uses this port',
  EADDRNOTAVAIL: 'this machine has no such address',
  EACCES: 'ports below 1024 need privileges Rampart should not have',
};

function loadTls(tls: NonNullable<RampartConfig['mqtt']['tls']>): { cert: Buffer; key: Buffer } {
  try {
    const material = { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
    createSecureContext(material);
    return material;
  } catch (error) {
    throw new ConfigError('config.invalid', [`mqtt.tls: cannot use ${tls.certFile} and ${tls.keyFile}: ${(error as Error).message}`], { cause: error });
  }
}

const sourceOf = (address: string | undefined): string => (address !== undefined && ipaddr.isValid(address) ? ipaddr.process(address).toString() : 'unknown');

function connectionOf(client: Client): MqttConnection | undefined {
  return client.conn instanceof MqttConnection ? client.conn : undefined;
}

function authError(returnCode: number): AuthenticateError {
  const error = new Error('connection refused') as AuthenticateError;
  // The library declares its return codes as a const enum; these are the same numbers.
  (error as { returnCode: number }).returnCode = returnCode;
  return error;
}

export async function startMqttListener(options: MqttListenerOptions): Promise<MqttListener> {
  const { config, authenticator, eventLog, metrics, clock } = options;
  const logger = options.logger.child({ listener: PROTOCOL });
  const { mqtt, ingest } = config;
  const throttle = options.throttle ?? new SourceThrottle({ clock, failuresPerSource: ingest.failuresPerSource, throttleSeconds: ingest.throttleSeconds });
  const recordFailure = options.recordFailure ?? createDeviceFailureRecorder({ eventLog, metrics, logger, clock, throttle });
  const allowed = createAddressMatcher(mqtt.allow);
  const tls = mqtt.tls === undefined ? undefined : loadTls(mqtt.tls);
  const maxPacketBytes = ingest.maxEventBytes + PACKET_OVERHEAD_BYTES;
  const sasHosts = config.devices.sasHosts.map((host) => host.toLowerCase());

  const sessions = new Map<Client, Session>();
  const byDevice = new Map<string, Set<Session>>();
  const clientIds = new WeakMap<Client, string>();
  const authenticated = new WeakSet<MqttConnection>();
  /** Client certificates that chained to the device CA, by connection. */
  const certificates = new WeakMap<MqttConnection, ClientCertificate>();
  const sockets = new Set<Socket>();

  function endSession(session: Session, reason: string, reasonCode: number): void {
    logger.info({ deviceId: session.device.id, reason }, 'MQTT session ended by the listener');
    session.connection.sendDisconnect(reasonCode);
    session.client.close();
  }

  function forget(session: Session): void {
    clearTimeout(session.expiryTimer);
    sessions.delete(session.client);
    const set = byDevice.get(session.device.id);
    set?.delete(session);
    if (set?.size === 0) byDevice.delete(session.device.id);
  }

  /** Token expiry ends the session even when the device stays silent. */
  function armExpiry(session: Session): void {
    const delay = Math.min(MAX_TIMER_MS, Math.max(1000, session.device.expiresAt * 1000 - clock.now().getTime()));
    session.expiryTimer = setTimeout(() => {
      if (!sessions.has(session.client)) return;
      if (authenticator.stillValid(session.device)) armExpiry(session);
      else endSession(session, 'credentials no longer valid', REASON.notAuthorized);
    }, delay);
    session.expiryTimer.unref();
  }

  function currentSession(client: Client | null): Session | undefined {
    const session = client === null ? undefined : sessions.get(client);
    if (session === undefined) return undefined;
    if (authenticator.stillValid(session.device)) return session;
    metrics.ingestRefused.inc({ protocol: PROTOCOL, reason: 'revoked' });
    endSession(session, 'credentials no longer valid', REASON.notAuthorized);
    return undefined;
  }

  /**
   * Admits publishes that arrived together and appends them as one; resolves once
   * durable. The first refusal ends the session; those admitted before it are
   * still appended, unacknowledged.
   */
  function takePublishes(session: Session, publishes: readonly DevicePublish[]): Promise<void> {
    const admitted: PreparedEvent[] = [];
    const hub = TELEMETRY_HUBS[session.device.kind];
    for (const publish of publishes) {
      const decision = admitPublish(session.device, publish, { hubs: eventLog.hubs, ingest });
      if (decision.ok) {
        admitted.push(decision.event);
        continue;
      }
      metrics.ingestRefused.inc({ protocol: PROTOCOL, reason: decision.reason });
      logger.info({ deviceId: session.device.id, reason: decision.reason, detail: decision.detail }, 'MQTT publish refused; disconnecting');
      if (decision.publisherPolicy) {
        void recordFailure({ reason: 'publisher_policy', deviceId: session.device.id, sourceIp: sourceOf(session.connection.remoteAddress), protocol: PROTOCOL });
      }
      session.connection.sendDisconnect(decision.reasonCode);
      if (admitted.length > 0) appendAdmitted(session, hub, admitted).catch(() => undefined);
      return Promise.reject(new Error(decision.reason));
    }
    return appendAdmitted(session, hub, admitted);
  }

  async function appendAdmitted(session: Session, hub: string, events: readonly PreparedEvent[]): Promise<void> {
    try {
      await eventLog.append(hub, events);
    } catch (error) {
      logger.error({ err: error, deviceId: session.device.id, hub }, 'MQTT events could not be appended; disconnecting');
      metrics.ingestRefused.inc({ protocol: PROTOCOL, reason: error instanceof RampartError ? error.code : 'append_failed' });
      session.connection.sendDisconnect(REASON.unspecified);
      throw error;
    }
    metrics.ingestEvents.inc({ hub, protocol: PROTOCOL }, events.length);
    options.lastSeen?.seen(session.device.id);
    options.status?.record(session.device.id, hub, events, new Date());
  }

  /**
   * Once a session is ready (CONNACK sent, queued packets handed over), its
   * publishes are taken at the connection (bridge.ts) instead of by the broker.
   * The broker's keep-alive timer then no longer sees them, so each batch
   * refreshes it, as the broker does for every packet it handles.
   */
  function takePublishesAtConnection(session: Session): void {
    const { client } = session;
    session.connection.publishHandler = (publishes) => {
      if (currentSession(client) !== session) return Promise.reject(new Error('no session'));
      (client as unknown as { _keepaliveTimer?: NodeJS.Timeout | null })._keepaliveTimer?.refresh();
      return takePublishes(session, publishes).catch((error: unknown) => {
        client.close();
        throw error;
      });
    };
  }

  const broker = new Aedes({
    connectTimeout: mqtt.connectTimeoutMs,
    maxClientsIdLength: 128,
    preConnect(client, packet, callback) {
      clientIds.set(client, packet.clientId);
      // Wills are not offered: a will would publish on the device's behalf after it has gone.
      delete packet.will;
      callback(null, true);
    },
    authenticate(client, username, password, done) {
      const connection = connectionOf(client);
      const source = sourceOf(connection?.remoteAddress);
      const clientId = clientIds.get(client) ?? '';
      const certificate = connection === undefined ? undefined : certificates.get(connection);
      checkConnect({ authenticator, sasHosts, throttle }, { clientId, username, password, source, ...(certificate === undefined ? {} : { certificate }) })
        .then(async (outcome) => {
          if (!outcome.ok) {
            if (outcome.failure === undefined) {
              metrics.ingestRefused.inc({ protocol: PROTOCOL, reason: 'throttled' });
              logger.info({ sourceIp: source }, 'MQTT connection refused: source throttled');
            } else {
              await recordFailure({ reason: outcome.failure, deviceId: clientId, sourceIp: source, protocol: PROTOCOL });
            }
            if (connection !== undefined) connection.connackReason = outcome.reasonCode;
            done(authError(outcome.returnCode), false);
            return;
          }
          if (connection === undefined || client.closed) {
            done(authError(3), false);
            return;
          }
          // One connection per device: the broker closes the older one when this one registers.
          for (const older of byDevice.get(outcome.device.id) ?? []) older.connection.sendDisconnect(REASON.sessionTakenOver);
          const session: Session = { client, connection, device: outcome.device, expiryTimer: undefined };
          sessions.set(client, session);
          authenticated.add(connection);
          let set = byDevice.get(session.device.id);
          if (set === undefined) byDevice.set(session.device.id, (set = new Set()));
          set.add(session);
          connection.once('close', () => forget(session));
          armExpiry(session);
          logger.info({ deviceId: session.device.id, sourceIp: source, protocolVersion: connection.protocolVersion }, 'MQTT device connected');
          done(null, true);
        })
        .catch((error: unknown) => {
          logger.error({ err: error, deviceId: clientId }, 'MQTT authentication failed unexpectedly');
          if (connection !== undefined) connection.connackReason = REASON.serverUnavailable;
          done(authError(3), false);
        });
    },
    authorizePublish(client, packet, callback) {
      const session = currentSession(client);
      if (session === undefined) {
        callback(new Error('no session'));
        return;
      }
      // Called synchronously, so a device's events are appended in the order it sent them.
      // The broker writes PUBACK only after this callback: i.e. once the event is durable.
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      takePublishes(session, [{ topic: packet.topic, qos: packet.qos, retain: packet.retain, payload, messageId: packet.messageId }]).then(
        () => callback(null),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
    authorizeSubscribe(client, subscription, callback) {
      const session = currentSession(client);
      if (session === undefined) {
        callback(new Error('no session'));
        return;
      }
      if (!isOwnDeviceboundFilter(session.device.id, subscription.topic)) {
        logger.info({ deviceId: session.device.id, filter: subscription.topic.slice(0, 200) }, 'MQTT subscription refused');
        callback(null, null);
        return;
      }
      callback(null, { ...subscription, qos: subscription.qos > 1 ? 1 : subscription.qos });
    },
    authorizeForward(client, packet) {
      // Only a device's own devicebound messages ever leave the broker.
      return sessions.has(client) && packet.topic.startsWith(deviceboundPrefix(client.id)) ? packet : null;
    },
  });
  broker.on('clientReady', (client) => {
    const session = sessions.get(client);
    if (session !== undefined) takePublishesAtConnection(session);
  });
  broker.on('clientError', (client, error) => logger.debug({ deviceId: client.id, err: error }, 'MQTT client error'));
  broker.on('connectionError', (_client, error) => logger.debug({ err: error }, 'MQTT connection error before CONNECT completed'));
  await broker.listen();

  function accept(socket: Socket): void {
    if (socket.destroyed) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const connection = new MqttConnection(socket, { maxPacketBytes });
    const certificate = peerCertificate(socket);
    if (certificate !== undefined) certificates.set(connection, certificate);
    connection.on('refused', (problem: string) => {
      metrics.ingestRefused.inc({ protocol: PROTOCOL, reason: problem === 'too_large' ? 'too_large' : 'malformed' });
      logger.info({ sourceIp: sourceOf(connection.remoteAddress), problem }, 'MQTT packet refused; disconnecting');
    });
    // Covers a slow TLS-less handshake, a CONNECT dribbled in, and a slow authentication alike.
    const timer = setTimeout(() => {
      if (!authenticated.has(connection)) connection.destroy();
    }, mqtt.connectTimeoutMs);
    timer.unref();
    connection.once('close', () => clearTimeout(timer));
    broker.handle(connection);
  }

  const clientCa = tls === undefined ? undefined : options.clientCa;
  const server: Server =
    tls === undefined
      ? createNetServer()
      : createTlsServer({ ...tls, minVersion: mqtt.tls?.minVersion ?? 'TLSv1.2', handshakeTimeout: mqtt.connectTimeoutMs, ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: false }) });
  server.prependListener('connection', (socket: Socket) => {
    if (allowed(socket.remoteAddress)) return;
    metrics.connectionsRefused.inc({ plane: PROTOCOL, reason: 'allow-list' });
    logger.warn({ remoteAddress: socket.remoteAddress, remotePort: socket.remotePort }, 'connection refused by allow-list');
    socket.destroy();
  });
  if (tls === undefined) server.on('connection', accept);
  else {
    server.on('secureConnection', accept);
    server.on('tlsClientError', (error: Error) => logger.debug({ err: error }, 'MQTT TLS handshake failed'));
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: mqtt.host, port: mqtt.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const reason = LISTEN_FAILURES[code] ?? (error as Error).message;
    throw new RampartError('lifecycle.listen_failed', `mqtt: cannot listen on ${mqtt.host}:${mqtt.port}: ${reason} (${code}); change mqtt.host or mqtt.port`, { cause: error });
  }

  const stopRevocations = authenticator.onRevoked((deviceId) => {
    for (const session of byDevice.get(deviceId) ?? []) endSession(session, 'credentials revoked', REASON.notAuthorized);
  });

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls === undefined ? 'mqtt' : 'mqtts'}://${host}:${address.port}`;
  logger.info({ url }, 'MQTT listener started');

  return {
    url,
    async close() {
      stopRevocations();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      for (const session of sessions.values()) forget(session);
      await closed;
    },
    sendToDevice(deviceId, payload, properties = {}) {
      const topic = `${deviceboundPrefix(deviceId)}${encodePropertyBag(properties)}`;
      const session = [...(byDevice.get(deviceId) ?? [])].find((s) => s.client.connected && !s.client.closed && Object.keys(subscriptionsOf(s.client)).some((filter) => filter === `${deviceboundPrefix(deviceId)}#` || filter === topic));
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
