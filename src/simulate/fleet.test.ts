import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sqliteTarget, type OpenedDatabase } from '../../test/support/databases.ts';
import { hasCode } from '../../test/support/errors.ts';
import { masterKey } from '../../test/support/keys.ts';
import { ENCRYPTED_COLUMNS } from '../crypto/encrypted-columns.ts';
import { Keyring } from '../crypto/keyring.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { systemClock } from '../kernel/clock.ts';
import { prepareSimulatedFleet, simulatedId } from './fleet.ts';

describe('simulated fleet', () => {
  let opened: OpenedDatabase;
  let keyring: Keyring;
  const actor = { type: 'cli' as const, id: 'simulate-test', authMethod: 'local_shell' as const };

  before(async () => {
    opened = await sqliteTarget.open();
    keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock: systemClock, columns: ENCRYPTED_COLUMNS });
  });
  after(() => opened.cleanup());

  const deviceIds = async () => (await opened.database.db.selectFrom('devices').select('id').orderBy('id').execute()).map((r) => r.id);
  const prepare = (trucks: number) => prepareSimulatedFleet({ database: opened.database, keyring, config: opened.config, actor, drones: 1, trucks, tokenSeconds: 600 });

  test('creates its devices on first use and reuses them afterwards', async () => {
    const first = await prepare(0);
    assert.deepEqual(first.map((d) => d.id), [simulatedId('drone', 1)]);
    const again = await prepare(0);
    assert.deepEqual(again.map((d) => d.id), [simulatedId('drone', 1)]);
    assert.deepEqual(await deviceIds(), [simulatedId('drone', 1)], 'reused, not added again');
  });

  test('a disabled simulated device stops the run with device.disabled, naming the command that enables it, and adds no device', async () => {
    const registry = new DeviceRegistry({ db: opened.database.db, keyring, clock: systemClock });
    await registry.setStatus(simulatedId('drone', 1), 'disabled', { actor });
    const before = await deviceIds();
    await assert.rejects(prepare(1), hasCode('device.disabled', /sim-drone-001 is disabled/, /rampart device enable sim-drone-001/));
    assert.deepEqual(await deviceIds(), before);
  });
});
