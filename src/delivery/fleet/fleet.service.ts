import type { Kysely } from 'kysely';
import { type AuditedChange, type JsonValue, recordChange } from '../../audit/append.ts';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Db } from '../../storage/database.ts';
import { containsPattern, idOrNameContains, pageAfterKey } from '../../storage/listing.ts';
import type { FleetUnitStatus, Tables } from '../../storage/tables.ts';
import { checkName, checkPositive, checkText, diff, invalid, UNIT_ID_PATTERN } from '../checks.ts';
import { loadDepot } from '../depots/depots.service.ts';

// The fleet: trucks (`vehicles`, each with its telematics device) and drones
// (each with its own device), both belonging to a depot; and driver profiles
// (an account with the `driver` role and its home depot). A linked device
// must be registered, of the unit's kind, in the unit's depot, and linked to
// no other unit. Every change audited in its transaction.

export const UNIT_KINDS = ['vehicle', 'drone'] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];
export const UNIT_STATUSES = ['active', 'inactive'] as const;
export const MAX_PAYLOAD_KG = 100_000;
export const MAX_RANGE_KM = 1_000;

export interface FleetUnitView {
  readonly id: string;
  readonly kind: UnitKind;
  readonly name: string;
  readonly depotId: string;
  readonly deviceId: string | null;
  readonly status: FleetUnitStatus;
  readonly maxPayloadKg: number;
  /** Vehicles: the registration plate. */
  readonly plate?: string | null;
  /** Drones: the range on a full battery. */
  readonly maxRangeKm?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NewFleetUnit {
  readonly id: string;
  readonly name: string;
  readonly depotId: string;
  readonly deviceId?: string | null | undefined;
  readonly maxPayloadKg: number;
  readonly plate?: string | null | undefined;
  readonly maxRangeKm?: number | undefined;
}

export interface FleetUnitPatch {
  readonly name?: string | undefined;
  readonly depotId?: string | undefined;
  /** null unlinks the device. */
  readonly deviceId?: string | null | undefined;
  readonly status?: FleetUnitStatus | undefined;
  readonly maxPayloadKg?: number | undefined;
  readonly plate?: string | null | undefined;
  readonly maxRangeKm?: number | undefined;
}

export interface FleetQuery {
  readonly depots?: readonly string[] | undefined;
  readonly depot?: string | undefined;
  readonly status?: FleetUnitStatus | undefined;
  readonly q?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface DriverView {
  readonly accountId: string;
  readonly username: string;
  readonly accountStatus: 'setup_required' | 'active' | 'disabled';
  readonly homeDepotId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const SPEC = {
  vehicle: { table: 'vehicles', deviceKind: 'truck', notFound: 'vehicle.not_found', taken: 'vehicle.id_taken' },
  drone: { table: 'drones', deviceKind: 'drone', notFound: 'drone.not_found', taken: 'drone.id_taken' },
} as const;

interface UnitRow {
  id: string;
  name: string;
  depot_id: string;
  device_id: string | null;
  status: FleetUnitStatus;
  max_payload_kg: number;
  plate?: string | null;
  max_range_km?: number;
  created_at: string;
  updated_at: string;
}

function unitView(kind: UnitKind, row: UnitRow): FleetUnitView {
  return {
    id: row.id,
    kind,
    name: row.name,
    depotId: row.depot_id,
    deviceId: row.device_id,
    status: row.status,
    maxPayloadKg: row.max_payload_kg,
    ...(kind === 'vehicle' ? { plate: row.plate ?? null } : { maxRangeKm: row.max_range_km ?? 0 }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function facts(unit: FleetUnitView): Record<string, JsonValue> {
  return { name: unit.name, depot: unit.depotId, device: unit.deviceId, status: unit.status, maxPayloadKg: unit.maxPayloadKg, ...(unit.kind === 'vehicle' ? { plate: unit.plate ?? null } : { maxRangeKm: unit.maxRangeKm ?? 0 }) };
}

// Both tables share their common columns; Kysely is given the vehicles table's
// type for them, and the kind-specific columns are written per kind.
function unitTable(kind: UnitKind): 'vehicles' {
  return SPEC[kind].table as 'vehicles';
}

async function loadUnit(db: Kysely<Tables>, kind: UnitKind, id: string): Promise<FleetUnitView> {
  const row = (await db.selectFrom(unitTable(kind)).selectAll().where('id', '=', id).executeTakeFirst()) as UnitRow | undefined;
  if (row === undefined) throw new RampartError(SPEC[kind].notFound, `no ${kind} ${id}`);
  return unitView(kind, row);
}

function checkUnitFields(kind: UnitKind, input: NewFleetUnit | FleetUnitPatch): void {
  if (input.name !== undefined) checkName(input.name);
  if (input.maxPayloadKg !== undefined) checkPositive(input.maxPayloadKg, MAX_PAYLOAD_KG, 'The maximum payload (kg)');
  if (kind === 'vehicle' && input.maxRangeKm !== undefined) throw invalid('Only drones have a maximum range.');
  if (kind === 'drone' && input.plate != null) throw invalid('Only vehicles have a plate.');
  if (input.maxRangeKm !== undefined) checkPositive(input.maxRangeKm, MAX_RANGE_KM, 'The maximum range (km)');
  if (input.plate != null) checkText(input.plate, 20, 'The plate');
}

export class FleetRegistry {
  readonly #db: Db;
  readonly #clock: Clock;

  constructor(options: { db: Db; clock: Clock }) {
    this.#db = options.db;
    this.#clock = options.clock;
  }

  /** A device may be linked when it is registered, of the right kind, in the depot, and free. */
  async #checkDevice(trx: Kysely<Tables>, kind: UnitKind, unitId: string, deviceId: string, depotId: string): Promise<void> {
    const device = await trx.selectFrom('devices').select(['kind', 'depot']).where('id', '=', deviceId).executeTakeFirst();
    const refuse = (why: string) => new RampartError('fleet.device_invalid', `device ${deviceId}: ${why}`, { publicDetail: why });
    if (device === undefined) throw refuse(`No device ${deviceId} is registered.`);
    if (device.kind !== SPEC[kind].deviceKind) throw refuse(`A ${kind} links a device of kind ${SPEC[kind].deviceKind}; ${deviceId} is a ${device.kind}.`);
    if (device.depot !== depotId) throw refuse(`Device ${deviceId} belongs to depot ${device.depot}, not ${depotId}.`);
    for (const other of UNIT_KINDS) {
      const holder = await trx.selectFrom(unitTable(other)).select('id').where('device_id', '=', deviceId).where('id', '!=', other === kind ? unitId : '').executeTakeFirst();
      if (holder !== undefined) throw refuse(`Device ${deviceId} is already linked to ${other} ${holder.id}.`);
    }
  }

  async addUnit(kind: UnitKind, input: NewFleetUnit, change: AuditedChange): Promise<FleetUnitView> {
    if (!new RegExp(UNIT_ID_PATTERN).test(input.id)) throw invalid('Ids are 1–64 characters: letters, digits, ".", "_", ":" and "-", starting with a letter or digit.');
    checkUnitFields(kind, input);
    if (kind === 'drone' && input.maxRangeKm === undefined) throw invalid('A drone needs its maximum range (km).');
    try {
      return await this.#db.transaction().execute(async (trx) => {
        await loadDepot(trx, input.depotId);
        if ((await trx.selectFrom(unitTable(kind)).select('id').where('id', '=', input.id).executeTakeFirst()) !== undefined) throw new RampartError(SPEC[kind].taken, `${kind} ${input.id} exists`);
        if (input.deviceId != null) await this.#checkDevice(trx, kind, input.id, input.deviceId, input.depotId);
        const now = this.#clock.now().toISOString();
        const common = { id: input.id, name: input.name, depot_id: input.depotId, device_id: input.deviceId ?? null, status: 'active' as const, max_payload_kg: input.maxPayloadKg, created_at: now, updated_at: now };
        if (kind === 'vehicle') await trx.insertInto('vehicles').values({ ...common, plate: input.plate ?? null }).execute();
        else await trx.insertInto('drones').values({ ...common, max_range_km: input.maxRangeKm ?? 0 }).execute();
        const unit = await loadUnit(trx, kind, input.id);
        await recordChange(trx, this.#clock, change, `${kind}.create`, { type: kind, id: input.id }, facts(unit));
        return unit;
      });
    } catch (error) {
      if (!(error instanceof RampartError) && (await this.#db.selectFrom(unitTable(kind)).select('id').where('id', '=', input.id).executeTakeFirst()) !== undefined) {
        throw new RampartError(SPEC[kind].taken, `${kind} ${input.id} exists`, { cause: error });
      }
      throw error;
    }
  }

  getUnit(kind: UnitKind, id: string): Promise<FleetUnitView> {
    return loadUnit(this.#db, kind, id);
  }

  async updateUnit(kind: UnitKind, id: string, patch: FleetUnitPatch, change: AuditedChange): Promise<FleetUnitView> {
    checkUnitFields(kind, patch);
    if (patch.status !== undefined && !(UNIT_STATUSES as readonly string[]).includes(patch.status)) throw invalid(`The status is one of ${UNIT_STATUSES.join(', ')}.`);
    return this.#db.transaction().execute(async (trx) => {
      const before = await loadUnit(trx, kind, id);
      const depotId = patch.depotId ?? before.depotId;
      if (patch.depotId !== undefined) await loadDepot(trx, patch.depotId);
      const deviceId = patch.deviceId === undefined ? before.deviceId : patch.deviceId;
      if (deviceId !== null && (deviceId !== before.deviceId || depotId !== before.depotId)) await this.#checkDevice(trx, kind, id, deviceId, depotId);
      const set = {
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(patch.depotId === undefined ? {} : { depot_id: patch.depotId }),
        ...(patch.deviceId === undefined ? {} : { device_id: patch.deviceId }),
        ...(patch.status === undefined ? {} : { status: patch.status }),
        ...(patch.maxPayloadKg === undefined ? {} : { max_payload_kg: patch.maxPayloadKg }),
        updated_at: this.#clock.now().toISOString(),
      };
      if (kind === 'vehicle') await trx.updateTable('vehicles').set({ ...set, ...(patch.plate === undefined ? {} : { plate: patch.plate }) }).where('id', '=', id).execute();
      else await trx.updateTable('drones').set({ ...set, ...(patch.maxRangeKm === undefined ? {} : { max_range_km: patch.maxRangeKm }) }).where('id', '=', id).execute();
      const after = await loadUnit(trx, kind, id);
      await recordChange(trx, this.#clock, change, `${kind}.update`, { type: kind, id }, diff(facts(before), facts(after)));
      return after;
    });
  }

  /** Sorted by id. */
  async listUnits(kind: UnitKind, query: FleetQuery): Promise<{ items: FleetUnitView[]; nextCursor: string | null }> {
    if (query.depots !== undefined && query.depots.length === 0) return { items: [], nextCursor: null };
    let select = this.#db.selectFrom(unitTable(kind)).selectAll().orderBy('id').limit(query.limit + 1);
    if (query.depots !== undefined) select = select.where('depot_id', 'in', [...query.depots]);
    if (query.depot !== undefined) select = select.where('depot_id', '=', query.depot);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    if (query.cursor !== undefined) select = select.where('id', '>', query.cursor);
    const q = query.q;
    if (q !== undefined && q !== '') select = select.where((eb) => idOrNameContains(eb, q));
    const rows = (await select.execute()) as UnitRow[];
    return pageAfterKey(rows, query.limit, (row) => row.id, (row) => unitView(kind, row));
  }

  async getDriver(accountId: string): Promise<DriverView> {
    return loadDriver(this.#db, accountId);
  }

  /** Creates or changes the driver profile of an account with the `driver` role. */
  async setDriver(accountId: string, homeDepotId: string, change: AuditedChange): Promise<DriverView> {
    return this.#db.transaction().execute(async (trx) => {
      const account = await trx.selectFrom('accounts').select(['id', 'role']).where('id', '=', accountId).executeTakeFirst();
      if (account === undefined) throw new RampartError('driver.not_found', `no account ${accountId}`);
      if (account.role !== 'driver') throw new RampartError('driver.not_eligible', `account ${accountId} is a ${account.role}`, { publicDetail: 'Only accounts with the driver role have a driver profile.' });
      await loadDepot(trx, homeDepotId);
      const before = await trx.selectFrom('driver_profiles').select('home_depot_id').where('account_id', '=', accountId).executeTakeFirst();
      const now = this.#clock.now().toISOString();
      if (before === undefined) await trx.insertInto('driver_profiles').values({ account_id: accountId, home_depot_id: homeDepotId, created_at: now, updated_at: now }).execute();
      else await trx.updateTable('driver_profiles').set({ home_depot_id: homeDepotId, updated_at: now }).where('account_id', '=', accountId).execute();
      await recordChange(trx, this.#clock, change, 'driver.profile_set', { type: 'account', id: accountId }, { before: before?.home_depot_id ?? null, after: homeDepotId });
      return loadDriver(trx, accountId);
    });
  }

  /** Driver profiles of accounts that still have the driver role, sorted by username. */
  async listDrivers(query: FleetQuery): Promise<{ items: DriverView[]; nextCursor: string | null }> {
    if (query.depots !== undefined && query.depots.length === 0) return { items: [], nextCursor: null };
    let select = driverSelect(this.#db).orderBy('accounts.username').limit(query.limit + 1);
    if (query.depots !== undefined) select = select.where('driver_profiles.home_depot_id', 'in', [...query.depots]);
    if (query.depot !== undefined) select = select.where('driver_profiles.home_depot_id', '=', query.depot);
    if (query.cursor !== undefined) select = select.where('accounts.username', '>', query.cursor);
    if (query.q !== undefined && query.q !== '') select = select.where('accounts.username', 'like', containsPattern(query.q));
    const rows = await select.execute();
    const page = rows.slice(0, query.limit).map(driverView);
    return { items: page, nextCursor: rows.length > query.limit ? (page.at(-1)?.username ?? null) : null };
  }
}

function driverSelect(db: Kysely<Tables>) {
  return db
    .selectFrom('driver_profiles')
    .innerJoin('accounts', 'accounts.id', 'driver_profiles.account_id')
    .select(['driver_profiles.account_id', 'accounts.username', 'accounts.status', 'driver_profiles.home_depot_id', 'driver_profiles.created_at', 'driver_profiles.updated_at'])
    .where('accounts.role', '=', 'driver');
}

function driverView(row: { account_id: string; username: string; status: DriverView['accountStatus']; home_depot_id: string; created_at: string; updated_at: string }): DriverView {
  return { accountId: row.account_id, username: row.username, accountStatus: row.status, homeDepotId: row.home_depot_id, createdAt: row.created_at, updatedAt: row.updated_at };
}

export async function loadDriver(db: Kysely<Tables>, accountId: string): Promise<DriverView> {
  const row = await driverSelect(db).where('driver_profiles.account_id', '=', accountId).executeTakeFirst();
  if (row === undefined) throw new RampartError('driver.not_found', `no driver profile for ${accountId}`);
  return driverView(row);
}

/**
 * Whether a driver account may be planned for: any enabled one, whether it is
 * active or still awaiting its own setup (a new hire's first route is planned
 * before they first sign in), never a disabled one.
 */
export const plannableDriverStatus = (status: DriverView['accountStatus']): boolean => status !== 'disabled';

/** Refuses a driver who may not take shipments of `depotId`: disabled, not a driver, no profile, or another home depot. */
export async function checkDriverFor(trx: Kysely<Tables>, driverId: string, depotId: string): Promise<void> {
  const row = await driverSelect(trx).where('driver_profiles.account_id', '=', driverId).executeTakeFirst();
  const refuse = (why: string) => new RampartError('driver.not_eligible', `driver ${driverId}: ${why}`, { publicDetail: why });
  if (row === undefined) throw refuse('The account is not a driver with a driver profile.');
  if (!plannableDriverStatus(row.status)) throw refuse('The driver\'s account is disabled.');
  if (row.home_depot_id !== depotId) throw refuse(`The driver's home depot is ${row.home_depot_id}, not the shipment's depot ${depotId}.`);
}
