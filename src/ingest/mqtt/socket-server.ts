import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Aedes } from 'aedes';
import type { RampartConfig } from '../../config/schema.ts';
import { createAddressMatcher } from '../../http/cidr.ts';
import { listenFailed, type TlsMaterial } from '../../http/listen.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Metrics } from '../../kernel/metrics.ts';
import { MqttConnection } from './bridge.ts';
import { PROTOCOL, sourceOf } from './connect.ts';
import type { SessionTable } from './sessions.ts';

// The listener's TCP or TLS port. Connections outside `mqtt.allow` are
// destroyed before any byte is read; the rest are wrapped in an MqttConnection
// (bridge.ts) and handed to the broker, with `mqtt.connectTimeoutMs` to
// authenticate.

export interface DeviceSocketServerOptions {
  readonly mqtt: RampartConfig['mqtt'];
  /** With it, the port speaks TLS. */
  readonly tls: TlsMaterial | undefined;
  /** CA bundle for device client certificates (TLS only). */
  readonly clientCa: Buffer | undefined;
  readonly maxPacketBytes: number;
  readonly broker: Aedes;
  readonly sessions: SessionTable;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface DeviceSocketServer {
  /** `mqtt://host:port`, or `mqtts://` with TLS. */
  readonly url: string;
  /** Stops accepting; resolves once the port is closed and its last connection gone. */
  stopAccepting(): Promise<void>;
  /** Destroys every connection still open. */
  cutConnections(): void;
}

export async function listenForDevices(options: DeviceSocketServerOptions): Promise<DeviceSocketServer> {
  const { mqtt, tls, broker, sessions, metrics, logger } = options;
  const allowed = createAddressMatcher(mqtt.allow);
  const sockets = new Set<Socket>();

  function accept(socket: Socket): void {
    if (socket.destroyed) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const connection = new MqttConnection(socket, { maxPacketBytes: options.maxPacketBytes });
    connection.on('refused', (problem: string) => {
      metrics.ingestRefused.inc({ protocol: PROTOCOL, reason: problem === 'too_large' ? 'too_large' : 'malformed' });
      logger.info({ sourceIp: sourceOf(connection.remoteAddress), problem }, 'MQTT packet refused; disconnecting');
    });
    // Covers a slow TLS-less handshake, a CONNECT dribbled in, and a slow authentication alike.
    const timer = setTimeout(() => {
      if (!sessions.authenticated(connection)) connection.destroy();
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
    throw listenFailed('mqtt', mqtt.host, mqtt.port, error);
  }

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${tls === undefined ? 'mqtt' : 'mqtts'}://${host}:${address.port}`,
    stopAccepting: () => new Promise<void>((resolve) => server.close(() => resolve())),
    cutConnections() {
      for (const socket of sockets) socket.destroy();
    },
  };
}
