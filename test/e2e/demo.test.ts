import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { createDelivery } from '../../src/delivery/delivery.ts';
import { proofSettings } from '../../src/delivery/proof/settings.ts';
import { seedDemo } from '../../src/delivery/demo/seed.ts';
import { addDays, DEMO_DEPOTS, DEMO_DRIVERS, DEMO_ROUTES, DEMO_TRUCKS, demoShipments, RURAL_DEPOT, URBAN_DEPOT } from '../../src/delivery/demo/world.ts';
import { createRoutes } from '../../src/delivery/routes/index.ts';
import { DeviceRegistry } from '../../src/devices/registry.ts';
import { Sessions } from '../../src/identity/sessions.ts';
import { simulatedId } from '../../src/simulate/fleet.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { lockHolder } from '../../src/kernel/lockfile.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { childEnv, runCli, withCliDatabase } from '../support/cli.ts';
import { defaultProofSettings, testConfig } from '../support/config.ts';
import { routeSnapshot } from '../support/routes.ts';
import { tempDir } from '../support/tmp.ts';
import { until } from '../support/wait.ts';

// `rampart demo seed` as a newcomer runs it: the Contoso world through the
// domain services (audited with the CLI actor, recipients encrypted, one
// route per driver planned by the route service before anyone signed in),
// the same world on a second run with nothing added, a run cut short
// completed by the next, and a refusal that writes nothing when the data
// directory holds something the demo cannot use. Then `npm run demo`'s
// script, briefly: seeded, served, simulated, stopped by Ctrl-C.

const CREATED = /created 2 depot\(s\), 10 device\(s\), 4 drone\(s\), 6 vehicle\(s\), 9 account\(s\), 8 driver profile\(s\), 60 shipment\(s\) \(windows on (\d{4}-\d{2}-\d{2}) and (\d{4}-\d{2}-\d{2}), UTC\), 8 planned route\(s\)/;

/** The demo's routes as stored: each with its driver, van and stops' shipments. */
async function storedRoutes(database: Database) {
  const db = database.db;
  const routes = await db
    .selectFrom('routes')
    .innerJoin('accounts', 'accounts.id', 'routes.driver_id')
    .select(['routes.id', 'routes.depot_id', 'routes.driver_id', 'routes.vehicle_id', 'routes.service_date', 'routes.status', 'routes.total_distance_m', 'routes.total_duration_s', 'routes.departure_at', 'routes.return_at', 'accounts.username', 'accounts.status as account_status'])
    .orderBy('accounts.username')
    .execute();
  return Promise.all(
    routes.map(async (route) => ({
      ...route,
      stops: await db
        .selectFrom('route_stops')
        .innerJoin('shipments', 'shipments.id', 'route_stops.shipment_id')
        .select(['route_stops.sequence', 'route_stops.status as stop_status', 'route_stops.planned_eta', 'shipments.reference', 'shipments.depot_id', 'shipments.mode', 'shipments.status', 'shipments.assigned_driver_id', 'shipments.window_start'])
        .where('route_stops.route_id', '=', route.id)
        .orderBy('route_stops.sequence')
        .execute(),
    })),
  );
}

const DEMO_SCRIPT = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));

describe('rampart demo seed', () => {
  const dir = tempDir('rampart-demo');
  const masterKey = randomBytes(32).toString('base64');
  const env = { RAMPART_MASTER_KEY: masterKey };
  const cli = (...args: string[]) => runCli(args, { cwd: dir.path, env });
  let first: Awaited<ReturnType<typeof cli>>;

  async function snapshot(): Promise<string> {
    return withCliDatabase(dir.path, async (database) => {
      const db = database.db;
      const [accounts, devices, audit] = await Promise.all([
        db.selectFrom('accounts').select(['id', 'username', 'role', 'status', 'depot_scope']).orderBy('id').execute(),
        db.selectFrom('devices').select(['id', 'kind', 'depot', 'revision']).orderBy('id').execute(),
        db.selectFrom('audit_entries').select(['seq', 'action']).orderBy('seq', 'desc').limit(1).execute(),
      ]);
      return JSON.stringify({ delivery: await routeSnapshot(db), accounts, devices, audit });
    });
  }

  before(async () => {
    assert.equal((await cli('migrate', 'up')).code, 0);
    first = await cli('demo', 'seed');
  });
  after(() => dir.cleanup());

  test('creates the Contoso world: 2 depots, 4 drones, 6 trucks, 8 drivers, a dispatcher, 60 shipments and 8 planned routes', async () => {
    assert.equal(first.code, 0, first.stderr);
    const [, day, nextDay] = CREATED.exec(first.stdout) ?? [];
    assert.ok(day !== undefined && nextDay === addDays(day, 1), first.stdout);
    assert.match(first.stderr, /shipments .*60\/60/, 'progress on stderr');
    assert.match(first.stderr, /routes .*8\/8/);
    await withCliDatabase(dir.path, async ({ db }) => {
      const depots = await db.selectFrom('depots').select(['id', 'service_area']).orderBy('id').execute();
      assert.deepEqual(depots.map((d) => d.id), DEMO_DEPOTS.map((d) => d.id).sort());
      assert.ok(depots.every((d) => d.service_area !== null), 'each depot has a service area');

      const drones = await db.selectFrom('drones').select(['id', 'depot_id', 'device_id']).orderBy('id').execute();
      const vehicles = await db.selectFrom('vehicles').select(['id', 'depot_id', 'device_id']).orderBy('id').execute();
      assert.equal(drones.length, 4);
      assert.equal(vehicles.length, 6);
      assert.deepEqual(drones.map((d) => d.device_id), [1, 2, 3, 4].map((n) => simulatedId('drone', n)), 'the simulator\'s drones');
      assert.deepEqual(vehicles.map((v) => v.device_id).sort(), [1, 2, 3, 4, 5, 6].map((n) => simulatedId('truck', n)), 'the simulator\'s trucks');
      assert.deepEqual(Object.fromEntries(DEMO_DEPOTS.map((d) => [d.id, vehicles.filter((v) => v.depot_id === d.id).length])), { [URBAN_DEPOT.id]: 4, [RURAL_DEPOT.id]: 2 });
      const devices = await db.selectFrom('devices').select(['id', 'kind', 'depot']).execute();
      for (const unit of [...drones, ...vehicles]) assert.equal(devices.find((d) => d.id === unit.device_id)?.depot, unit.depot_id, `${unit.id}'s device is in its depot`);

      const drivers = await db.selectFrom('driver_profiles').innerJoin('accounts', 'accounts.id', 'driver_profiles.account_id').select(['accounts.username', 'accounts.role', 'driver_profiles.home_depot_id']).execute();
      assert.equal(drivers.length, 8);
      assert.ok(drivers.every((d) => d.role === 'driver'));
      const dispatcher = await db.selectFrom('accounts').select(['role', 'depot_scope', 'status']).where('username', '=', 'dana').executeTakeFirstOrThrow();
      assert.equal(dispatcher.role, 'dispatcher');
      assert.deepEqual((JSON.parse(dispatcher.depot_scope ?? '[]') as string[]).sort(), DEMO_DEPOTS.map((d) => d.id).sort());
      assert.equal(dispatcher.status, 'setup_required', 'no password is set for anyone: each account starts from a setup code');

      const shipments = await db.selectFrom('shipments').select(['depot_id', 'mode', 'status', 'window_start']).execute();
      assert.equal(shipments.length, 60);
      const count = (depot: string, mode: string, date: string) => shipments.filter((s) => s.depot_id === depot && s.mode === mode && s.window_start.startsWith(date)).length;
      assert.deepEqual(
        { cityToday: count(URBAN_DEPOT.id, 'truck', day), cityTomorrow: count(URBAN_DEPOT.id, 'truck', nextDay), baseVans: count(RURAL_DEPOT.id, 'truck', day), baseDrones: count(RURAL_DEPOT.id, 'drone', day) },
        { cityToday: 20, cityTomorrow: 12, baseVans: 8, baseDrones: 20 },
      );
      assert.equal(shipments.filter((s) => s.mode === 'truck' && s.status === 'assigned').length, 40, 'every van shipment is on a route');
      assert.ok(shipments.filter((s) => s.mode === 'drone').every((s) => s.status === 'created'), 'drone shipments wait for their missions');

      const audit = await db.selectFrom('audit_entries').select(['action', 'actor_type']).where('action', 'in', ['depot.create', 'device.create', 'drone.create', 'vehicle.create', 'user.create', 'driver.profile_set', 'shipment.create', 'route.create', 'shipment.assign']).execute();
      assert.equal(audit.length, 2 + 10 + 4 + 6 + 9 + 8 + 60 + 8 + 40, 'every row created and every assignment has its audit entry');
      assert.ok(audit.every((e) => e.actor_type === 'cli'));
    });
    assert.equal((await cli('audit', 'verify')).code, 0);
  });

  test('plans one route per driver before anyone signed in: stops are the driver\'s depot shipments on the route\'s day, with totals', async () => {
    const [, day] = CREATED.exec(first.stdout) ?? [];
    assert.ok(day !== undefined);
    await withCliDatabase(dir.path, async (database) => {
      const routes = await storedRoutes(database);
      assert.equal(routes.length, 8);
      assert.deepEqual(routes.map((r) => r.username), DEMO_DRIVERS.map((d) => d.username).sort(), 'each driver exactly one route');
      assert.deepEqual(routes.map((r) => r.service_date).sort(), [...Array<string>(6).fill(day), ...Array<string>(2).fill(addDays(day, 1))]);
      const vehicles = await database.db.selectFrom('vehicles').select(['id', 'depot_id']).execute();
      const profiles = await database.db.selectFrom('driver_profiles').select(['account_id', 'home_depot_id']).execute();
      for (const route of routes) {
        const want = DEMO_ROUTES.find((r) => r.driver === route.username);
        assert.ok(want !== undefined);
        assert.equal(route.status, 'planned');
        assert.equal(route.account_status, 'setup_required', `${route.username} has not signed in yet`);
        assert.equal(route.depot_id, profiles.find((p) => p.account_id === route.driver_id)?.home_depot_id, `${route.username}'s home depot`);
        assert.equal(route.vehicle_id, want.vehicleId);
        assert.equal(vehicles.find((v) => v.id === route.vehicle_id)?.depot_id, route.depot_id, `${route.username}'s van is in the depot`);
        assert.equal(route.service_date, addDays(day, want.dayOffset));
        assert.ok(route.total_distance_m > 0 && route.total_duration_s > 0, `${route.username}'s totals`);
        assert.ok(route.departure_at < route.return_at, `${route.username} returns after leaving`);
        assert.equal(route.stops.length, want.stops);
        assert.deepEqual(route.stops.map((s) => s.sequence), route.stops.map((_, i) => i + 1));
        for (const stop of route.stops) {
          assert.equal(stop.depot_id, route.depot_id, `${stop.reference ?? ''} of ${route.username}'s depot`);
          assert.equal(stop.mode, 'truck');
          assert.equal(stop.window_start.slice(0, 10), route.service_date, `${stop.reference ?? ''} on the route's day`);
          assert.deepEqual([stop.stop_status, stop.status, stop.assigned_driver_id], ['pending', 'assigned', route.driver_id]);
          assert.ok(!Number.isNaN(Date.parse(stop.planned_eta)));
        }
      }
      const vansPerDay = new Set(routes.map((r) => `${r.service_date} ${r.vehicle_id}`));
      assert.equal(vansPerDay.size, 8, 'no van on two routes of a day');
      assert.ok(DEMO_TRUCKS.every((t) => routes.some((r) => r.vehicle_id === t.id && r.service_date === day)), 'every van out today');
    });
  });

  test('prints each account\'s one-time setup code and no password', () => {
    const codes = [...first.stdout.matchAll(/^ {4}(\S+)\s+(driver|dispatcher)\s+([0-9A-Z]{4}(?:-[0-9A-Z]{4}){7})\s/gm)];
    assert.equal(codes.length, 9);
    assert.equal(codes.filter((c) => c[2] === 'driver').length, 8);
    assert.doesNotMatch(first.stdout, /password:/i);
  });

  test('stores recipients only encrypted; they decrypt to the demo\'s fictional recipients', async () => {
    const day = /windows on (\d{4}-\d{2}-\d{2})/.exec(first.stdout)?.[1] ?? '';
    const expected = DEMO_DEPOTS.flatMap((d) => demoShipments(d, day));
    // The database files as they lie on disk: no recipient appears in clear.
    const files = readdirSync(join(dir.path, 'data')).map((name) => readFileSync(join(dir.path, 'data', name)).toString('latin1')).join('\n');
    assert.ok(files.includes('Contoso Cambridge city depot'), 'the search sees what is stored in clear');
    for (const s of expected) {
      assert.ok(!files.includes(s.recipient.name), `${s.reference ?? ''}: name not in clear`);
      assert.ok(!files.includes(s.recipient.address), `${s.reference ?? ''}: address not in clear`);
      if (s.recipient.phone !== null) assert.ok(!files.includes(s.recipient.phone), `${s.reference ?? ''}: phone not in clear`);
    }
    await withCliDatabase(dir.path, async (database) => {
      const rows = await database.db.selectFrom('shipments').select(['id', 'reference', 'recipient_name', 'recipient_phone', 'recipient_address']).execute();
      for (const row of rows) {
        assert.match(row.recipient_name, /^rk1\./);
        assert.match(row.recipient_address, /^rk1\./);
        if (row.recipient_phone !== null) assert.match(row.recipient_phone, /^rk1\./);
      }
      const keyring = await Keyring.open({ database, masterKey: Buffer.from(masterKey, 'base64'), clock: systemClock, columns: ENCRYPTED_COLUMNS });
      const delivery = createDelivery({ db: database.db, keyring, clock: systemClock, proof: defaultProofSettings() });
      for (const row of rows) {
        const want = expected.find((s) => s.reference === row.reference);
        assert.ok(want !== undefined, row.reference ?? '');
        assert.deepEqual(await delivery.shipments.recipient(row.id), want.recipient);
      }
    });
  });

  test('a second run changes nothing and says it is already seeded', async () => {
    const before = await snapshot();
    const again = await cli('demo', 'seed');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already seeded/);
    assert.doesNotMatch(again.stdout, /setup code/i, 'no new codes for existing accounts');
    assert.equal(await snapshot(), before);
  });

  test('a run cut short while planning routes is completed by the next, which plans only the missing routes', async () => {
    const other = tempDir('rampart-demo-partial');
    const otherCli = (...args: string[]) => runCli(args, { cwd: other.path, env });
    try {
      assert.equal((await otherCli('migrate', 'up')).code, 0);
      const config = testConfig(join(other.path, 'data'));
      const database = await openDatabase(config, createMemoryLogger('warn').logger);
      const cutShort = new Error('cut short after the third route');
      try {
        const { db } = database;
        const keyring = await Keyring.open({ database, masterKey: Buffer.from(masterKey, 'base64'), clock: systemClock, columns: ENCRYPTED_COLUMNS });
        const delivery = createDelivery({ db, keyring, clock: systemClock, proof: proofSettings(config) });
        const seeding = seedDemo({
          delivery,
          devices: new DeviceRegistry({ db, keyring, clock: systemClock }),
          users: { db, clock: systemClock, sessions: new Sessions({ db, clock: systemClock, config: config.identity.sessions }), setupCodeTtlHours: config.bootstrap.setupCodeTtlHours },
          routes: createRoutes({ delivery, planning: config.planning }).routes,
          change: { actor: { type: 'cli', id: 'demo-test', authMethod: 'local_shell' } },
          onProgress: (p) => {
            if (p.phase === 'routes' && p.done === 3) throw cutShort;
          },
        });
        await assert.rejects(seeding, cutShort);
        assert.equal((await db.selectFrom('routes').select('id').execute()).length, 3);
      } finally {
        await database.close();
      }
      const completed = await otherCli('demo', 'seed');
      assert.equal(completed.code, 0, completed.stderr);
      assert.match(completed.stdout, /created 0 depot\(s\), 0 device\(s\), 0 drone\(s\), 0 vehicle\(s\), 0 account\(s\), 0 driver profile\(s\), 0 shipment\(s\) .*, 5 planned route\(s\)/);
      const reopened = await openDatabase(config, createMemoryLogger('warn').logger);
      try {
        const routes = await storedRoutes(reopened);
        assert.deepEqual(routes.map((r) => r.username), DEMO_DRIVERS.map((d) => d.username).sort(), 'each driver exactly one route');
        assert.equal(routes.flatMap((r) => r.stops).length, 40);
      } finally {
        await reopened.close();
      }
      assert.match((await otherCli('demo', 'seed')).stdout, /already seeded/);
    } finally {
      other.cleanup();
    }
  });

  test('a data directory whose devices or accounts the demo cannot use is refused with a clear error; nothing is written', async () => {
    const other = tempDir('rampart-demo-conflict');
    const otherCli = (...args: string[]) => runCli(args, { cwd: other.path, env });
    try {
      assert.equal((await otherCli('migrate', 'up')).code, 0);
      // What `rampart simulate` registers on its own, and a username the demo wants for a driver.
      assert.equal((await otherCli('device', 'add', simulatedId('truck', 2), '--kind', 'truck', '--name', 'Simulated', '--depot', 'sim-depot')).code, 0);
      assert.equal((await otherCli('user', 'create', 'hugo', '--role', 'auditor')).code, 0);
      const trail = async () => (await otherCli('audit', 'export')).stdout.split('\n').slice(1).join('\n');
      const before = await trail();
      const refused = await otherCli('demo', 'seed');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /request\.invalid/);
      assert.match(refused.stderr, /device sim-truck-002 is a truck in depot sim-depot; the demo needs a truck in depot contoso-cambridge/);
      assert.match(refused.stderr, /account hugo has the role auditor; the demo needs the role driver/);
      assert.match(refused.stderr, /fresh data directory/);
      assert.equal(await trail(), before, 'nothing audited');
      assert.match((await otherCli('depot', 'list')).stdout, /^$/, 'no depot written');
    } finally {
      other.cleanup();
    }
  });
});

describe('npm run demo', () => {
  test('generates a private master key, seeds, serves and simulates; Ctrl-C stops the simulators and the server cleanly', { timeout: 60_000 }, async () => {
    const dir = tempDir('rampart-demo-script');
    const dataDir = join(dir.path, 'demo');
    // On a failure part-way, Ctrl-C the demo all the same, so no server or simulator outlives the test.
    let stopDemo = (): Promise<unknown> => Promise.resolve();
    try {
      // Free ports instead of the defaults, so the test runs beside anything else; the script creates the key.
      mkdirSync(dataDir, { mode: 0o700 });
      writeFileSync(join(dataDir, 'rampart.config.json'), JSON.stringify({ dataDir, keyring: { masterKeyFile: join(dataDir, 'master.key') }, planes: { app: { port: 0 }, device: { port: 0 }, admin: { port: 0 } }, mqtt: { port: 0 }, log: { level: 'warn' } }));
      const child = spawn(process.execPath, [DEMO_SCRIPT, '--dir', dataDir], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      stopDemo = () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        return exited;
      };
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the demo did not start in time:\n${stdout}\n${stderr}`)), 30_000);
        const settle = (outcome?: Error) => {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          if (outcome === undefined) resolve();
          else reject(outcome);
        };
        const onData = () => {
          if (stdout.includes('Contoso Shipping demo is running')) settle();
        };
        child.stdout.on('data', onData);
        void exited.then((code) => settle(new Error(`the demo exited early (${code}):\n${stdout}\n${stderr}`)));
      });
      const server = lockHolder(dataDir);
      assert.ok(server !== undefined, 'a server holds the data directory');
      // Stop once the server has stored enough of both simulators' readings (vans over HTTP, drones over MQTT),
      // a little more than the counts checked below, so requests in flight at the stop cannot decide the test.
      const metrics = `${/admin plane\s+(http:\/\/[\w.:[\]]+)/.exec(stdout)?.[1] ?? ''}/metrics`;
      const stored = (text: string, protocol: string) => [...text.matchAll(new RegExp(`^rampart_ingest_events_total\\{[^}]*protocol="${protocol}"[^}]*\\} (\\d+)`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
      await until(async () => {
        const text = await (await fetch(metrics)).text();
        return stored(text, 'mqtt') >= 12 && stored(text, 'https') >= 8 ? true : undefined;
      }, 30_000);
      child.kill('SIGINT');
      assert.equal(await exited, 0, `${stdout}\n${stderr}`);

      assert.match(stdout, CREATED);
      assert.match(stdout, /First start: administrator account "admin" created/);
      const drones = /drones: sent (\d+), acknowledged (\d+), refused (\d+)/.exec(stdout);
      const vans = /vans: sent (\d+), acknowledged (\d+), refused (\d+)/.exec(stdout);
      assert.ok(drones !== null && vans !== null, stdout);
      assert.ok(Number(drones[2]) >= 10 && drones[3] === '0', `drones: ${drones[0]}`);
      assert.ok(Number(vans[2]) >= 6 && vans[3] === '0', `vans: ${vans[0]}`);
      assert.match(stdout, /stopped\.\n$/);
      assert.equal(lockHolder(dataDir), undefined, 'the server is gone and released the data directory');
      assert.throws(() => process.kill(server, 0), /ESRCH/);

      const keyFile = join(dataDir, 'master.key');
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      const key = readFileSync(keyFile, 'utf8').trim();
      assert.equal(Buffer.from(key, 'base64').length, 32);
      assert.ok(!stdout.includes(key) && !stderr.includes(key), 'the master key is never printed');
    } finally {
      await stopDemo();
      dir.cleanup();
    }
  });
});
