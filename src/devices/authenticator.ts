import type { RampartConfig } from '../config/schema.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { KeyObject } from 'node:crypto';
import { checkSasClaims, parseSasToken, sasSigningKey, SasTokenMalformedError, verifySasSignature, type ParsedSasToken } from '../crypto/sas.ts';
import type { Clock } from '../kernel/clock.ts';
import { isRampartError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Db } from '../storage/database.ts';
import type { AuthenticatedDevice, DeviceAuthenticator, KeyEncoding } from './auth.ts';
import { DeviceAuthError } from './errors.ts';
import { DeviceRegistry, KEY_NAMES, type DeviceKind, type KeyName } from './registry.ts';

// Device authentication over the registry. Decrypted keys are held in memory
// per device and revision, and so are the last few tokens that verified for
// that device: a device on a keep-alive connection presents the same token with
// every request, and re-computing its HMAC each time was most of the ingest
// path's authentication cost. A remembered token is tied to the held revision:
// any change to the device (disable, key rotation, removal) replaces the held
// state and forgets every token with it, and a hit still checks the token's
// expiry against the clock. The lookup is by the exact token string, so it can
// only succeed for a token that already verified in full. A poll re-reads the
// revision of every device held, so a change made by another process (the
// CLI, another node) is noticed within a second; changes made through this
// process's registry are re-checked at once.
//
// The poll asks for the held ids rather than "rows changed since T": the
// writers' clocks are not ours, so a timestamp watermark could miss a change.

export const POLL_INTERVAL_MS = 500;
/** Verified tokens remembered per device (a device rarely holds more than two live tokens). */
const VERIFIED_PER_DEVICE = 4;
const POLL_CHUNK = 500;

type Credential = AuthenticatedDevice['credential'];

interface HeldDevice {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly depot: string;
  readonly revision: number;
  readonly enabled: boolean;
  /** HMAC keys built once per key and encoding (never the verification results). */
  readonly keys: Readonly<Record<KeyName, Readonly<Record<KeyEncoding, KeyObject>>>>;
  readonly thumbprints: ReadonlySet<string>;
  /** Tokens that verified at this revision: `<resource>\n<encodings>\n<skn required>\n<token>` → what they proved. */
  readonly verified: Map<string, { readonly credential: KeyName; readonly expiresAt: number }>;
  /**
   * The revision from which each credential (and the enabled state) has been
   * unchanged: an AuthenticatedDevice checked at an earlier revision is stale.
   */
  readonly since: Readonly<Record<Credential | 'enabled', number>>;
}

export interface DeviceAuthenticatorOptions {
  readonly db: Db;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly config: RampartConfig['devices'];
  readonly logger: Logger;
  /** The registry this process changes devices through; its changes are picked up without waiting for the poll. */
  readonly registry?: DeviceRegistry;
  /** Defaults to 500 ms. */
  readonly pollIntervalMs?: number;
}

export type ClosableDeviceAuthenticator = DeviceAuthenticator & {
  /** Stops the poll and the registry subscription. */
  close(): void;
  /** Re-reads every held device now (what the poll does). */
  refresh(): Promise<void>;
};

export function createDeviceAuthenticator(options: DeviceAuthenticatorOptions): ClosableDeviceAuthenticator {
  const { db, clock, config, logger } = options;
  const registry = options.registry ?? new DeviceRegistry({ db, keyring: options.keyring, clock });
  const held = new Map<string, HeldDevice>();
  const loading = new Map<string, Promise<HeldDevice | undefined>>();
  const listeners = new Set<(deviceId: string) => void>();
  let closed = false;

  const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);

  function revoked(id: string, why: string): void {
    logger.info({ device: id, why }, 'device credentials revoked');
    for (const listener of listeners) {
      try {
        listener(id);
      } catch (error) {
        logger.warn({ err: error, device: id }, 'onRevoked listener failed');
      }
    }
  }

  function signingKeys(key: string): Record<KeyEncoding, KeyObject> {
    return { utf8: sasSigningKey(key, 'utf8'), base64: sasSigningKey(key, 'base64') };
  }

  async function read(id: string): Promise<HeldDevice | undefined> {
    try {
      const { device, primaryKey, secondaryKey } = await registry.readKeys(id);
      return {
        id,
        kind: device.kind,
        depot: device.depot,
        revision: device.revision,
        enabled: device.status === 'enabled',
        keys: { primary: signingKeys(primaryKey), secondary: signingKeys(secondaryKey) },
        thumbprints: new Set(device.thumbprints),
        verified: new Map(),
        since: { primary: 0, secondary: 0, certificate: 0, enabled: 0 },
      };
    } catch (error) {
      if (isRampartError(error) && error.code === 'device.not_found') return undefined;
      throw error;
    }
  }

  /** Held state for `id`, loading (once, however many ask) when not held. */
  function lookup(id: string): Promise<HeldDevice | undefined> {
    const current = held.get(id);
    if (current !== undefined) return Promise.resolve(current);
    let pending = loading.get(id);
    if (pending === undefined) {
      pending = read(id)
        .then((device) => {
          if (device !== undefined && !closed && !held.has(id)) held.set(id, device);
          return held.get(id) ?? device;
        })
        .finally(() => loading.delete(id));
      loading.set(id, pending);
    }
    return pending;
  }

  /** Re-reads one held device and works out what a change revoked. */
  async function recheck(id: string): Promise<void> {
    const before = held.get(id);
    if (before === undefined) return;
    const after = await read(id);
    if (held.get(id) !== before) return; // another re-check got there first
    if (after === undefined) {
      held.delete(id);
      revoked(id, 'removed');
      return;
    }
    if (after.revision === before.revision) return;
    const since = { ...before.since };
    const what: string[] = [];
    if (before.enabled !== after.enabled) {
      since.enabled = after.revision;
      if (!after.enabled) what.push('disabled');
    }
    for (const name of KEY_NAMES) {
      if (!before.keys[name].utf8.equals(after.keys[name].utf8)) {
        since[name] = after.revision;
        what.push(`${name} key rotated`);
      }
    }
    const sameThumbprints = before.thumbprints.size === after.thumbprints.size && [...before.thumbprints].every((t) => after.thumbprints.has(t));
    if (!sameThumbprints) {
      since.certificate = after.revision;
      what.push('certificates changed');
    }
    held.set(id, { ...after, since, verified: new Map() });
    if (what.length > 0) revoked(id, what.join(', '));
  }

  async function refresh(): Promise<void> {
    const ids = [...held.keys()];
    for (let i = 0; i < ids.length; i += POLL_CHUNK) {
      const chunk = ids.slice(i, i + POLL_CHUNK);
      const rows = await db.selectFrom('devices').select(['id', 'revision']).where('id', 'in', chunk).execute();
      const revisions = new Map(rows.map((r) => [r.id, r.revision]));
      const changed = chunk.filter((id) => revisions.get(id) !== held.get(id)?.revision);
      for (const id of changed) await recheck(id);
    }
  }

  let polling = false;
  const timer = setInterval(() => {
    if (polling || closed) return;
    polling = true;
    refresh()
      .catch((error: unknown) => logger.warn({ err: error }, 'device revocation poll failed; retrying'))
      .finally(() => (polling = false));
  }, options.pollIntervalMs ?? POLL_INTERVAL_MS);
  timer.unref();

  const unsubscribe = registry.onChange((id) => {
    if (!held.has(id)) return;
    recheck(id).catch((error: unknown) => logger.warn({ err: error, device: id }, 'device re-check failed; the poll will retry'));
  });

  function parse(token: string, requireKeyName: boolean): ParsedSasToken {
    try {
      return parseSasToken(token, { requireKeyName });
    } catch (error) {
      if (error instanceof SasTokenMalformedError) throw new DeviceAuthError('malformed', error.message);
      throw error;
    }
  }

  function candidateKeys(parsed: ParsedSasToken): readonly KeyName[] {
    if (parsed.keyName === undefined) return KEY_NAMES;
    if ((KEY_NAMES as readonly string[]).includes(parsed.keyName)) return [parsed.keyName as KeyName];
    return [];
  }

  return {
    async verifySas(token: string, resource: string, request: { readonly deviceId: string; readonly keyEncodings: readonly KeyEncoding[]; readonly requireKeyName?: boolean }): Promise<AuthenticatedDevice> {
      const requireKeyName = request.requireKeyName === true;
      const remembered = held.get(request.deviceId);
      // What the token was checked under is part of the key: a token remembered without the skn requirement proves nothing with it.
      const memo = `${resource}\n${request.keyEncodings.join(',')}\n${requireKeyName ? 'skn' : ''}\n${token}`;
      const hit = remembered?.enabled === true ? remembered.verified.get(memo) : undefined;
      if (remembered !== undefined && hit !== undefined) {
        if (hit.expiresAt > nowSeconds()) return { id: remembered.id, kind: remembered.kind, depot: remembered.depot, credential: hit.credential, expiresAt: hit.expiresAt, revision: remembered.revision };
        remembered.verified.delete(memo);
      }
      const parsed = parse(token, requireKeyName);
      const refusal = checkSasClaims(parsed, { requestedPath: resource, allowedHosts: config.sasHosts, nowSeconds: nowSeconds(), maxLifetimeSeconds: config.maxTokenLifetimeSeconds });
      if (refusal !== undefined) throw new DeviceAuthError(refusal, `token for ${parsed.resource.slice(0, 200)} refused for ${resource.slice(0, 200)}`);
      const device = await lookup(request.deviceId);
      if (device === undefined) throw new DeviceAuthError('unknown_device', `no device ${request.deviceId.slice(0, 128)}`);
      if (!device.enabled) throw new DeviceAuthError('disabled', `device ${device.id} is disabled`);
      let credential: KeyName | undefined;
      // Every candidate is tried even after a match, so timing says nothing about which key it was.
      for (const name of candidateKeys(parsed)) {
        for (const encoding of request.keyEncodings) {
          if (verifySasSignature(parsed, device.keys[name][encoding])) credential ??= name;
        }
      }
      if (credential === undefined) throw new DeviceAuthError('bad_signature', `signature does not match a key of ${device.id}${parsed.keyName === undefined ? '' : ` (skn ${parsed.keyName})`}`);
      if (held.get(device.id) === device) {
        if (device.verified.size >= VERIFIED_PER_DEVICE) device.verified.clear();
        device.verified.set(memo, { credential, expiresAt: parsed.expiresAt });
      }
      return { id: device.id, kind: device.kind, depot: device.depot, credential, expiresAt: parsed.expiresAt, revision: device.revision };
    },

    async verifyCertificate(deviceId: string, thumbprint: string, notAfter: number): Promise<AuthenticatedDevice> {
      const device = await lookup(deviceId);
      if (device === undefined) throw new DeviceAuthError('unknown_device', `no device ${deviceId.slice(0, 128)}`);
      if (!device.enabled) throw new DeviceAuthError('disabled', `device ${device.id} is disabled`);
      if (!device.thumbprints.has(thumbprint.toLowerCase())) throw new DeviceAuthError('unknown_certificate', `certificate ${thumbprint.slice(0, 64)} is not registered to ${device.id}`);
      if (notAfter <= nowSeconds()) throw new DeviceAuthError('expired', `certificate of ${device.id} expired`);
      return { id: device.id, kind: device.kind, depot: device.depot, credential: 'certificate', expiresAt: notAfter, revision: device.revision };
    },

    stillValid(device: AuthenticatedDevice): boolean {
      const current = held.get(device.id);
      if (current === undefined || !current.enabled) return false;
      if (device.expiresAt <= nowSeconds()) return false;
      return current.since.enabled <= device.revision && current.since[device.credential] <= device.revision;
    },

    onRevoked(listener: (deviceId: string) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    close(): void {
      closed = true;
      clearInterval(timer);
      unsubscribe();
      held.clear();
    },

    refresh,
  };
}
