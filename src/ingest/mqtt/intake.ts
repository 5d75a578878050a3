import type { Client } from 'aedes';
import type { RampartConfig } from '../../config/schema.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Metrics } from '../../kernel/metrics.ts';
import type { DeviceStatusBoard } from '../../telemetry/status.ts';
import type { EventLog } from '../../stream/event-log.ts';
import type { DeviceFailureRecorder } from '../auth-failures.ts';
import type { PreparedEvent } from '../events.ts';
import type { LastSeenRecorder } from '../last-seen.ts';
import { PROTOCOL, sourceOf } from './connect.ts';
import type { DevicePublish } from './frames.ts';
import { admitPublish, TELEMETRY_HUBS } from './publish.ts';
import type { Session, SessionTable } from './sessions.ts';
import { REASON } from './v5.ts';

// Telemetry from an MQTT session into the event log: publishes are admitted
// (publish.ts) in the order the device sent them and appended together; a
// publish is acknowledged only once durable.

export interface TelemetryIntakeDeps {
  readonly sessions: SessionTable;
  readonly eventLog: EventLog;
  readonly ingest: RampartConfig['ingest'];
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly recordFailure: DeviceFailureRecorder;
  readonly lastSeen: LastSeenRecorder | undefined;
  readonly status: DeviceStatusBoard | undefined;
}

export interface TelemetryIntake {
  /**
   * Admits publishes that arrived together and appends them as one; resolves
   * once durable. The first refusal ends the session; those admitted before it
   * are still appended, unacknowledged.
   */
  takePublishes(session: Session, publishes: readonly DevicePublish[]): Promise<void>;
  /** From now on, the session's publishes are taken at its connection rather than by the broker. */
  takeAtConnection(session: Session): void;
}

export function createTelemetryIntake(deps: TelemetryIntakeDeps): TelemetryIntake {
  const { sessions, eventLog, ingest, metrics, logger } = deps;

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
        void deps.recordFailure({ reason: 'publisher_policy', deviceId: session.device.id, sourceIp: sourceOf(session.connection.remoteAddress), protocol: PROTOCOL });
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
    deps.lastSeen?.seen(session.device.id);
    deps.status?.record(session.device.id, hub, events, new Date());
  }

  /**
   * Once a session is ready (CONNACK sent, queued packets handed over), its
   * publishes are taken at the connection (bridge.ts) instead of by the broker,
   * which therefore no longer sees them as activity: each batch refreshes the
   * broker's keep-alive, as the broker does for every packet it handles.
   */
  function takeAtConnection(session: Session): void {
    const { client } = session;
    session.connection.publishHandler = (publishes) => {
      if (sessions.current(client) !== session) return Promise.reject(new Error('no session'));
      refreshBrokerKeepAlive(client);
      return takePublishes(session, publishes).catch((error: unknown) => {
        client.close();
        throw error;
      });
    };
  }

  return { takePublishes, takeAtConnection };
}

/**
 * Counts a packet the broker did not see as keep-alive activity. aedes 1.2.0
 * has no public way to do this: it refreshes the client's private
 * `_keepaliveTimer` itself in lib/handlers/index.js for every packet it
 * handles (armed in lib/handlers/connect.js at 1.5 × the CONNECT's keep-alive),
 * and this does exactly that for the PUBLISH packets Rampart takes itself.
 * Without it a device that only publishes is disconnected after 1.5 × its
 * keep-alive (test/e2e/ingest-mqtt.test.ts checks both ways).
 */
function refreshBrokerKeepAlive(client: Client): void {
  (client as unknown as { _keepaliveTimer?: NodeJS.Timeout | null })._keepaliveTimer?.refresh();
}
