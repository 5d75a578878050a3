import type { CandidateEvent, HubRules } from '../../ingest/events.ts';
import { prepareEvent, type PreparedEvent } from '../../ingest/events.ts';

// A driver's phone location ping, as an event of the `truck-telemetry` hub.
// A phone has no odometer, so a ping cannot satisfy the truck schema: it is
// checked by the hub's own rules (size, JSON, properties, schema) with
// `onInvalid: flag` whatever the hub says, so it is stored marked
// `rampart-schema-invalid` (problem: the missing odometer) rather than refused
// or passed as a full truck reading. Consumers that need odometers skip
// flagged events; the `source: driver-app` property says where it came from.

export const LOCATION_HUB = 'truck-telemetry';

export interface LocationPing {
  readonly lat: number;
  readonly lon: number;
  readonly accuracyM: number;
  readonly speed?: number | undefined;
  readonly heading?: number | undefined;
  /** When the phone took the fix (RFC 3339 with zone). */
  readonly timestamp: string;
}

export const driverPublisher = (accountId: string) => `driver-${accountId}`;

/** The event for a ping; `routeId`/`vehicleId` when the driver is on a route. Throws what ingest throws for a bad event. */
export function locationEvent(accountId: string, ping: LocationPing, rules: HubRules, limits: { maxEventBytes: number }, context: { routeId?: string | undefined; vehicleId?: string | undefined }): PreparedEvent {
  const body = {
    lat: ping.lat,
    lon: ping.lon,
    ...(ping.speed === undefined ? {} : { speed: ping.speed }),
    ...(ping.heading === undefined ? {} : { heading: ping.heading }),
    timestamp: ping.timestamp,
  };
  const candidate: CandidateEvent = {
    body: Buffer.from(JSON.stringify(body), 'utf8'),
    contentType: 'application/json',
    properties: {
      source: 'driver-app',
      accuracyM: String(ping.accuracyM),
      ...(context.routeId === undefined ? {} : { routeId: context.routeId }),
      ...(context.vehicleId === undefined ? {} : { vehicleId: context.vehicleId }),
    },
    // A retried ping (same fix) is stored once.
    messageId: `fix-${Date.parse(ping.timestamp)}`,
  };
  return prepareEvent(driverPublisher(accountId), candidate, { ...rules, onInvalid: 'flag' }, limits);
}
