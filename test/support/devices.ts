import { randomUUID } from 'node:crypto';
import { createSasToken } from '../../src/crypto/sas.ts';
import { DeviceRegistry, type DeviceKind } from '../../src/devices/registry.ts';
import type { Clock } from '../../src/kernel/clock.ts';
import type { RunningRampart } from '../../src/server.ts';
import type { StoredEvent } from '../../src/stream/event-log.ts';

// Devices, SAS tokens and publishing for tests that drive the device plane.

export interface TestDevice {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly primaryKey: string;
  readonly secondaryKey: string;
}

/**
 * A registry of its own on the running server's database and keyring — as
 * the CLI or another node would change devices — so that the server learns
 * of changes the way it would in production (its revocation poll).
 */
export function outsideRegistry(running: RunningRampart, clock: Clock): DeviceRegistry {
  return new DeviceRegistry({ db: running.database.db, keyring: running.keyring, clock });
}

export async function createTestDevice(registry: DeviceRegistry, options: { id?: string; kind?: DeviceKind; depot?: string; name?: string } = {}): Promise<TestDevice> {
  const kind = options.kind ?? 'drone';
  const id = options.id ?? `${kind}-${randomUUID().slice(0, 8)}`;
  const created = await registry.add({ id, kind, name: options.name ?? `Test ${kind} ${id}`, depot: options.depot ?? 'north' }, { actor: { type: 'cli', id: 'test' } });
  return { id, kind, primaryKey: created.primaryKey, secondaryKey: created.secondaryKey };
}

export interface TokenOptions {
  readonly hub: string;
  /** The publisher named in the token's resource (default: the device). */
  readonly publisher?: string;
  readonly key: string;
  /** The `skn` the token names (the device plane requires one); default `primary`. */
  readonly keyName?: 'primary' | 'secondary';
  readonly clock: Clock;
  /** Seconds from the clock's now; negative for an expired token. Default 3600. */
  readonly expiresIn?: number;
  readonly host?: string;
}

/** An Event Hubs publisher token for `https://<host>/<hub>/publishers/<publisher>`, key as UTF-8. */
export function publisherToken(device: TestDevice, options: TokenOptions): string {
  const expiresAt = Math.floor(options.clock.now().getTime() / 1000) + (options.expiresIn ?? 3600);
  return createSasToken({
    resourceUri: `https://${options.host ?? 'localhost'}/${options.hub}/publishers/${options.publisher ?? device.id}`,
    key: options.key,
    keyName: options.keyName ?? 'primary',
    expiresAt,
    keyEncoding: 'utf8',
  });
}

export interface PublishOptions {
  readonly hub: string;
  readonly deviceId: string;
  readonly token?: string | undefined;
  readonly body: string | Uint8Array;
  readonly contentType?: string | undefined;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface PublishResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The problem document, when the answer is one. */
  readonly problem: { code?: string; detail?: string } | undefined;
}

/** POST /<hub>/publishers/<deviceId>/messages on the device plane. */
export async function publish(running: RunningRampart, options: PublishOptions): Promise<PublishResult> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers['authorization'] = options.token;
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  const response = await fetch(`${running.urls.device}/${options.hub}/publishers/${encodeURIComponent(options.deviceId)}/messages`, { method: 'POST', headers, body: options.body });
  const text = await response.text();
  let problem: PublishResult['problem'];
  if ((response.headers.get('content-type') ?? '').startsWith('application/problem+json')) problem = JSON.parse(text) as PublishResult['problem'];
  return { status: response.status, headers: response.headers, text, problem };
}

/** Every stored event of a hub, partition by partition, oldest first. */
export async function hubEvents(running: RunningRampart, hub: string): Promise<StoredEvent[]> {
  const definition = running.eventLog.hubs.get(hub);
  if (definition === undefined) throw new Error(`no hub ${hub}`);
  const out: StoredEvent[] = [];
  for (let partition = 0; partition < definition.partitions; partition += 1) {
    for (let from = 0; ; ) {
      const page = await running.eventLog.read(hub, partition, { sequence: from }, 1000);
      out.push(...page);
      const last = page.at(-1);
      if (last === undefined || page.length < 1000) break;
      from = last.sequence + 1;
    }
  }
  return out;
}

/** How many events each hub has ever stored (sequences are dense): shows that a refused request stored nothing. */
export async function eventCounts(running: RunningRampart): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const hub of running.eventLog.hubs.values()) {
    let total = 0;
    for (let partition = 0; partition < hub.partitions; partition += 1) {
      const info = await running.eventLog.partitionInfo(hub.name, partition);
      total += info.lastSequence;
    }
    counts[hub.name] = total;
  }
  return counts;
}

/** A valid drone reading, with `overrides`. */
export function droneReading(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { lat: 52.52, lon: 13.405, altitude: 120.5, heading: 90, groundSpeed: 12.3, battery: 81, flightState: 'cruise', timestamp: '2026-03-01T10:00:00.000Z', ...overrides };
}

/** A valid truck reading, with `overrides`. */
export function truckReading(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { lat: 48.137, lon: 11.575, speed: 22.2, heading: 180, odometer: 120_345.6, timestamp: '2026-03-01T10:00:00.000Z', ...overrides };
}
