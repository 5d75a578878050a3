import type { RampartConfig } from '../config/schema.ts';
import { createSasToken } from '../crypto/sas.ts';
import { RampartError } from '../kernel/errors.ts';
import type { DeviceChange, DeviceRegistry } from './registry.ts';

// SAS tokens issued to operators for a device (provisioning, tests in the
// field): signed with the device's primary key, for the device's own publisher
// path (HTTP) or device path (MQTT) on the first configured host. Issuing one
// reads a secret, so it is audited.

export const MIN_TOKEN_TTL_SECONDS = 60;

export type TokenScope = 'http' | 'mqtt';

/** Which hubs exist: a set of names, or the event log's live hub map. */
export interface HubNames {
  has(name: string): boolean;
}

export interface DeviceTokenSettings {
  readonly devices: RampartConfig['devices'];
  /** The hubs an HTTP token may name: in the server, the event log's hubs (API-created ones included); in commands, the configured ones. */
  readonly hubs: HubNames;
}

export interface DeviceTokenRequest {
  readonly ttlSeconds: number;
  /** HTTP only; defaults to `<kind>-telemetry`. */
  readonly hub?: string;
  readonly scope: TokenScope;
}

export interface IssuedDeviceToken {
  readonly token: string;
  readonly resourceUri: string;
  readonly expiresAt: string;
}

/** The refusal for a lifetime outside 60 s … `devices.maxTokenLifetimeSeconds`, or undefined when it is fine. */
export function ttlProblem(ttlSeconds: number, settings: DeviceTokenSettings): string | undefined {
  const max = settings.devices.maxTokenLifetimeSeconds;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < MIN_TOKEN_TTL_SECONDS || ttlSeconds > max) {
    return `The token lifetime must be ${MIN_TOKEN_TTL_SECONDS} to ${max} seconds (devices.maxTokenLifetimeSeconds); longer-lived tokens would be refused by Rampart itself.`;
  }
  return undefined;
}

export async function issueDeviceToken(registry: DeviceRegistry, settings: DeviceTokenSettings, id: string, request: DeviceTokenRequest, change: DeviceChange, nowMs: number): Promise<IssuedDeviceToken> {
  const problem = ttlProblem(request.ttlSeconds, settings);
  if (problem !== undefined) throw new RampartError('request.invalid', problem, { publicDetail: problem });
  const host = settings.devices.sasHosts[0];
  if (host === undefined) throw new RampartError('request.invalid', 'devices.sasHosts is empty: no host to issue a token for', { publicDetail: 'No SAS host is configured (devices.sasHosts).' });
  if (request.scope === 'mqtt' && request.hub !== undefined) throw new RampartError('request.invalid', 'a hub applies to HTTP tokens only', { publicDetail: 'A hub applies to HTTP tokens only; MQTT tokens name the device.' });
  const { device, primaryKey } = await registry.readKeys(id);
  if (device.status !== 'enabled') throw new RampartError('request.invalid', `device ${id} is disabled`, { publicDetail: 'The device is disabled; enable it first.' });
  const hub = request.hub ?? `${device.kind}-telemetry`;
  if (request.scope === 'http' && !settings.hubs.has(hub)) throw new RampartError('ingest.unknown_hub', `no hub ${hub}`, { publicDetail: `No hub named ${hub} exists.` });
  const resourceUri = request.scope === 'mqtt' ? `${host}/devices/${device.id}` : `https://${host}/${hub}/publishers/${device.id}`;
  const expiresAtSeconds = Math.floor(nowMs / 1000) + request.ttlSeconds;
  const token = createSasToken({ resourceUri, key: primaryKey, keyName: 'primary', expiresAt: expiresAtSeconds, keyEncoding: 'utf8' });
  const expiresAt = new Date(expiresAtSeconds * 1000).toISOString();
  await registry.recordTokenIssued(id, { resource: resourceUri, expires_at: expiresAt, key: 'primary', revision: device.revision }, change);
  return { token, resourceUri, expiresAt };
}
