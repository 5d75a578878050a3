import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { createDelivery } from '../../src/delivery/delivery.ts';
import { DEMO_DEPOTS, demoShipments } from '../../src/delivery/demo/world.ts';
import { simulatedId } from '../../src/simulate/fleet.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { lockHolder } from '../../src/kernel/lockfile.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { childEnv, runCli } from '../support/cli.ts';
import { testConfig } from '../support/config.ts';
import { deliverySnapshot } from '../support/delivery.ts';
import { tempDir } from '../support/tmp.ts';

// `rampart demo seed` as a newcomer runs it: the Contoso world through the
// domain services (audited with the CLI actor, recipients encrypted), the
// same world on a second run with nothing added, and a refusal that writes
// nothing when the data directory holds something the demo cannot use. Then
// `npm run demo`'s script, briefly: seeded, served, simulated, stopped by Ctrl-C.

const DEMO_SCRIPT = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));

describe('rampart demo seed', () => {
  const dir = tempDir('rampart-demo');
  const masterKey = randomBytes(32).toString('base64');
  const env = { RAMPART_MASTER_KEY: masterKey };
  const cli = (...args: string[]) => runCli(args, { cwd: dir.path, env });
  let first: Awaited<ReturnType<typeof cli>>;

  async function withDatabase<T>(body: (database: Database) => Promise<T>): Promise<T> {
    const database = await openDatabase(testConfig(join(dir.path, 'data')), createMemoryLogger('warn').logger);
    try {
      return await body(database);
    } finally {
      await database.close();
    }
  }

  async function snapshot(): Promise<string> {
    return withDatabase(async (database) => {
      const db = database.db;
      const [accounts, devices, audit] = await Promise.all([
        db.selectFrom('accounts').select(['id', 'username', 'role', 'status', 'depot_scope']).orderBy('id').execute(),
        db.selectFrom('devices').select(['id', 'kind', 'depot', 'revision']).orderBy('id').execute(),
        db.selectFrom('audit_entries').select(['seq', 'action']).orderBy('seq', 'desc').limit(1).execute(),
      ]);
      return JSON.stringify({ delivery: await deliverySnapshot(db), accounts, devices, audit });
    });
  }

  before(async () => {
    assert.equal((await cli('migrate', 'up')).code, 0);
    first = await cli('demo', 'seed');
  });
  after(() => dir.cleanup());

  test('creates the Contoso world: 2 depots, 4 drones, 6 trucks, 8 drivers, a dispatcher and 60 shipments', async () => {
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /created 2 depot\(s\), 10 device\(s\), 4 drone\(s\), 6 vehicle\(s\), 9 account\(s\), 8 driver profile\(s\), 60 shipment\(s\)/);
    assert.match(first.stderr, /shipments .*60\/60/, 'progress on stderr');
    await withDatabase(async ({ db }) => {
      const depots = await db.selectFrom('depots').select(['id', 'service_area']).orderBy('id').execute();
      assert.deepEqual(depots.map((d) => d.id), DEMO_DEPOTS.map((d) => d.id).sort());
      assert.ok(depots.every((d) => d.service_area !== null), 'each depot has a service area');

      const drones = await db.selectFrom('drones').select(['id', 'depot_id', 'device_id']).orderBy('id').execute();
      const vehicles = await db.selectFrom('vehicles').select(['id', 'depot_id', 'device_id']).orderBy('id').execute();
      assert.equal(drones.length, 4);
      assert.equal(vehicles.length, 6);
      assert.deepEqual(drones.map((d) => d.device_id), [1, 2, 3, 4].map((n) => simulatedId('drone', n)), 'the simulator\'s drones');
      assert.deepEqual(vehicles.map((v) => v.device_id).sort(), [1, 2, 3, 4, 5, 6].map((n) => simulatedId('truck', n)), 'the simulator\'s trucks');
      const devices = await db.selectFrom('devices').select(['id', 'kind', 'depot']).execute();
      for (const unit of [...drones, ...vehicles]) assert.equal(devices.find((d) => d.id === unit.device_id)?.depot, unit.depot_id, `${unit.id}'s device is in its depot`);

      const drivers = await db.selectFrom('driver_profiles').innerJoin('accounts', 'accounts.id', 'driver_profiles.account_id').select(['accounts.username', 'accounts.role', 'driver_profiles.home_depot_id']).execute();
      assert.equal(drivers.length, 8);
      assert.ok(drivers.every((d) => d.role === 'driver'));
      const dispatcher = await db.selectFrom('accounts').select(['role', 'depot_scope', 'status']).where('username', '=', 'dana').executeTakeFirstOrThrow();
      assert.equal(dispatcher.role, 'dispatcher');
      assert.deepEqual((JSON.parse(dispatcher.depot_scope ?? '[]') as string[]).sort(), DEMO_DEPOTS.map((d) => d.id).sort());
      assert.equal(dispatcher.status, 'setup_required', 'no password is set for anyone: each account starts from a setup code');

      const shipments = await db.selectFrom('shipments').select(['depot_id', 'mode', 'status']).execute();
      assert.equal(shipments.length, 60);
      assert.deepEqual(Object.fromEntries(DEMO_DEPOTS.map((d) => [d.id, shipments.filter((s) => s.depot_id === d.id && s.mode === d.mode).length])), { 'contoso-cambridge': 40, 'contoso-fenland': 20 });

      const audit = await db.selectFrom('audit_entries').select(['action', 'actor_type']).where('action', 'in', ['depot.create', 'device.create', 'drone.create', 'vehicle.create', 'user.create', 'driver.profile_set', 'shipment.create']).execute();
      assert.equal(audit.length, 2 + 10 + 4 + 6 + 9 + 8 + 60, 'every row created has its audit entry');
      assert.ok(audit.every((e) => e.actor_type === 'cli'));
    });
    assert.equal((await cli('audit', 'verify')).code, 0);
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
    await withDatabase(async (database) => {
      const rows = await database.db.selectFrom('shipments').select(['id', 'reference', 'recipient_name', 'recipient_phone', 'recipient_address']).execute();
      for (const row of rows) {
        assert.match(row.recipient_name, /^rk1\./);
        assert.match(row.recipient_address, /^rk1\./);
        if (row.recipient_phone !== null) assert.match(row.recipient_phone, /^rk1\./);
      }
      const keyring = await Keyring.open({ database, masterKey: Buffer.from(masterKey, 'base64'), clock: systemClock, columns: ENCRYPTED_COLUMNS });
      const delivery = createDelivery({ db: database.db, keyring, clock: systemClock });
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
      const started = Date.now();
      while (!stdout.includes('Contoso Shipping demo is running')) {
        assert.ok(Date.now() - started < 30_000, `the demo did not start in time:\n${stdout}\n${stderr}`);
        assert.equal(child.exitCode, null, `the demo exited early:\n${stdout}\n${stderr}`);
        await sleep(100);
      }
      const server = lockHolder(dataDir);
      assert.ok(server !== undefined, 'a server holds the data directory');
      // Every van reports within its first five seconds; drones twice a second.
      await sleep(6_000);
      child.kill('SIGINT');
      assert.equal(await exited, 0, `${stdout}\n${stderr}`);

      assert.match(stdout, /created 2 depot\(s\), 10 device\(s\), 4 drone\(s\), 6 vehicle\(s\), 9 account\(s\), 8 driver profile\(s\), 60 shipment\(s\)/);
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
      dir.cleanup();
    }
  });
});
