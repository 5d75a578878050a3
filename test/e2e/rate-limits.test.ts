import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';
import { routeWorld, type RouteWorld } from '../support/routes.ts';

// The configured `perimeter.rateLimits` reach the routes they name: each limit
// here is smaller than the default (30 a minute) and has its own window, and
// only the injected clock moves time.

const LIMITS = {
  tracking: { requests: 2, windowSeconds: 10 },
  receipts: { requests: 3, windowSeconds: 20 },
  driver: { requests: 2, windowSeconds: 5 },
};

describe('configured rate limits', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  let world: RouteWorld;

  before(async () => {
    rampart = await startTestRampart({ perimeter: { rateLimits: LIMITS } });
    admin = await signInAdmin(rampart);
    world = await routeWorld(rampart, admin, { drivers: ['pdriver'], tag: 'p' });
  });
  after(() => rampart.stop());

  /** Status and Retry-After of each of `count` requests. */
  async function statuses(count: number, send: () => Promise<Response>): Promise<Array<[number, string | null]>> {
    const out: Array<[number, string | null]> = [];
    for (let i = 0; i < count; i++) {
      const response = await send();
      await response.arrayBuffer();
      out.push([response.status, response.headers.get('retry-after')]);
    }
    return out;
  }

  test('the tracking page allows the configured lookups per window, then 429 until the window ends', async () => {
    const look = () => fetch(`${rampart.url}/t/${'C'.repeat(43)}`);
    assert.deepEqual(await statuses(3, look), [[404, null], [404, null], [429, '10']]);
    rampart.clock.advance(9_000);
    assert.deepEqual(await statuses(1, look), [[429, '1']]);
    rampart.clock.advance(1_000);
    assert.deepEqual(await statuses(1, look), [[404, null]], 'a new window, a new quota');
  });

  test('receipt checks allow the configured checks per window, then 429 until the window ends', async () => {
    const check = () => fetch(`${rampart.url}/r/rcpt_AAAAAAAAAAAAAAAAAAAAAA`);
    assert.deepEqual(await statuses(4, check), [[404, null], [404, null], [404, null], [429, '20']]);
    rampart.clock.advance(20_000);
    assert.deepEqual(await statuses(1, check), [[404, null]], 'a new window, a new quota');
  });

  test('driver location pings allow the configured pings per window, then 429 until the window ends', async () => {
    const [driver] = world.drivers;
    assert.ok(driver);
    const browser = await world.fresh(driver);
    const ping = async (i: number) => (await browser.post('/api/v1/driver/location', { lat: 52.51, lon: 13.41, accuracyM: 8, timestamp: new Date(Date.parse('2026-07-01T10:00:00Z') + i * 1000).toISOString() })).status;
    assert.deepEqual([await ping(0), await ping(1), await ping(2)], [202, 202, 429]);
    rampart.clock.advance(5_000);
    assert.equal(await ping(3), 202, 'a new window, a new quota');
  });
});
