import { isRfc3339DateTime } from '../kernel/rfc3339.ts';
import type { EventInput, EventLog } from '../stream/event-log.ts';

// What the console's live map shows for each device: when it was last heard
// and its last reported position, speed and battery. Kept in memory, updated
// after each acknowledged append (one JSON parse per request, of its last
// event), and seeded at start from the newest events in the log, so a restart
// does not blank the map.

export interface DeviceReading {
  readonly lat: number;
  readonly lon: number;
  /** The device's own timestamp when it sent one, else when Rampart received it. */
  readonly at: string;
  readonly battery: number | null;
  /** Metres per second (drones: ground speed). */
  readonly speed: number | null;
  readonly heading: number | null;
  readonly altitude: number | null;
  readonly flightState: string | null;
}

export interface DeviceLiveStatus {
  readonly hub: string;
  readonly receivedAt: string;
  readonly reading: DeviceReading | null;
}

const MAX_PARSED_BYTES = 16 * 1024;

/** An appended event: its body, and the JSON value ingest already parsed from it, if any. */
export type StatusEvent = Pick<EventInput, 'body'> & { readonly json?: unknown };
const SEED_EVENTS_PER_PARTITION = 500;

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function parsedBody(event: StatusEvent): unknown {
  if (event.json !== undefined) return event.json;
  if (event.body.length > MAX_PARSED_BYTES) return undefined;
  try {
    return JSON.parse(Buffer.from(event.body).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Already in the form toISOString() gives (most devices send it so): kept as sent. */
const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isoTime(value: string, fallback: string): string {
  if (CANONICAL_ISO.test(value) && isRfc3339DateTime(value)) return value;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? fallback : new Date(parsed).toISOString();
}

function readingOf(event: StatusEvent, receivedAt: string): DeviceReading | null {
  const value = parsedBody(event);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const lat = numberOrNull(v['lat']);
  const lon = numberOrNull(v['lon']);
  if (lat === null || lon === null || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  const timestamp = typeof v['timestamp'] === 'string' ? isoTime(v['timestamp'], receivedAt) : receivedAt;
  return {
    lat,
    lon,
    at: timestamp,
    battery: numberOrNull(v['battery']),
    speed: numberOrNull(v['speed']) ?? numberOrNull(v['groundSpeed']),
    heading: numberOrNull(v['heading']),
    altitude: numberOrNull(v['altitude']),
    flightState: typeof v['flightState'] === 'string' ? v['flightState'].slice(0, 32) : null,
  };
}

export class DeviceStatusBoard {
  readonly #latest = new Map<string, DeviceLiveStatus>();
  readonly #maxDevices: number;
  readonly #listeners = new Set<(deviceId: string) => void>();

  constructor(options: { maxDevices?: number } = {}) {
    this.#maxDevices = options.maxDevices ?? 200_000;
  }

  /** After an acknowledged append: the device's last event of the request. */
  record(deviceId: string, hub: string, events: readonly StatusEvent[], receivedAt: Date): void {
    const last = events.at(-1);
    if (last === undefined) return;
    const at = receivedAt.toISOString();
    const previous = this.#latest.get(deviceId);
    const reading = readingOf(last, at) ?? previous?.reading ?? null;
    if (previous === undefined && this.#latest.size >= this.#maxDevices) return;
    this.#latest.set(deviceId, { hub, receivedAt: at, reading });
    for (const listener of this.#listeners) listener(deviceId);
  }

  /** Calls `listener` with the device's id after each change; returns the unsubscribe. Listeners must only take note (no I/O). */
  subscribe(listener: (deviceId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  get(deviceId: string): DeviceLiveStatus | undefined {
    return this.#latest.get(deviceId);
  }

  /** Replays the newest events of every partition, oldest first. */
  async seed(eventLog: EventLog): Promise<number> {
    let replayed = 0;
    for (const [hub, definition] of eventLog.hubs) {
      for (let partition = 0; partition < definition.partitions; partition++) {
        const info = await eventLog.partitionInfo(hub, partition);
        if (info.lastSequence === 0) continue;
        const from = Math.max(info.firstSequence, info.lastSequence - SEED_EVENTS_PER_PARTITION + 1);
        for (const event of await eventLog.read(hub, partition, { sequence: from }, SEED_EVENTS_PER_PARTITION)) {
          this.record(event.publisher, hub, [event], new Date(event.enqueuedAt));
          replayed++;
        }
      }
    }
    return replayed;
  }
}
