import type { DeviceKind, DeviceRegistry } from '../../devices/registry.ts';
import { createUser, findUserId, getUser, type UserDeps } from '../../identity/users.ts';
import { isRampartError, RampartError } from '../../kernel/errors.ts';
import type { AuditedChange } from '../../audit/append.ts';
import type { Delivery } from '../delivery.ts';
import type { UnitKind } from '../fleet/fleet.service.ts';
import type { RoutingFailure } from '../planning/index.ts';
import type { RouteService } from '../routes/routes.service.ts';
import { DEMO_DEPOTS, DEMO_DISPATCHER, DEMO_DRIVERS, DEMO_DRONES, DEMO_ROUTES, DEMO_TRUCKS, demoRouteReferences, demoServiceArea, demoShipments, type DemoAccount, type DemoUnit } from './world.ts';

// Seeds the Contoso demo world through the domain services, so every row is
// checked, audited and (recipients) encrypted exactly as in operation. Each
// item is looked up first and created only when missing: a second run
// creates nothing, and a run cut short is completed by the next. Routes are
// planned by the route service like a dispatcher's, for drivers who have not
// signed in yet (they may be planned for while awaiting their own setup).
// A route is planned on the day its shipments' windows fall, read from the
// stored shipments, so a run on a later day completes the same world.

export const DEMO_PHASES = ['depots', 'devices', 'fleet', 'accounts', 'shipments', 'routes'] as const;
export type DemoPhase = (typeof DEMO_PHASES)[number];

export interface DemoProgress {
  readonly phase: DemoPhase;
  readonly done: number;
  readonly total: number;
}

export interface DemoSeedDeps {
  readonly delivery: Delivery;
  readonly devices: DeviceRegistry;
  readonly users: UserDeps;
  /** Plans the routes (createRoutes(…).routes): its travel matrices come from `planning`, falling back to great-circle distances. */
  readonly routes: RouteService;
  readonly change: AuditedChange;
  readonly onProgress?: (progress: DemoProgress) => void;
}

export interface DemoSetupCode {
  readonly username: string;
  readonly role: DemoAccount['role'];
  readonly setupCode: string;
  readonly expiresAt: string;
}

export interface DemoSeedReport {
  /** What this run created; all zero when the world was already there. */
  readonly created: { depots: number; devices: number; drones: number; vehicles: number; accounts: number; drivers: number; shipments: number; routes: number };
  /** One-time setup codes of the accounts this run created (shown once). */
  readonly setupCodes: readonly DemoSetupCode[];
  /** The first new shipment of each depot and its public tracking path (the token is shown once). */
  readonly trackingSamples: ReadonlyArray<{ readonly reference: string; readonly trackingNumber: string; readonly path: string }>;
  /** The seed's day (`YYYY-MM-DD`, UTC): new shipments have their windows on it or the day after. */
  readonly day: string;
  /** Set when road routing failed and this run's routes were planned with great-circle distances instead. */
  readonly routeFallbackReason?: RoutingFailure;
}

export function alreadySeeded(report: DemoSeedReport): boolean {
  return Object.values(report.created).every((n) => n === 0);
}

/** Undefined when the lookup says "not found" (`code`); any other failure is thrown. */
async function existing<T>(lookup: () => Promise<T>, code: string): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (error) {
    if (isRampartError(error) && error.code === code) return undefined;
    throw error;
  }
}

const deviceKindOf = (kind: UnitKind): DeviceKind => (kind === 'drone' ? 'drone' : 'truck');

/**
 * Devices or accounts that exist with the names the demo uses but could not
 * serve it (another kind, depot or role) refuse the seed before anything is
 * written. A device `rampart simulate` registered on its own sits in depot
 * `sim-depot`, so it cannot be linked to a demo unit.
 */
async function refuseConflicts(deps: DemoSeedDeps, units: ReadonlyArray<{ kind: UnitKind; unit: DemoUnit }>, accounts: readonly DemoAccount[]): Promise<void> {
  const problems: string[] = [];
  for (const { kind, unit } of units) {
    const deviceKind = deviceKindOf(kind);
    const device = await existing(() => deps.devices.get(unit.deviceId), 'device.not_found');
    if (device !== undefined && (device.kind !== deviceKind || device.depot !== unit.depotId)) problems.push(`device ${unit.deviceId} is a ${device.kind} in depot ${device.depot}; the demo needs a ${deviceKind} in depot ${unit.depotId}`);
  }
  for (const account of accounts) {
    const id = await existing(() => findUserId(deps.users.db, account.username), 'route.not_found');
    const role = id === undefined ? undefined : (await getUser(deps.users.db, id)).role;
    if (role !== undefined && role !== account.role) problems.push(`account ${account.username} has the role ${role}; the demo needs the role ${account.role}`);
  }
  if (problems.length > 0) {
    const why = `The demo cannot use what this data directory holds: ${problems.join('; ')}. Seed the demo into a fresh data directory.`;
    throw new RampartError('request.invalid', why, { publicDetail: why });
  }
}

export async function seedDemo(deps: DemoSeedDeps): Promise<DemoSeedReport> {
  const { delivery, devices, users, change } = deps;
  const created = { depots: 0, devices: 0, drones: 0, vehicles: 0, accounts: 0, drivers: 0, shipments: 0, routes: 0 };
  const report = (phase: DemoPhase, done: number, total: number) => deps.onProgress?.({ phase, done, total });
  const day = delivery.clock.now().toISOString().slice(0, 10);
  const units: ReadonlyArray<{ kind: UnitKind; unit: DemoUnit }> = [...DEMO_DRONES.map((unit) => ({ kind: 'drone' as const, unit })), ...DEMO_TRUCKS.map((unit) => ({ kind: 'vehicle' as const, unit }))];
  const accounts = [DEMO_DISPATCHER, ...DEMO_DRIVERS];
  await refuseConflicts(deps, units, accounts);

  for (const [i, depot] of DEMO_DEPOTS.entries()) {
    if ((await existing(() => delivery.depots.get(depot.id), 'depot.not_found')) === undefined) {
      await delivery.depots.add({ id: depot.id, name: depot.name, location: depot.location, serviceArea: demoServiceArea(depot) }, change);
      created.depots++;
    }
    report('depots', i + 1, DEMO_DEPOTS.length);
  }

  // The simulator's own devices, registered in the depots of the units they serve.
  for (const [i, { kind, unit }] of units.entries()) {
    if ((await existing(() => devices.get(unit.deviceId), 'device.not_found')) === undefined) {
      await devices.add({ id: unit.deviceId, kind: deviceKindOf(kind), name: unit.name, depot: unit.depotId }, change);
      created.devices++;
    }
    report('devices', i + 1, units.length);
  }

  for (const [i, { kind, unit }] of units.entries()) {
    const notFound = kind === 'drone' ? 'drone.not_found' : 'vehicle.not_found';
    if ((await existing(() => delivery.fleet.getUnit(kind, unit.id), notFound)) === undefined) {
      await delivery.fleet.addUnit(
        kind,
        { id: unit.id, name: unit.name, depotId: unit.depotId, deviceId: unit.deviceId, maxPayloadKg: unit.maxPayloadKg, ...(unit.plate === undefined ? {} : { plate: unit.plate }), ...(unit.maxRangeKm === undefined ? {} : { maxRangeKm: unit.maxRangeKm }) },
        change,
      );
      if (kind === 'drone') created.drones++;
      else created.vehicles++;
    }
    report('fleet', i + 1, units.length);
  }

  const setupCodes: DemoSetupCode[] = [];
  const accountIds = new Map<string, string>();
  for (const [i, account] of accounts.entries()) {
    let accountId = await existing(() => findUserId(users.db, account.username), 'route.not_found');
    if (accountId === undefined) {
      const made = await createUser(users, change, { username: account.username, role: account.role, ...(account.depots === undefined ? {} : { depots: [...account.depots] }) });
      accountId = made.user.id;
      setupCodes.push({ username: made.user.username, role: account.role, setupCode: made.setupCode, expiresAt: made.setupCodeExpiresAt });
      created.accounts++;
    }
    accountIds.set(account.username, accountId);
    const homeDepotId = account.homeDepotId;
    if (homeDepotId !== undefined && (await existing(() => delivery.fleet.getDriver(accountId), 'driver.not_found')) === undefined) {
      await delivery.fleet.setDriver(accountId, homeDepotId, change);
      created.drivers++;
    }
    report('accounts', i + 1, accounts.length);
  }

  const planned = DEMO_DEPOTS.flatMap((depot) => demoShipments(depot, day));
  const references = planned.map((s) => s.reference ?? '');
  const present = new Set((await delivery.db.selectFrom('shipments').select('reference').where('reference', 'in', references).execute()).map((r) => r.reference));
  const trackingSamples: Array<{ reference: string; trackingNumber: string; path: string }> = [];
  const sampled = new Set<string>();
  for (const [i, shipment] of planned.entries()) {
    if (!present.has(shipment.reference)) {
      const made = await delivery.shipments.create(shipment, change);
      created.shipments++;
      if (!sampled.has(shipment.depotId)) {
        sampled.add(shipment.depotId);
        trackingSamples.push({ reference: shipment.reference ?? '', trackingNumber: made.shipment.trackingNumber, path: `/t/${made.trackingToken}` });
      }
    }
    report('shipments', i + 1, planned.length);
  }

  let routeFallbackReason: RoutingFailure | undefined;
  for (const [i, route] of DEMO_ROUTES.entries()) {
    const driverId = accountIds.get(route.driver);
    if (driverId === undefined) throw new Error(`demo route for unknown driver ${route.driver}`);
    const references = demoRouteReferences(route);
    const rows = await delivery.db.selectFrom('shipments').select(['id', 'reference', 'window_start']).where('depot_id', '=', route.depotId).where('reference', 'in', references).execute();
    const stops = references.map((reference) => {
      const row = rows.find((r) => r.reference === reference);
      if (row === undefined) throw new Error(`demo shipment ${reference} missing after the shipments phase`);
      return row;
    });
    const date = new Date(stops[0]?.window_start ?? day).toISOString().slice(0, 10);
    const shipmentIds = stops.map((s) => s.id);
    if ((await deps.routes.forDriver(driverId, date)) === undefined) {
      const planned = await deps.routes.create({ driverId, vehicleId: route.vehicleId, date, shipmentIds, optimise: true, fallback: true }, change);
      routeFallbackReason ??= planned.fallbackReason;
      created.routes++;
    }
    report('routes', i + 1, DEMO_ROUTES.length);
  }

  return { created, setupCodes, trackingSamples, day, ...(routeFallbackReason === undefined ? {} : { routeFallbackReason }) };
}
