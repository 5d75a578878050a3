import type { Role } from '../../src/identity/rbac.ts';
import { shipmentBody } from './delivery.ts';
import { createSignedInUser, freshSignIn, signIn, signInAdmin, type Browser, type SignedIn, type TestRampart } from './identity.ts';

// Two depots with objects in each, for checking who sees what: a dispatcher
// limited to the north depot, drivers with a route each, an auditor.

export const ACCESS_DATE = '2026-07-01';
const NORTH = { lat: 52.52, lon: 13.405 };
const SOUTH = { lat: 48.137, lon: 11.575 };

export interface AccessWorld {
  readonly users: ReadonlyMap<Role, SignedIn>;
  /** A signed-in browser per role; the dispatcher is limited to `north`, the driver is `driver1`. */
  readonly browsers: ReadonlyMap<Role, Browser>;
  readonly ids: {
    readonly driver1: string;
    readonly driver2: string;
    readonly northShipments: readonly string[];
    /** North, on driver1's route. */
    readonly driver1Shipment: string;
    readonly southShipment: string;
    readonly northDevice: string;
    readonly southDevice: string;
    readonly driver1Route: string;
    readonly driver2Route: string;
    readonly southRoute: string;
  };
}

async function expectStatus<T>(response: Promise<{ status: number; body: T }>, status: number, what: string): Promise<T> {
  const got = await response;
  if (got.status !== status) throw new Error(`${what}: ${got.status} ${JSON.stringify(got.body)}`);
  return got.body;
}

export async function accessWorld(rampart: TestRampart): Promise<AccessWorld> {
  const admin = await signInAdmin(rampart);
  const dispatcher = await createSignedInUser(rampart, admin, 'odisp', 'dispatcher');
  const auditor = await createSignedInUser(rampart, admin, 'oaudit', 'auditor');
  const drivers = [await createSignedInUser(rampart, admin, 'odriver1', 'driver'), await createSignedInUser(rampart, admin, 'odriver2', 'driver'), await createSignedInUser(rampart, admin, 'odriver3', 'driver')];
  const [driver1, driver2, driver3] = drivers as [SignedIn, SignedIn, SignedIn];
  const setup = await freshSignIn(rampart, admin);

  for (const depot of [{ id: 'north', name: 'North', location: NORTH }, { id: 'south', name: 'South', location: SOUTH }]) await expectStatus(setup.post('/api/v1/depots', depot), 201, 'depot');
  for (const [id, depotId] of [['n-van1', 'north'], ['n-van2', 'north'], ['s-van1', 'south']] as const) await expectStatus(setup.post('/api/v1/vehicles', { id, name: id, depotId, maxPayloadKg: 500 }), 201, 'vehicle');
  for (const [driver, homeDepotId] of [[driver1, 'north'], [driver2, 'north'], [driver3, 'south']] as const) await expectStatus(setup.request('PUT', `/api/v1/drivers/${driver.accountId}`, { homeDepotId }), 200, 'driver profile');
  for (const [id, depot] of [['n-dev1', 'north'], ['s-dev1', 'south']] as const) await expectStatus(setup.post('/api/v1/devices', { id, kind: 'truck', name: id, depot }), 201, 'device');

  const window = { start: `${ACCESS_DATE}T08:00:00Z`, end: `${ACCESS_DATE}T18:00:00Z` };
  const shipment = async (depotId: string, at: { lat: number; lon: number }) =>
    (await expectStatus(setup.post<{ shipment: { id: string } }>('/api/v1/shipments', shipmentBody({ depotId, destination: { lat: at.lat + 0.01, lon: at.lon + 0.01 }, window })), 201, 'shipment')).shipment.id;
  const northShipments = [await shipment('north', NORTH), await shipment('north', NORTH), await shipment('north', NORTH)];
  const southShipment = await shipment('south', SOUTH);
  const southRouted = await shipment('south', SOUTH);

  // Routes are made while the dispatcher still sees every depot.
  const planner = await freshSignIn(rampart, dispatcher);
  const route = async (driver: SignedIn, vehicleId: string, shipmentIds: string[]) =>
    (await expectStatus(planner.post<{ id: string }>('/api/v1/routes', { driverId: driver.accountId, vehicleId, date: ACCESS_DATE, shipmentIds }), 201, 'route')).id;
  const driver1Route = await route(driver1, 'n-van1', [northShipments[0] ?? '']);
  const driver2Route = await route(driver2, 'n-van2', [northShipments[1] ?? '']);
  const southRoute = await route(driver3, 's-van1', [southRouted]);
  await expectStatus(setup.request('PUT', `/api/v1/users/${dispatcher.accountId}/depots`, { depots: ['north'] }), 200, 'dispatcher depots');

  const users = new Map<Role, SignedIn>([['admin', admin], ['dispatcher', dispatcher], ['driver', driver1], ['auditor', auditor]]);
  const browsers = new Map<Role, Browser>();
  for (const [role, user] of users) browsers.set(role, await signIn(rampart, user));
  return {
    users,
    browsers,
    ids: {
      driver1: driver1.accountId,
      driver2: driver2.accountId,
      northShipments,
      driver1Shipment: northShipments[0] ?? '',
      southShipment,
      northDevice: 'n-dev1',
      southDevice: 's-dev1',
      driver1Route,
      driver2Route,
      southRoute,
    },
  };
}
