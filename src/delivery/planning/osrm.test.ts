import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { RoutingError, type RoutingFailure } from './errors.ts';
import { DEPOT, offset, START } from '../../../test/support/planning.ts';
import { distanceMetres, type GeoPoint } from './geo.ts';
import type { MatrixLocation } from './matrix.ts';
import { planRoute } from './optimise.ts';
import { osrmMatrixProvider } from './osrm.ts';

// A small stand-in for OSRM's `table` service on a loopback port.

interface FakeOsrm {
  readonly url: string;
  readonly requests: URL[];
  close(): Promise<void>;
}

const servers: FakeOsrm[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function fakeOsrm(handler: (request: IncomingMessage, response: ServerResponse, url: URL) => void): Promise<FakeOsrm> {
  const requests: URL[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    requests.push(url);
    handler(request, response, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  servers.push(fake);
  return fake;
}

const coordinatesOf = (url: URL): GeoPoint[] =>
  decodeURIComponent(url.pathname.split('/').at(-1) ?? '')
    .split(';')
    .map((pair) => {
      const [lon, lat] = pair.split(',').map(Number);
      return { lon: lon!, lat: lat! };
    });

const json = (response: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
};

/** The same place, as far as six decimals (the request's precision) tell. */
const same = (a: GeoPoint, b: GeoPoint) => Math.abs(a.lat - b.lat) < 1e-6 && Math.abs(a.lon - b.lon) < 1e-6;

/** Answers like OSRM: an n×n table for the coordinates in the path, each cell from `road` (null: no route). */
const table = (road: (from: GeoPoint, to: GeoPoint) => number | null) => (_: IncomingMessage, response: ServerResponse, url: URL) => {
  const points = coordinatesOf(url);
  const distances = points.map((a) => points.map((b) => (a === b ? 0 : road(a, b))));
  const waypoints = points.map((p) => ({ hint: 'x', distance: 0.5, name: 'Street', location: [p.lon, p.lat] }));
  json(response, 200, { code: 'Ok', durations: distances.map((row) => row.map((d) => (d === null ? null : d / 12.5))), distances, sources: waypoints, destinations: waypoints });
};

const locations = (...points: GeoPoint[]): MatrixLocation[] => points.map((point, i) => ({ id: i === 0 ? 'depot' : `s${i}`, point }));
const failsWith = (reason: RoutingFailure, fragment?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof RoutingError, `expected a RoutingError, got ${String(error)}`);
  assert.equal(error.code, 'planning.routing_failed');
  assert.equal(error.reason, reason, error.message);
  if (fragment !== undefined) assert.match(error.message, fragment);
  return true;
};

describe('OSRM matrix adapter', () => {
  test('asks the table service for durations and distances, coordinates as lon,lat in location order', async () => {
    const fake = await fakeOsrm(table((a, b) => distanceMetres(a, b) * 1.3));
    const provider = osrmMatrixProvider({ baseUrl: `${fake.url}/`, timeoutMs: 2000 });
    const a = { lat: 52.517037, lon: 13.38886 };
    const b = { lat: 52.529407, lon: 13.397634 };
    const matrix = await provider.matrix(locations(DEPOT, a, b));
    assert.equal(fake.requests.length, 1);
    const url = fake.requests[0]!;
    assert.equal(url.pathname, '/table/v1/driving/13.405000,52.520000;13.388860,52.517037;13.397634,52.529407');
    assert.equal(url.searchParams.get('annotations'), 'duration,distance');
    assert.equal(matrix.provider, 'osrm');
    assert.equal(matrix.distancesMetres[1]![2], distanceMetres(a, b) * 1.3);
    assert.equal(matrix.durationsSeconds[1]![2], (distanceMetres(a, b) * 1.3) / 12.5);
    assert.equal(matrix.distancesMetres[2]![2], 0);
  });

  test('keeps a path prefix of the base URL', async () => {
    const fake = await fakeOsrm(table((a, b) => distanceMetres(a, b)));
    await osrmMatrixProvider({ baseUrl: `${fake.url}/osrm`, timeoutMs: 2000 }).matrix(locations(DEPOT, offset(DEPOT, 1, 1)));
    assert.match(fake.requests[0]!.pathname, /^\/osrm\/table\/v1\/driving\//);
  });

  test('the optimiser plans on the road matrix, not on straight lines', async () => {
    // Stops on three corners of a 1 km square, the depot on the fourth. By road, s1 and s2 have swapped places:
    // the straight-line best order (s1, s2, s3) is 41 % longer by road than the road's best (s2, s1, s3).
    const s1 = offset(DEPOT, 1, 0);
    const s2 = offset(DEPOT, 1, 1);
    const s3 = offset(DEPOT, 0, 1);
    const roadPosition = (p: GeoPoint) => (same(p, s1) ? s2 : same(p, s2) ? s1 : p);
    const fake = await fakeOsrm(table((a, b) => distanceMetres(roadPosition(a), roadPosition(b))));
    const stops = [s1, s2, s3].map((point, i) => ({ id: `s${i + 1}`, point }));
    const byRoad = await planRoute({ depot: DEPOT, stops, startAt: START }, osrmMatrixProvider({ baseUrl: fake.url, timeoutMs: 2000 }));
    assert.equal(byRoad.provider, 'osrm');
    const order = byRoad.stops.map((s) => s.id).join(',');
    assert.ok(order === 's2,s1,s3' || order === 's3,s1,s2', order);
    const roadLength = byRoad.totalDistanceMetres;
    const straightLength = [DEPOT, ...byRoad.stops.map((s) => s.point), DEPOT].reduce((sum, p, i, all) => (i === 0 ? 0 : sum + distanceMetres(all[i - 1]!, p)), 0);
    assert.ok(roadLength < straightLength * 0.85, `planned ${roadLength} m by road; the same order is ${straightLength} m in straight lines`);
    assert.ok(Math.abs(byRoad.stops[0]!.leg.distanceMetres - distanceMetres(DEPOT, roadPosition(byRoad.stops[0]!.point))) < 0.01, 'the first leg is the road distance');
    assert.equal(byRoad.stops[0]!.leg.durationSeconds, Math.round((byRoad.stops[0]!.leg.distanceMetres / 12.5) * 1000) / 1000);
  });

  test('reports pairs without a road route by location id', async () => {
    const island = offset(DEPOT, 5, 5);
    const fake = await fakeOsrm(table((a, b) => (same(a, island) || same(b, island) ? null : distanceMetres(a, b))));
    await assert.rejects(osrmMatrixProvider({ baseUrl: fake.url, timeoutMs: 2000 }).matrix(locations(DEPOT, offset(DEPOT, 1, 0), island)), (error: unknown) => {
      failsWith('no_route', /depot → s2/)(error);
      assert.deepEqual((error as RoutingError).unreachable, [{ from: 'depot', to: 's2' }, { from: 's1', to: 's2' }, { from: 's2', to: 'depot' }, { from: 's2', to: 's1' }]);
      return true;
    });
  });

  test('turns an OSRM error code into a typed error naming it', async () => {
    const fake = await fakeOsrm((_, response) => json(response, 400, { code: 'InvalidQuery', message: 'Query string malformed close to position 28' }));
    await assert.rejects(osrmMatrixProvider({ baseUrl: fake.url, timeoutMs: 2000 }).matrix(locations(DEPOT, offset(DEPOT, 1, 0))), (error: unknown) => {
      failsWith('rejected', /InvalidQuery \(HTTP 400\): Query string malformed/)(error);
      assert.equal((error as RoutingError).osrmCode, 'InvalidQuery');
      return true;
    });
    const notOk = await fakeOsrm((_, response) => json(response, 200, { code: 'NoTable' }));
    await assert.rejects(osrmMatrixProvider({ baseUrl: notOk.url, timeoutMs: 2000 }).matrix(locations(DEPOT, offset(DEPOT, 1, 0))), failsWith('rejected', /NoTable/));
  });

  test('gives up after the timeout, whether the server never answers or stalls in the body', async () => {
    const silent = await fakeOsrm(() => undefined);
    // The fake never answers: only the provider's own deadline can end the request.
    await assert.rejects(osrmMatrixProvider({ baseUrl: silent.url, timeoutMs: 200 }).matrix(locations(DEPOT, offset(DEPOT, 1, 0))), failsWith('timeout', /200 ms/));
    const stalling = await fakeOsrm((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"code":"Ok","durations":[[0,');
    });
    await assert.rejects(osrmMatrixProvider({ baseUrl: stalling.url, timeoutMs: 200 }).matrix(locations(DEPOT, offset(DEPOT, 1, 0))), failsWith('timeout'));
  });

  test('refuses garbage: a body that is not JSON, a matrix of the wrong shape, an HTTP error page', async () => {
    const two = locations(DEPOT, offset(DEPOT, 1, 0));
    const html = await fakeOsrm((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>hello</html>');
    });
    await assert.rejects(osrmMatrixProvider({ baseUrl: html.url, timeoutMs: 2000 }).matrix(two), failsWith('malformed', /not JSON/));
    const shape = await fakeOsrm((_, response) => json(response, 200, { code: 'Ok', durations: [[0]], distances: [[0, 1], [1, 0]] }));
    await assert.rejects(osrmMatrixProvider({ baseUrl: shape.url, timeoutMs: 2000 }).matrix(two), failsWith('malformed', /`durations`/));
    const negative = await fakeOsrm((_, response) => json(response, 200, { code: 'Ok', durations: [[0, 1], [1, 0]], distances: [[0, -5], [1, 0]] }));
    await assert.rejects(osrmMatrixProvider({ baseUrl: negative.url, timeoutMs: 2000 }).matrix(two), failsWith('malformed', /`distances`/));
    const gateway = await fakeOsrm((_, response) => {
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('Bad Gateway');
    });
    await assert.rejects(osrmMatrixProvider({ baseUrl: gateway.url, timeoutMs: 2000 }).matrix(two), failsWith('http_status', /HTTP 502/));
  });

  test('abandons a response larger than the limit, declared or streamed', async () => {
    const two = locations(DEPOT, offset(DEPOT, 1, 0));
    const padding = 'x'.repeat(4096);
    const declared = await fakeOsrm((_, response) => json(response, 200, { code: 'Ok', padding }));
    await assert.rejects(osrmMatrixProvider({ baseUrl: declared.url, timeoutMs: 2000, maxResponseBytes: 1024 }).matrix(two), failsWith('oversize', /declares/));
    const streamed = await fakeOsrm((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(`{"code":"Ok","padding":"${padding}`);
      response.end('"}');
    });
    await assert.rejects(osrmMatrixProvider({ baseUrl: streamed.url, timeoutMs: 2000, maxResponseBytes: 1024 }).matrix(two), failsWith('oversize', /exceeds/));
  });

  test('refuses more locations than one request may carry, without sending it', async () => {
    const fake = await fakeOsrm(table((a, b) => distanceMetres(a, b)));
    const many = Array.from({ length: 101 }, (_, i) => ({ id: `l${i}`, point: offset(DEPOT, i / 10, 0) }));
    await assert.rejects(osrmMatrixProvider({ baseUrl: fake.url, timeoutMs: 2000 }).matrix(many), failsWith('too_many_locations', /at most 100/));
    assert.equal(fake.requests.length, 0);
  });

  test('reports a server that cannot be reached', async () => {
    const gone = await fakeOsrm(() => undefined);
    await gone.close();
    await assert.rejects(osrmMatrixProvider({ baseUrl: gone.url, timeoutMs: 2000 }).matrix(locations(DEPOT, offset(DEPOT, 1, 0))), failsWith('network'));
  });

  test('a caller\'s abort rejects with the caller\'s reason, not a routing error', async () => {
    const silent = await fakeOsrm(() => undefined);
    const controller = new AbortController();
    const pending = osrmMatrixProvider({ baseUrl: silent.url, timeoutMs: 5000 }).matrix(locations(DEPOT, offset(DEPOT, 1, 0)), { signal: controller.signal });
    const reason = new Error('dispatcher cancelled');
    controller.abort(reason);
    await assert.rejects(pending, (error: unknown) => error === reason);
  });

  test('refuses a base URL that is not http(s)', () => {
    assert.throws(() => osrmMatrixProvider({ baseUrl: 'ftp://osrm.example', timeoutMs: 1000 }), RangeError);
    assert.throws(() => osrmMatrixProvider({ baseUrl: 'http://osrm.example/?x=1', timeoutMs: 1000 }), RangeError);
  });
});
