import type { AuthFailureReason } from '../devices/auth.ts';
import type { Clock } from '../kernel/clock.ts';
import { isRampartError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Metrics } from '../kernel/metrics.ts';
import type { EventLog } from '../stream/event-log.ts';
import type { SourceThrottle } from '../perimeter/source-throttle.ts';

// Every refused device credential leaves four traces: a metric, a log line
// (reason, device, address — never the token), an event on the
// `security-events` hub when it is configured, and a count against the source
// address (see SourceThrottle). Shared by every ingest front end.

export const SECURITY_EVENTS_HUB = 'security-events';
/** The publisher of events Rampart itself appends. */
export const RAMPART_PUBLISHER = 'rampart';

const AUTH_FAILURE_REASONS: ReadonlySet<string> = new Set<AuthFailureReason>([
  'malformed',
  'expired',
  'lifetime_too_long',
  'wrong_resource',
  'unknown_device',
  'disabled',
  'bad_signature',
  'unknown_certificate',
]);

export type DeviceFailureReason =
  | AuthFailureReason
  /** No credential was presented at all. */
  | 'missing'
  /** Authenticated, but acted for another publisher (path or partition key). */
  | 'publisher_policy';

export interface DeviceFailure {
  readonly reason: DeviceFailureReason;
  /** The device the request claimed to be (caller-supplied; truncated). */
  readonly deviceId: string;
  readonly sourceIp: string;
  readonly protocol: 'https' | 'mqtt';
}

/** The AuthFailureReason a `device.unauthorized` error carries, or undefined when `error` is something else. */
export function authFailureReason(error: unknown): AuthFailureReason | undefined {
  if (!isRampartError(error) || error.code !== 'device.unauthorized') return undefined;
  const reason = (error as { reason?: unknown }).reason;
  return typeof reason === 'string' && AUTH_FAILURE_REASONS.has(reason) ? (reason as AuthFailureReason) : 'malformed';
}

export interface DeviceFailureRecorderDeps {
  readonly eventLog: EventLog;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly throttle: SourceThrottle;
}

export type DeviceFailureRecorder = (failure: DeviceFailure) => Promise<void>;

export function createDeviceFailureRecorder(deps: DeviceFailureRecorderDeps): DeviceFailureRecorder {
  const { eventLog, metrics, logger, clock, throttle } = deps;
  return async (failure) => {
    const deviceId = failure.deviceId.slice(0, 128);
    const at = clock.now().toISOString();
    metrics.deviceAuthFailures.inc({ reason: failure.reason });
    // Publisher-policy refusals come from authenticated devices: they are recorded, not throttled.
    const blocked = failure.reason === 'publisher_policy' ? false : throttle.recordFailure(failure.sourceIp);
    logger.warn({ reason: failure.reason, deviceId, sourceIp: failure.sourceIp, protocol: failure.protocol, blocked }, 'device authentication refused');
    if (!eventLog.hubs.has(SECURITY_EVENTS_HUB)) return;
    const type = failure.reason === 'publisher_policy' ? 'device.forbidden' : 'device.auth_failed';
    const body = Buffer.from(JSON.stringify({ type, reason: failure.reason, deviceId, sourceIp: failure.sourceIp, protocol: failure.protocol, at }));
    try {
      await eventLog.append(SECURITY_EVENTS_HUB, [{ publisher: RAMPART_PUBLISHER, contentType: 'application/json', properties: { type }, body }]);
    } catch (error) {
      // The refusal stands either way; losing its security event must be visible.
      logger.error({ err: error, reason: failure.reason, deviceId }, 'could not append to the security-events hub');
    }
  };
}
