import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { recordChange, type AuditedChange, type JsonValue } from '../audit/append.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import type { Db } from '../storage/database.ts';
import { idOrNameContains, pageAfterKey } from '../storage/listing.ts';
import type { DeviceTable, Tables } from '../storage/tables.ts';

// The device registry, shared by the admin API and `rampart device …`. Keys
// are 32 random bytes (base64), returned once and stored only as keyring
// ciphertexts bound to their row and column. Every change bumps `revision`
// and records its audit entry in the same transaction. Keys are encrypted or
// decrypted before a transaction opens: on SQLite the handle has one
// connection, and the keyring may need it.

export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
export const DEPOT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$';
export const THUMBPRINT_PATTERN = '^[0-9a-f]{64}$';
export const DEVICE_KINDS = ['drone', 'truck'] as const;
export const DEVICE_STATUSES = ['enabled', 'disabled'] as const;
export const KEY_NAMES = ['primary', 'secondary'] as const;
export const MAX_THUMBPRINTS = 10;
export const MAX_NAME_LENGTH = 100;
/** last_seen_at is written at most this often per device. */
export const TOUCH_INTERVAL_MS = 30_000;

export type DeviceKind = (typeof DEVICE_KINDS)[number];
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];
export type KeyName = (typeof KEY_NAMES)[number];

export type DeviceChange = AuditedChange;

export interface DeviceView {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly name: string;
  readonly depot: string;
  readonly status: DeviceStatus;
  readonly thumbprints: string[];
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastSeenAt: string | null;
}

export interface NewDevice {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly name: string;
  readonly depot: string;
}

export interface DeviceQuery {
  readonly depot?: string;
  /** Only these depots (a dispatcher's scope); undefined: all. */
  readonly depots?: readonly string[];
  readonly kind?: DeviceKind;
  readonly status?: DeviceStatus;
  /** Only these devices. */
  readonly ids?: readonly string[];
  /** Part of the id or name, any case. */
  readonly q?: string;
  readonly limit: number;
  /** The last id of the previous page. */
  readonly cursor?: string;
}

export interface DeviceKeys {
  readonly primaryKey: string;
  readonly secondaryKey: string;
}

export interface DeviceRegistryOptions {
  readonly db: Db;
  readonly keyring: Keyring;
  readonly clock: Clock;
  /** Called after a change commits (the device's id), e.g. so an authenticator re-checks at once. */
  readonly onChange?: (deviceId: string) => void;
}

const VIEW_COLUMNS = ['id', 'kind', 'name', 'depot', 'status', 'thumbprints', 'revision', 'created_at', 'updated_at', 'last_seen_at'] as const;
type ViewRow = Pick<DeviceTable, 'id' | 'kind' | 'name' | 'depot' | 'status' | 'thumbprints' | 'revision' | 'created_at' | 'updated_at'> & { last_seen_at: string | null };

function view(row: ViewRow): DeviceView {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    depot: row.depot,
    status: row.status,
    thumbprints: JSON.parse(row.thumbprints) as string[],
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastSeenAt: row.last_seen_at,
  };
}

function invalid(message: string): RampartError {
  return new RampartError('request.invalid', message, { publicDetail: message });
}

/** Stored text must not drive a terminal or a log line. */
export function hasControl(text: string): boolean {
  return Array.from(text).some((c) => {
    const code = c.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
  });
}

export function checkDeviceId(id: string): void {
  if (!new RegExp(DEVICE_ID_PATTERN).test(id)) throw invalid('Device ids are 1–128 characters: letters, digits, ".", "_", ":" and "-", starting with a letter or digit.');
}

function checkNewDevice(input: NewDevice): void {
  checkDeviceId(input.id);
  if (!(DEVICE_KINDS as readonly string[]).includes(input.kind)) throw invalid(`The kind is one of ${DEVICE_KINDS.join(', ')}.`);
  if (input.name.trim() === '' || input.name.length > MAX_NAME_LENGTH || hasControl(input.name)) throw invalid(`The name is 1–${MAX_NAME_LENGTH} printable characters.`);
  if (!new RegExp(DEPOT_PATTERN).test(input.depot)) throw invalid('Depots are 1–64 characters: letters, digits, spaces, ".", "_" and "-", starting with a letter or digit.');
}

function newKey(): string {
  return randomBytes(32).toString('base64');
}

function column(which: KeyName): 'primary_key' | 'secondary_key' {
  return which === 'primary' ? 'primary_key' : 'secondary_key';
}

export class DeviceRegistry {
  readonly #db: Db;
  readonly #keyring: Keyring;
  readonly #clock: Clock;
  readonly #listeners = new Set<(deviceId: string) => void>();
  readonly #touched = new Map<string, number>();

  constructor(options: DeviceRegistryOptions) {
    this.#db = options.db;
    this.#keyring = options.keyring;
    this.#clock = options.clock;
    if (options.onChange !== undefined) this.#listeners.add(options.onChange);
  }

  /** Subscribes to committed changes; returns the unsubscribe function. */
  onChange(listener: (deviceId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(id: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(id);
      } catch {
        // A listener's failure must not turn a committed change into an error.
      }
    }
  }

  #encrypt(id: string, which: KeyName, key: string): Promise<string> {
    return this.#keyring.encryptField({ table: 'devices', column: column(which), rowId: id }, key);
  }

  #audit(trx: Kysely<Tables>, change: DeviceChange, action: string, id: string, details: Record<string, JsonValue> = {}) {
    return recordChange(trx, this.#clock, change, action, { type: 'device', id }, details);
  }

  async #load(trx: Kysely<Tables>, id: string): Promise<ViewRow> {
    const row = await trx.selectFrom('devices').select(VIEW_COLUMNS).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new RampartError('device.not_found', `no device ${id}`);
    return row;
  }

  /** Registers a device; its two keys are returned here and never again in plain text (except by revealKeys). */
  async add(input: NewDevice, change: DeviceChange): Promise<{ device: DeviceView } & DeviceKeys> {
    checkNewDevice(input);
    const primaryKey = newKey();
    const secondaryKey = newKey();
    const [primary, secondary] = await Promise.all([this.#encrypt(input.id, 'primary', primaryKey), this.#encrypt(input.id, 'secondary', secondaryKey)]);
    let device: DeviceView;
    try {
      device = await this.#db.transaction().execute(async (trx) => {
        const taken = await trx.selectFrom('devices').select('id').where('id', '=', input.id).executeTakeFirst();
        if (taken !== undefined) throw new RampartError('device.id_taken', `device id ${input.id} taken`);
        const now = this.#clock.now().toISOString();
        await trx
          .insertInto('devices')
          .values({ id: input.id, kind: input.kind, name: input.name, depot: input.depot, status: 'enabled', primary_key: primary, secondary_key: secondary, thumbprints: '[]', revision: 1, created_at: now, updated_at: now, last_seen_at: null })
          .execute();
        await this.#audit(trx, change, 'device.create', input.id, { kind: input.kind, depot: input.depot });
        return view(await this.#load(trx, input.id));
      });
    } catch (error) {
      // Two registrations of one id racing: the loser sees the primary key violation.
      if (!(error instanceof RampartError) && (await this.#db.selectFrom('devices').select('id').where('id', '=', input.id).executeTakeFirst()) !== undefined) {
        throw new RampartError('device.id_taken', `device id ${input.id} taken`, { cause: error });
      }
      throw error;
    }
    this.#changed(input.id);
    return { device, primaryKey, secondaryKey };
  }

  async get(id: string): Promise<DeviceView> {
    return view(await this.#load(this.#db, id));
  }

  /** Sorted by id; `nextCursor` is the last id of this page when there is more. */
  async list(query: DeviceQuery): Promise<{ items: DeviceView[]; nextCursor: string | null }> {
    if ((query.depots !== undefined && query.depots.length === 0) || (query.ids !== undefined && query.ids.length === 0)) return { items: [], nextCursor: null };
    let select = this.#db.selectFrom('devices').select(VIEW_COLUMNS).orderBy('id').limit(query.limit + 1);
    if (query.depot !== undefined) select = select.where('depot', '=', query.depot);
    if (query.depots !== undefined) select = select.where('depot', 'in', [...query.depots]);
    if (query.kind !== undefined) select = select.where('kind', '=', query.kind);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    if (query.ids !== undefined) select = select.where('id', 'in', [...query.ids]);
    if (query.cursor !== undefined) select = select.where('id', '>', query.cursor);
    const q = query.q;
    if (q !== undefined && q !== '') select = select.where((eb) => idOrNameContains(eb, q));
    return pageAfterKey(await select.execute(), query.limit, (row) => row.id, view);
  }

  async setStatus(id: string, status: DeviceStatus, change: DeviceChange): Promise<DeviceView> {
    if (!(DEVICE_STATUSES as readonly string[]).includes(status)) throw invalid(`The status is one of ${DEVICE_STATUSES.join(', ')}.`);
    const result = await this.#db.transaction().execute(async (trx) => {
      const before = await this.#load(trx, id);
      if (before.status === status) return { device: view(before), changed: false };
      await trx.updateTable('devices').set((eb) => ({ status, revision: eb('revision', '+', 1), updated_at: this.#clock.now().toISOString() })).where('id', '=', id).execute();
      await this.#audit(trx, change, status === 'disabled' ? 'device.disable' : 'device.enable', id, { before: before.status });
      return { device: view(await this.#load(trx, id)), changed: true };
    });
    if (result.changed) this.#changed(id);
    return result.device;
  }

  /** Replaces one key; the old one stops working. Returns the new key (shown once). */
  async rotateKey(id: string, which: KeyName, change: DeviceChange): Promise<{ device: DeviceView; key: string }> {
    if (!(KEY_NAMES as readonly string[]).includes(which)) throw invalid(`The key is one of ${KEY_NAMES.join(', ')}.`);
    await this.#load(this.#db, id);
    const key = newKey();
    const ciphertext = await this.#encrypt(id, which, key);
    const device = await this.#db.transaction().execute(async (trx) => {
      await this.#load(trx, id);
      await trx.updateTable('devices').set((eb) => ({ [column(which)]: ciphertext, revision: eb('revision', '+', 1), updated_at: this.#clock.now().toISOString() })).where('id', '=', id).execute();
      await this.#audit(trx, change, 'device.rotate_key', id, { key: which });
      return view(await this.#load(trx, id));
    });
    this.#changed(id);
    return { device, key };
  }

  /** Both keys in plain text: an access to a secret, audited as such. */
  async revealKeys(id: string, change: DeviceChange): Promise<DeviceKeys> {
    const keys = await this.readKeys(id);
    await this.#db.transaction().execute(async (trx) => {
      await this.#load(trx, id);
      await this.#audit(trx, change, 'device.key_reveal', id, { keys: ['primary', 'secondary'] });
    });
    return { primaryKey: keys.primaryKey, secondaryKey: keys.secondaryKey };
  }

  /** Decrypted keys and the revision they belong to, for authentication (not audited: nothing leaves the process). */
  async readKeys(id: string): Promise<DeviceKeys & { device: DeviceView }> {
    const row = await this.#db.selectFrom('devices').select([...VIEW_COLUMNS, 'primary_key', 'secondary_key']).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new RampartError('device.not_found', `no device ${id}`);
    const [primaryKey, secondaryKey] = await Promise.all([
      this.#keyring.decryptFieldText({ table: 'devices', column: 'primary_key', rowId: id }, row.primary_key),
      this.#keyring.decryptFieldText({ table: 'devices', column: 'secondary_key', rowId: id }, row.secondary_key),
    ]);
    return { device: view(row), primaryKey, secondaryKey };
  }

  /** Records that `change` was given a token made from one of the device's keys. */
  async recordTokenIssued(id: string, details: Record<string, JsonValue>, change: DeviceChange): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await this.#load(trx, id);
      await this.#audit(trx, change, 'device.token_issue', id, details);
    });
  }

  /** Replaces the SHA-256 thumbprints of the device's client certificates. */
  async setThumbprints(id: string, thumbprints: readonly string[], change: DeviceChange): Promise<DeviceView> {
    const normalized = thumbprints.map((t) => t.toLowerCase());
    const pattern = new RegExp(THUMBPRINT_PATTERN);
    if (normalized.length > MAX_THUMBPRINTS || normalized.some((t) => !pattern.test(t)) || new Set(normalized).size !== normalized.length) {
      throw invalid(`Up to ${MAX_THUMBPRINTS} distinct SHA-256 thumbprints, each 64 hex digits.`);
    }
    const device = await this.#db.transaction().execute(async (trx) => {
      const before = await this.#load(trx, id);
      await trx.updateTable('devices').set((eb) => ({ thumbprints: JSON.stringify(normalized), revision: eb('revision', '+', 1), updated_at: this.#clock.now().toISOString() })).where('id', '=', id).execute();
      await this.#audit(trx, change, 'device.thumbprints', id, { before: JSON.parse(before.thumbprints) as string[], after: normalized });
      return view(await this.#load(trx, id));
    });
    this.#changed(id);
    return device;
  }

  /** Notes that the device was seen; writes at most every 30 s per device. */
  async touch(id: string): Promise<void> {
    const now = this.#clock.now().getTime();
    const last = this.#touched.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    this.#touched.set(id, now);
    const cutoff = new Date(now - TOUCH_INTERVAL_MS).toISOString();
    await this.#db
      .updateTable('devices')
      .set({ last_seen_at: new Date(now).toISOString() })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_seen_at', 'is', null), eb('last_seen_at', '<', cutoff)]))
      .execute();
  }
}
