import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import type { DeviceAuthenticator } from '../../devices/auth.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Metrics } from '../../kernel/metrics.ts';
import type { DeviceFailureRecorder } from '../auth-failures.ts';
import type { SourceThrottle } from '../../perimeter/source-throttle.ts';
import { MqttConnection } from './bridge.ts';
import { checkConnect, PROTOCOL, sourceOf } from './connect.ts';
import type { TelemetryIntake } from './intake.ts';
import type { SessionTable } from './sessions.ts';
import { deviceboundPrefix, isOwnDeviceboundFilter } from './topics.ts';
import { REASON } from './v5.ts';

// The broker (aedes) and the hooks through which Rampart decides everything it
// does: who connects (connect.ts), what a device may publish (intake.ts: the
// publish is appended inside the hook, so PUBACK follows durability), what it
// may subscribe to (its own devicebound topics) and what the broker may send
// it (its own devicebound messages only, whatever it subscribed to).

export interface BrokerDeps {
  readonly sessions: SessionTable;
  readonly intake: TelemetryIntake;
  readonly authenticator: DeviceAuthenticator;
  readonly throttle: SourceThrottle;
  readonly recordFailure: DeviceFailureRecorder;
  readonly sasHosts: readonly string[];
  readonly connectTimeoutMs: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

type BrokerHooks = Required<Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>;

function connectionOf(client: Client): MqttConnection | undefined {
  return client.conn instanceof MqttConnection ? client.conn : undefined;
}

function authError(returnCode: number): AuthenticateError {
  const error = new Error('connection refused') as AuthenticateError;
  // The library declares its return codes as a const enum; these are the same numbers.
  (error as { returnCode: number }).returnCode = returnCode;
  return error;
}

/** The decisions the broker asks Rampart for; exported so the forwarding guard can be tested on its own. */
export function createBrokerHooks(deps: BrokerDeps): BrokerHooks {
  const { sessions, intake, metrics, logger } = deps;
  const clientIds = new WeakMap<Client, string>();

  return {
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
      const certificate = connection?.clientCertificate;
      checkConnect(deps, { clientId, username, password, source, ...(certificate === undefined ? {} : { certificate }) })
        .then(async (outcome) => {
          if (!outcome.ok) {
            if (outcome.failure === undefined) {
              metrics.ingestRefused.inc({ protocol: PROTOCOL, reason: 'throttled' });
              logger.info({ sourceIp: source }, 'MQTT connection refused: source throttled');
            } else {
              await deps.recordFailure({ reason: outcome.failure, deviceId: clientId, sourceIp: source, protocol: PROTOCOL });
            }
            if (connection !== undefined) connection.connackReason = outcome.reasonCode;
            done(authError(outcome.returnCode), false);
            return;
          }
          if (connection === undefined || client.closed) {
            done(authError(3), false);
            return;
          }
          const session = sessions.open(client, connection, outcome.device);
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
      const session = sessions.current(client);
      if (session === undefined) {
        callback(new Error('no session'));
        return;
      }
      // Called synchronously, so a device's events are appended in the order it sent them.
      // The broker writes PUBACK only after this callback: i.e. once the event is durable.
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      intake.takePublishes(session, [{ topic: packet.topic, qos: packet.qos, retain: packet.retain, payload, messageId: packet.messageId }]).then(
        () => callback(null),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
    authorizeSubscribe(client, subscription, callback) {
      const session = sessions.current(client);
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
  };
}

/** A running broker with Rampart's hooks; connections reach it through `broker.handle`. */
export async function startBroker(deps: BrokerDeps): Promise<Aedes> {
  const { sessions, intake, logger } = deps;
  const broker = new Aedes({ connectTimeout: deps.connectTimeoutMs, maxClientsIdLength: 128, ...createBrokerHooks(deps) });
  broker.on('clientReady', (client) => {
    const session = sessions.get(client);
    if (session !== undefined) intake.takeAtConnection(session);
  });
  broker.on('clientError', (client, error) => logger.debug({ deviceId: client.id, err: error }, 'MQTT client error'));
  broker.on('connectionError', (_client, error) => logger.debug({ err: error }, 'MQTT connection error before CONNECT completed'));
  await broker.listen();
  return broker;
}
