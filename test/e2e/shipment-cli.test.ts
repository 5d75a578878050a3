import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { WebhookEndpoints } from '../../src/delivery/webhooks/endpoints.ts';
import { DestinationGuard } from '../../src/delivery/webhooks/ssrf.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { runCli, withCliDatabase } from '../support/cli.ts';
import { csvLine, CSV_HEADER, recipientFor, squareArea } from '../support/delivery.ts';
import { tempDir } from '../support/tmp.ts';

// `rampart depot …` and `rampart shipment …` as an operator runs them.

describe('rampart depot and shipment', () => {
  const dir = tempDir('rampart-shipment-cli');
  const masterKey = randomBytes(32).toString('base64');
  const env = { RAMPART_MASTER_KEY: masterKey };
  const cli = (...args: string[]) => runCli(args, { cwd: dir.path, env });
  const file = (name: string, text: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    assert.equal((await cli('migrate', 'up')).code, 0);
  });
  after(() => dir.cleanup());

  test('depot add and list; bad options are refused', async () => {
    const area = file('north.geojson', JSON.stringify(squareArea(52.52, 13.405)));
    const added = await cli('depot', 'add', 'north', '--name', 'North depot', '--lat', '52.52', '--lon', '13.405', '--area', area);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /created depot north \(North depot\) with a service area/);
    for (const [args, message] of [
      [['depot', 'add', 'east', '--name', 'East', '--lat', '91', '--lon', '1'], /--lat.*-90 to 90/],
      [['depot', 'add', 'north', '--name', 'Again', '--lat', '1', '--lon', '1'], /depot\.id_taken/],
      [['depot', 'add', 'east', '--name', 'East', '--lat', '1', '--lon', '1', '--area', file('bad.geojson', '{"type":"Polygon","coordinates":[]}')], /request\.invalid/],
    ] as const) {
      const refused = await cli(...args);
      assert.notEqual(refused.code, 0, args.join(' '));
      assert.match(refused.stderr, message);
    }
    assert.match((await cli('depot', 'list')).stdout, /^north\s+52\.52\s+13\.405\s+area\s+North depot$/m);
  });

  test('shipment import: a bad row imports nothing; --skip-invalid imports the rest; export writes CSV with formulas defused', async () => {
    const plainPerson = recipientFor('cli1');
    const formulaPerson = { name: '=cmd|\'/C calc\'!A0', phone: '+1 555 0100', address: '-2+3 Main Street' };
    const csv = file('ship.csv', [CSV_HEADER, csvLine({ reference: 'A-1' }, plainPerson), csvLine({ mode: 'boat', weight_kg: '' }), csvLine({ reference: 'A-2', depot: '' }, formulaPerson)].join('\n'));
    const refused = await cli('shipment', 'import', csv);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /row 3, weight_kg: required/);
    assert.match(refused.stderr, /row 3, mode: one of truck, drone/);
    assert.match(refused.stderr, /row 4, depot: required/);
    assert.match(refused.stderr, /shipment\.import_invalid/);
    assert.equal(refused.stdout, '');
    const empty = await cli('shipment', 'export');
    assert.equal(parse(empty.stdout, { columns: true }).length, 0, 'nothing was imported');

    const imported = await cli('shipment', 'import', csv, '--skip-invalid', '--depot', 'north');
    assert.equal(imported.code, 0, imported.stderr);
    const created = parse<Record<string, string>>(imported.stdout, { columns: true });
    assert.deepEqual(created.map((r) => r['row']), ['2', '4']);
    assert.match(created[0]?.['tracking_path'] ?? '', /^\/t\/[A-Za-z0-9_-]{43}$/);
    assert.match(imported.stderr, /skipped row 3, mode/);
    assert.match(imported.stderr, /imported 2 shipment\(s\); skipped 1 row\(s\)/);

    const exported = await cli('shipment', 'export', '--status', 'created', '--depot', 'north');
    assert.equal(exported.code, 0, exported.stderr);
    const rows = parse<Record<string, string>>(exported.stdout, { columns: true });
    assert.equal(rows.length, 2);
    assert.deepEqual(rows.map((r) => r['reference']).sort(), ['A-1', 'A-2']);
    const risky = rows.find((r) => r['reference'] === 'A-2');
    assert.ok(risky !== undefined);
    assert.equal(risky['recipient_name'], `'${formulaPerson.name}`);
    assert.equal(risky['recipient_address'], `'${formulaPerson.address}`);
    assert.equal(risky['destination_lat'], '52.53', 'numbers stay numbers');
    assert.equal(rows.find((r) => r['reference'] === 'A-1')?.['recipient_name'], plainPerson.name);
    assert.match((await cli('shipment', 'export', '--status', 'lost')).stderr, /--status.*expected one of/);
    assert.match((await cli('shipment', 'import', join(dir.path, 'missing.csv'))).stderr, /ENOENT|no such file/);
  });

  test('shipment import queues a shipment.created webhook for each new shipment, as the API does', async () => {
    const endpoint = await withCliDatabase(dir.path, async (database) => {
      const keyring = await Keyring.open({ database, masterKey: Buffer.from(masterKey, 'base64'), clock: systemClock, columns: ENCRYPTED_COLUMNS });
      const endpoints = new WebhookEndpoints({ db: database.db, keyring, clock: systemClock, guard: new DestinationGuard({ allowPrivateCidrs: [] }) });
      const change = { actor: { type: 'cli' as const, id: 'test', authMethod: 'local_shell' } };
      const created = (await endpoints.create({ name: 'created', url: 'https://hooks.example.com/rampart', events: ['shipment.created'] }, change)).endpoint;
      await endpoints.create({ name: 'delivered only', url: 'https://hooks.example.com/delivered', events: ['shipment.delivered'] }, change);
      return created;
    });
    const csv = file('hooked.csv', [CSV_HEADER, csvLine({ reference: 'H-1' }), csvLine({ reference: 'H-2' })].join('\n'));
    const imported = await cli('shipment', 'import', csv);
    assert.equal(imported.code, 0, imported.stderr);
    const ids = parse<Record<string, string>>(imported.stdout, { columns: true }).map((r) => r['shipment_id']);
    assert.equal(ids.length, 2);
    await withCliDatabase(dir.path, async ({ db }) => {
      const queued = await db.selectFrom('webhook_deliveries').select(['endpoint_id', 'event_type', 'status', 'payload']).execute();
      assert.deepEqual(queued.map((d) => [d.endpoint_id, d.event_type, d.status]), [[endpoint.id, 'shipment.created', 'pending'], [endpoint.id, 'shipment.created', 'pending']], 'one delivery per shipment, only to the endpoint subscribed to creations');
      const shipments = queued.map((d) => (JSON.parse(d.payload) as { data: { id: string; status: string } }).data);
      assert.deepEqual(shipments.map((s) => s.id).sort(), [...ids].sort());
      assert.ok(shipments.every((s) => s.status === 'created'));
    });
  });
});
