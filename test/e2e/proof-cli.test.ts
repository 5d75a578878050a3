import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { createDelivery } from '../../src/delivery/delivery.ts';
import { proofSettings } from '../../src/delivery/proof/settings.ts';
import { receiptStatus } from '../../src/delivery/proof/receipt-status.ts';
import { newTrackingNumber } from '../../src/delivery/shipments/tracking-number.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { runCli } from '../support/cli.ts';
import { testConfig } from '../support/config.ts';
import { recipientFor, squareArea } from '../support/delivery.ts';
import { SHIPMENT_DESTINATION, submissionFor } from '../support/proofs.ts';
import { tempDir } from '../support/tmp.ts';

// `rampart proof shred` as an operator runs it for a recipient's erasure request.

describe('rampart proof shred', () => {
  const dir = tempDir('rampart-proof-cli');
  const masterKey = randomBytes(32).toString('base64');
  const cli = (...args: string[]) => runCli(args, { cwd: dir.path, env: { RAMPART_MASTER_KEY: masterKey } });
  const config = testConfig(join(dir.path, 'data'), { keyring: { masterKey } });
  const open = () => openDatabase(config, createMemoryLogger('warn').logger);
  let delivered: { trackingNumber: string; proofId: string; receiptId: string; receipt: string };

  before(async () => {
    assert.equal((await cli('migrate', 'up')).code, 0);
    const database: Database = await open();
    try {
      const keyring = await Keyring.open({ database, masterKey: Buffer.from(masterKey, 'base64'), clock: systemClock, columns: ENCRYPTED_COLUMNS });
      const delivery = createDelivery({ db: database.db, keyring, clock: systemClock, proof: proofSettings(config) });
      const change = { actor: { type: 'system' as const } };
      await delivery.depots.add({ id: 'north', name: 'North', location: { lat: 52.52, lon: 13.405 }, serviceArea: squareArea(52.52, 13.405) }, change);
      const now = new Date().toISOString();
      await database.db.insertInto('accounts').values({ id: 'acct_driver', username: 'driver', role: 'driver', status: 'active', created_at: now, updated_at: now }).execute();
      await delivery.fleet.setDriver('acct_driver', 'north', change);
      const recipient = recipientFor();
      const { shipment } = await delivery.shipments.create(
        { depotId: 'north', reference: null, recipient, destination: SHIPMENT_DESTINATION, parcel: { weightKg: 1, lengthCm: null, widthCm: null, heightCm: null }, mode: 'truck', window: { start: '2026-07-01T08:00:00Z', end: '2026-07-01T10:00:00Z' }, requiredProof: ['signature'] },
        change,
      );
      await delivery.shipments.assign(shipment.id, 'acct_driver', change);
      const out = await delivery.shipments.transition(shipment.id, { to: 'out_for_delivery' }, change);
      const { proof } = await delivery.proofs.intake.submit(out, 'acct_driver', submissionFor(), { actor: { type: 'account', id: 'acct_driver' } });
      delivered = { trackingNumber: shipment.trackingNumber, ...proof };
    } finally {
      await database.close();
    }
  });
  after(() => dir.cleanup());

  test('shreds the personal data of a shipment\'s proof, audited as the shell user; the receipt still verifies', async () => {
    const typed = delivered.trackingNumber.toLowerCase().replaceAll('-', ' ');
    const shredded = await cli('proof', 'shred', typed);
    assert.equal(shredded.code, 0, shredded.stderr);
    assert.match(shredded.stdout, new RegExp(`^shredded: proof ${delivered.proofId} of ${delivered.trackingNumber}`));
    const again = await cli('proof', 'shred', delivered.trackingNumber);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^already shredded/);

    const database = await open();
    try {
      const row = await database.db.selectFrom('proofs').selectAll().where('id', '=', delivered.proofId).executeTakeFirstOrThrow();
      assert.equal(row.personal, null);
      assert.equal((await database.db.selectFrom('proof_images').select('id').where('proof_id', '=', row.id).execute()).length, 0);
      const audit = await database.db.selectFrom('audit_entries').selectAll().where('action', '=', 'pod.shred').execute();
      assert.deepEqual(audit.map((a) => [a.actor_type, (JSON.parse(a.details) as { reason: string }).reason]), [['cli', 'erasure_request']]);
      assert.deepEqual((await receiptStatus(database.db, delivered.receiptId, delivered.receipt))?.verification, { genuine: true, unaltered: true });
    } finally {
      await database.close();
    }
  });

  test('refuses a malformed tracking number and one without a proof', async () => {
    const malformed = await cli('proof', 'shred', 'RP-0000-0000-00X');
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /check character must match/);
    const unknown = await cli('proof', 'shred', newTrackingNumber());
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /proof\.not_found/);
  });
});
