import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from '../../src/storage/database.ts';
import { createTestDevice, outsideRegistry } from './devices.ts';
import { deliverySnapshot, shipmentBody } from './delivery.ts';
import { createSignedInUser, freshSignIn, type Browser, type SignedIn, type TestRampart } from './identity.ts';

// A depot with drivers, vans and shipments for route tests, a fake OSRM
// `table` service, and the snapshot a refused route request must leave as it was.

export const DATE = '2026-07-01';
export const NORTH = { lat: 52.52, lon: 13.405 };

/** Points around the north depot, `km` away at `bearing` degrees. */
export function pointAt(bearing: number, km: number): { lat: number; lon: number } {
  const rad = (bearing * Math.PI) / 180;
  return { lat: NORTH.lat + (km * Math.cos(rad)) / 111.2, lon: NORTH.lon + (km * Math.sin(rad)) / (111.2 * Math.cos((NORTH.lat * Math.PI) / 180)) };
}

export interface RouteWorld {
  readonly dispatcher: SignedIn;
  readonly drivers: SignedIn[];
  fresh(user: SignedIn): Promise<Browser>;
  /** Creates a truck shipment at `point` (window on DATE) and returns its id. */
  shipment(point: { lat: number; lon: number }, overrides?: Record<string, unknown>): Promise<string>;
}

/** Depots north (with vans v1…vN and drivers) and south, set up by the administrator. */
export async function routeWorld(rampart: TestRampart, admin: SignedIn, options: { drivers: string[]; vans?: number; tag?: string }): Promise<RouteWorld> {
  const fresh = (user: SignedIn) => freshSignIn(rampart, user);
  const browser = await fresh(admin);
  for (const depot of [{ id: 'north', name: 'North', location: NORTH }, { id: 'south', name: 'South', location: { lat: 48.137, lon: 11.575 } }]) {
    const created = await browser.post('/api/v1/depots', depot);
    if (created.status !== 201 && created.status !== 409) throw new Error(`depot: ${created.status} ${JSON.stringify(created.body)}`);
  }
  const tag = options.tag ?? 'r';
  for (let i = 1; i <= (options.vans ?? options.drivers.length); i++) {
    const created = await browser.post('/api/v1/vehicles', { id: `${tag}-van${i}`, name: `Van ${i}`, depotId: 'north', maxPayloadKg: 500 });
    if (created.status !== 201) throw new Error(`vehicle: ${created.status} ${JSON.stringify(created.body)}`);
  }
  const dispatcher = await createSignedInUser(rampart, admin, `${tag}disp`, 'dispatcher');
  const drivers: SignedIn[] = [];
  for (const name of options.drivers) {
    const driver = await createSignedInUser(rampart, admin, name, 'driver');
    const profile = await (await fresh(admin)).request('PUT', `/api/v1/drivers/${driver.accountId}`, { homeDepotId: 'north' });
    if (profile.status !== 200) throw new Error(`driver profile: ${profile.status}`);
    drivers.push(driver);
  }
  const creator = await fresh(admin);
  return {
    dispatcher,
    drivers,
    fresh,
    async shipment(point, overrides = {}) {
      const created = await creator.post<{ shipment: { id: string } }>('/api/v1/shipments', shipmentBody({ destination: point, window: { start: `${DATE}T08:00:00Z`, end: `${DATE}T18:00:00Z` }, ...overrides }));
      if (created.status !== 201) throw new Error(`shipment: ${created.status} ${JSON.stringify(created.body)}`);
      return created.body.shipment.id;
    },
  };
}

/** The delivery snapshot plus the route tables. */
export async function routeSnapshot(db: Db): Promise<string> {
  const [delivery, routes, stops, events, missions] = await Promise.all([
    deliverySnapshot(db),
    db.selectFrom('routes').selectAll().orderBy('id').execute(),
    db.selectFrom('route_stops').selectAll().orderBy('id').execute(),
    db.selectFrom('route_events').selectAll().orderBy('id').execute(),
    db.selectFrom('drone_missions').selectAll().orderBy('id').execute(),
  ]);
  return JSON.stringify({ delivery, routes, stops, events, missions });
}

export interface FakeOsrm {
  readonly url: string;
  readonly requests: string[];
  /** When set, every request answers this status with an OSRM error document. */
  failWith: number | undefined;
  close(): Promise<void>;
}

/**
 * OSRM's `table` service on a loopback port: road distance is the straight
 * line times `detour(from, to)` (default 1.5), at 12.5 m/s.
 */
export async function fakeOsrm(detour: (from: { lat: number; lon: number }, to: { lat: number; lon: number }) => number = () => 1.5): Promise<FakeOsrm> {
  const requests: string[] = [];
  const json = (response: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  };
  const fake: FakeOsrm = {
    url: '',
    requests,
    failWith: undefined,
    close: () => Promise.resolve(),
  };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    requests.push(url.pathname);
    if (fake.failWith !== undefined) {
      json(response, fake.failWith, { code: 'InvalidQuery', message: 'refused by the test' });
      return;
    }
    const points = decodeURIComponent(url.pathname.split('/').at(-1) ?? '')
      .split(';')
      .map((pair) => {
        const [lon, lat] = pair.split(',').map(Number);
        return { lat: lat ?? 0, lon: lon ?? 0 };
      });
    const straight = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) => {
      const rad = Math.PI / 180;
      const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
      return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
    };
    const distances = points.map((a, i) => points.map((b, j) => (i === j ? 0 : straight(a, b) * detour(a, b))));
    json(response, 200, { code: 'Ok', distances, durations: distances.map((row) => row.map((d) => d / 12.5)) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(fake, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return fake;
}

export { createTestDevice, outsideRegistry };
