import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { createDeviceAuthenticator, type ClosableDeviceAuthenticator } from '../../src/devices/authenticator.ts';
import { DeviceAuthError } from '../../src/devices/errors.ts';
import { DeviceRegistry, type DeviceChange } from '../../src/devices/registry.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { DATABASE_TARGETS, serviceSkipReason, type OpenedDatabase } from '../support/databases.ts';
import { hasCode } from '../support/errors.ts';
import { masterKey } from '../support/keys.ts';
import { referenceToken } from '../support/sas-reference.ts';

// The device registry and authenticator on every supported database: keys
// stored only encrypted, every change audited in its transaction, and
// revocation noticed within a second even when another process made it.

const HOST = 'fleet.example.net';
const change: DeviceChange = { actor: { type: 'cli', id: 'contract', authMethod: 'local_shell' } };

function factory() {
  let n = 0;
  return (overrides: { kind?: 'drone' | 'truck'; depot?: string; name?: string } = {}) => {
    n += 1;
    return { id: `dev-${String(n).padStart(3, '0')}`, kind: overrides.kind ?? 'drone', name: overrides.name ?? `Unit ${n}`, depot: overrides.depot ?? 'north' } as const;
  };
}

/**
 * Listens for the authenticator's revocation reports. `reported` resolves when
 * the report arrives (from the authenticator's own change watch); failing after
 * `withinMs` is the bound under test, not a wait for something to happen.
 */
function watchRevocations(authenticator: ClosableDeviceAuthenticator) {
  const revoked: string[] = [];
  const waiters = new Set<() => void>();
  const stop = authenticator.onRevoked((id) => {
    revoked.push(id);
    for (const waiter of waiters) waiter();
  });
  const reported = (id: string, times: number, withinMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (revoked.filter((d) => d === id).length < times) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${id} was not reported revoked ${times} time(s) within ${withinMs} ms`));
      }, withinMs);
      waiters.add(check);
      check();
    });
  return { stop, reported };
}

for (const target of DATABASE_TARGETS) {
  describe(`devices on ${target.name}`, { skip: serviceSkipReason(target.skip) }, () => {
    let opened: OpenedDatabase;
    let keyring: Keyring;
    let registry: DeviceRegistry;
    let authenticator: ClosableDeviceAuthenticator;
    const clock = new ManualClock('2026-06-01T08:00:00.000Z');
    const newDevice = factory();
    const now = () => Math.floor(clock.now().getTime() / 1000);

    const token = (id: string, key: string, options: { keyName?: string; path?: string; encoding?: 'utf8' | 'base64' } = {}) =>
      referenceToken({ uri: `https://${HOST}/${options.path ?? `drone-telemetry/publishers/${id}`}`, key, ...(options.keyName === undefined ? {} : { keyName: options.keyName }), expiry: now() + 3600, encoding: options.encoding ?? 'utf8' });
    const verify = (id: string, text: string) => authenticator.verifySas(text, `drone-telemetry/publishers/${id}`, { deviceId: id, keyEncodings: ['utf8'] });
    const refusedFor = (reason: string) => (error: unknown) => {
      assert.ok(error instanceof DeviceAuthError, String(error));
      assert.equal(error.code, 'device.unauthorized');
      assert.equal(error.reason, reason, error.message);
      return true;
    };
    const auditActions = async () => (await opened.database.db.selectFrom('audit_entries').select(['action', 'target_id']).orderBy('seq').execute()).map((e) => `${e.action} ${e.target_id ?? ''}`);
    const snapshot = async () => JSON.stringify([await opened.database.db.selectFrom('devices').selectAll().orderBy('id').execute(), await auditActions()]);

    before(async () => {
      opened = await target.open();
      keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: ENCRYPTED_COLUMNS });
      registry = new DeviceRegistry({ db: opened.database.db, keyring, clock });
      authenticator = createDeviceAuthenticator({ db: opened.database.db, keyring, clock, config: { sasHosts: [HOST], maxTokenLifetimeSeconds: 86_400 }, logger: createMemoryLogger('warn').logger, registry });
    });
    after(async () => {
      authenticator.close();
      await opened.cleanup();
    });

    test('add stores the keys only encrypted and audits the creation in the same transaction', async () => {
      const input = newDevice();
      const created = await registry.add(input, change);
      assert.equal(Buffer.from(created.primaryKey, 'base64').length, 32);
      assert.equal(Buffer.from(created.secondaryKey, 'base64').length, 32);
      assert.notEqual(created.primaryKey, created.secondaryKey);
      assert.deepEqual({ ...created.device, createdAt: '', updatedAt: '' }, { ...input, status: 'enabled', thumbprints: [], revision: 1, createdAt: '', updatedAt: '', lastSeenAt: null });
      const row = await opened.database.db.selectFrom('devices').selectAll().where('id', '=', input.id).executeTakeFirstOrThrow();
      const stored = JSON.stringify(row);
      for (const key of [created.primaryKey, created.secondaryKey]) {
        assert.ok(!stored.includes(key), 'no plaintext key in the row');
        assert.ok(!stored.includes(Buffer.from(key, 'base64').toString('hex')), 'nor its bytes in hex');
      }
      assert.match(row.primary_key, /^rk1\./);
      assert.deepEqual((await auditActions()).at(-1), `device.create ${input.id}`);
    });

    test('a change whose audit entry cannot be written is rolled back with it', async () => {
      const db = opened.database.db;
      const before = await snapshot();
      const head = await db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
      // Without the head row appendAudit fails after the device row was written in the same transaction.
      await db.deleteFrom('audit_head').execute();
      try {
        await assert.rejects(registry.add(newDevice(), change));
        await assert.rejects(registry.setStatus('dev-001', 'disabled', change));
        await assert.rejects(registry.rotateKey('dev-001', 'secondary', change));
        await assert.rejects(registry.setThumbprints('dev-001', ['cd'.repeat(32)], change));
        await assert.rejects(registry.revealKeys('dev-001', change), 'no unaudited reveal either');
      } finally {
        await db.insertInto('audit_head').values(head).execute();
      }
      assert.equal(await snapshot(), before);
    });

    test('bad input is refused with a clear error and changes nothing', async () => {
      const before = await snapshot();
      await assert.rejects(registry.add({ ...newDevice(), id: '../etc' }, change), hasCode('request.invalid'));
      await assert.rejects(registry.add({ ...newDevice(), id: '' }, change), hasCode('request.invalid'));
      await assert.rejects(registry.add({ ...newDevice(), id: 'x'.repeat(129) }, change), hasCode('request.invalid'));
      await assert.rejects(registry.add({ ...newDevice(), kind: 'boat' as 'drone' }, change), hasCode('request.invalid'));
      await assert.rejects(registry.add({ ...newDevice(), name: 'bell\u0007' }, change), hasCode('request.invalid'));
      await assert.rejects(registry.add({ ...newDevice(), depot: '' }, change), hasCode('request.invalid'));
      await assert.rejects(registry.add({ ...newDevice(), id: 'dev-001' }, change), hasCode('device.id_taken'));
      await assert.rejects(registry.setStatus('nobody', 'disabled', change), hasCode('device.not_found'));
      await assert.rejects(registry.rotateKey('nobody', 'primary', change), hasCode('device.not_found'));
      await assert.rejects(registry.rotateKey('dev-001', 'tertiary' as 'primary', change), hasCode('request.invalid'));
      await assert.rejects(registry.revealKeys('nobody', change), hasCode('device.not_found'));
      await assert.rejects(registry.setThumbprints('dev-001', ['not-hex'], change), hasCode('request.invalid'));
      await assert.rejects(registry.setThumbprints('dev-001', ['a'.repeat(64), 'A'.repeat(64)], change), hasCode('request.invalid'), 'duplicates after lower-casing');
      await assert.rejects(registry.get('nobody'), hasCode('device.not_found'));
      assert.equal(await snapshot(), before);
    });

    test('list filters by depot, kind, status and text, and paginates by id', async () => {
      for (const overrides of [{ depot: 'south', kind: 'truck' as const, name: 'Tow truck' }, { depot: 'south', name: 'Heron' }, { depot: 'south', kind: 'truck' as const, name: 'Heavy hauler' }]) await registry.add(newDevice(overrides), change);
      const all = await registry.list({ limit: 100 });
      assert.deepEqual(all.items.map((d) => d.id), [...all.items.map((d) => d.id)].sort());
      const first = await registry.list({ depot: 'south', limit: 2 });
      assert.equal(first.items.length, 2);
      assert.ok(first.nextCursor !== null);
      const second = await registry.list({ depot: 'south', limit: 2, cursor: first.nextCursor });
      assert.equal(second.items.length, 1);
      assert.equal(second.nextCursor, null);
      assert.deepEqual((await registry.list({ depot: 'south', kind: 'truck', limit: 10 })).items.map((d) => d.name).sort(), ['Heavy hauler', 'Tow truck']);
      assert.deepEqual((await registry.list({ q: 'HE', limit: 10 })).items.map((d) => d.name).sort(), ['Heavy hauler', 'Heron']);
      assert.deepEqual((await registry.list({ q: '%', limit: 10 })).items.length, all.items.length, 'wildcards are text, not patterns');
      assert.deepEqual((await registry.list({ depots: ['north'], limit: 10 })).items.map((d) => d.depot), ['north']);
      assert.deepEqual((await registry.list({ depots: [], limit: 10 })).items, []);
    });

    test('the authenticator accepts both keys and refuses everything else with its reason', async () => {
      const { device, primaryKey, secondaryKey } = await registry.add(newDevice(), change);
      const id = device.id;
      const byPrimary = await verify(id, await token(id, primaryKey, { keyName: 'primary' }));
      assert.equal(byPrimary.credential, 'primary');
      assert.equal(byPrimary.revision, 1);
      assert.equal((await verify(id, await token(id, secondaryKey, { keyName: 'secondary' }))).credential, 'secondary');
      assert.equal((await verify(id, await token(id, secondaryKey))).credential, 'secondary', 'without skn both keys are tried');
      const iot = await authenticator.verifySas(await referenceToken({ uri: `${HOST}/devices/${id}`, key: primaryKey, expiry: now() + 60, encoding: 'base64' }), `devices/${id}`, { deviceId: id, keyEncodings: ['utf8', 'base64'] });
      assert.equal(iot.credential, 'primary');

      await assert.rejects(verify(id, await token(id, primaryKey, { keyName: 'secondary' })), refusedFor('bad_signature'), 'skn selects the key');
      await assert.rejects(verify(id, await token(id, primaryKey, { keyName: 'RootManageSharedAccessKey' })), refusedFor('bad_signature'));
      const other = await registry.add(newDevice(), change);
      await assert.rejects(verify(id, await token(id, other.primaryKey)), refusedFor('bad_signature'), 'another device\'s key');
      await assert.rejects(authenticator.verifySas(await token(id, primaryKey), `drone-telemetry/publishers/${other.device.id}`, { deviceId: other.device.id, keyEncodings: ['utf8'] }), refusedFor('wrong_resource'));
      await assert.rejects(verify('nobody', await token('nobody', primaryKey)), refusedFor('unknown_device'));
      await assert.rejects(verify(id, 'SharedAccessSignature sr=x'), refusedFor('malformed'));
      await assert.rejects(verify(id, await referenceToken({ uri: `https://${HOST}/drone-telemetry/publishers/${id}`, key: primaryKey, expiry: now() + 86_401, encoding: 'utf8' })), refusedFor('lifetime_too_long'));
      const shortLived = await referenceToken({ uri: `https://${HOST}/drone-telemetry/publishers/${id}`, key: primaryKey, expiry: now() + 60, encoding: 'utf8' });
      const accepted = await verify(id, shortLived);
      assert.equal(authenticator.stillValid(accepted), true);
      clock.advance(60_000);
      assert.equal(authenticator.stillValid(accepted), false, 'expired');
      await assert.rejects(verify(id, shortLived), refusedFor('expired'));
    });

    test('rotating the primary key revokes it at once, leaves the secondary working, and the key cache does not survive', async () => {
      const { device, primaryKey, secondaryKey } = await registry.add(newDevice(), change);
      const id = device.id;
      const byPrimary = await verify(id, await token(id, primaryKey));
      const bySecondary = await verify(id, await token(id, secondaryKey, { keyName: 'secondary' }));
      const revocations = watchRevocations(authenticator);
      try {
        const rotated = await registry.rotateKey(id, 'primary', change);
        assert.equal(rotated.device.revision, 2);
        assert.notEqual(rotated.key, primaryKey);
        await revocations.reported(id, 1, 1000);
        assert.equal(authenticator.stillValid(byPrimary), false, 'connections on the old primary key end');
        assert.equal(authenticator.stillValid(bySecondary), true, 'the secondary key was not touched');
        await assert.rejects(verify(id, await token(id, primaryKey)), refusedFor('bad_signature'), 'the old key no longer verifies');
        assert.equal((await verify(id, await token(id, rotated.key))).revision, 2);
        assert.equal((await verify(id, await token(id, secondaryKey))).credential, 'secondary');
        const revealed = await registry.revealKeys(id, change);
        assert.deepEqual(revealed, { primaryKey: rotated.key, secondaryKey });
        assert.deepEqual((await auditActions()).slice(-2), [`device.rotate_key ${id}`, `device.key_reveal ${id}`]);
      } finally {
        revocations.stop();
      }
    });

    test('a token that verified is remembered only until the device changes or the token expires', async () => {
      const { device, primaryKey, secondaryKey } = await registry.add(newDevice(), change);
      const id = device.id;
      const sameToken = await referenceToken({ uri: `https://${HOST}/drone-telemetry/publishers/${id}`, key: primaryKey, expiry: now() + 120, encoding: 'utf8' });
      assert.equal((await verify(id, sameToken)).credential, 'primary');
      assert.equal((await verify(id, sameToken)).credential, 'primary', 'the same string again (remembered)');
      await assert.rejects(authenticator.verifySas(sameToken, `drone-telemetry/publishers/${id}x`, { deviceId: id, keyEncodings: ['utf8'] }), refusedFor('wrong_resource'), 'remembered for one resource only');
      await assert.rejects(authenticator.verifySas(sameToken, `drone-telemetry/publishers/${id}`, { deviceId: id, keyEncodings: ['utf8'], requireKeyName: true }), refusedFor('malformed'), 'remembered without the skn requirement only');
      const flipped = sameToken.replace(/sig=([^&]+)/, (_m, sig: string) => {
        const bytes = Buffer.from(decodeURIComponent(sig), 'base64');
        bytes[0] = (bytes[0] ?? 0) ^ 1;
        return `sig=${encodeURIComponent(bytes.toString('base64'))}`;
      });
      await assert.rejects(verify(id, flipped), refusedFor('bad_signature'), 'a near miss is verified in full');

      await registry.setStatus(id, 'disabled', change);
      await authenticator.refresh();
      await assert.rejects(verify(id, sameToken), refusedFor('disabled'), 'forgotten at disable');
      await registry.setStatus(id, 'enabled', change);
      await authenticator.refresh();
      assert.equal((await verify(id, sameToken)).credential, 'primary');
      await registry.rotateKey(id, 'primary', change);
      await authenticator.refresh();
      await assert.rejects(verify(id, sameToken), refusedFor('bad_signature'), 'forgotten at rotation');

      const bySecondary = await referenceToken({ uri: `https://${HOST}/drone-telemetry/publishers/${id}`, key: secondaryKey, expiry: now() + 30, encoding: 'utf8' });
      assert.equal((await verify(id, bySecondary)).credential, 'secondary');
      clock.advance(30_000);
      await assert.rejects(verify(id, bySecondary), refusedFor('expired'), 'a remembered token still expires');
    });

    test('a disable by a second registry (another process) is noticed and reported within a second', async () => {
      const { device, primaryKey } = await registry.add(newDevice(), change);
      const id = device.id;
      const authenticated = await verify(id, await token(id, primaryKey));
      const elsewhere = new DeviceRegistry({ db: opened.database.db, keyring, clock });
      const revocations = watchRevocations(authenticator);
      try {
        await elsewhere.setStatus(id, 'disabled', change);
        await revocations.reported(id, 1, 1000);
        assert.equal(authenticator.stillValid(authenticated), false);
        await assert.rejects(verify(id, await token(id, primaryKey)), refusedFor('disabled'));
        await elsewhere.setStatus(id, 'enabled', change);
        await authenticator.refresh();
        assert.equal(authenticator.stillValid(authenticated), false, 'a re-enable does not revive an identity checked before the disable');
        assert.equal((await verify(id, await token(id, primaryKey))).revision, 3);
        // A rotation elsewhere: the old key must stop working within a second, not when a cache times out.
        const rotated = await elsewhere.rotateKey(id, 'primary', change);
        await revocations.reported(id, 2, 1000);
        await assert.rejects(verify(id, await token(id, primaryKey)), refusedFor('bad_signature'));
        assert.equal((await verify(id, await token(id, rotated.key))).revision, 4);
      } finally {
        revocations.stop();
      }
      assert.deepEqual((await auditActions()).slice(-3), [`device.disable ${id}`, `device.enable ${id}`, `device.rotate_key ${id}`]);
    });

    test('certificates: a registered thumbprint of an enabled device, revoked when the list changes', async () => {
      const { device } = await registry.add(newDevice(), change);
      const thumbprint = 'ab'.repeat(32);
      await assert.rejects(authenticator.verifyCertificate(device.id, thumbprint, now() + 3600), refusedFor('unknown_certificate'));
      const updated = await registry.setThumbprints(device.id, [thumbprint.toUpperCase()], change);
      assert.deepEqual(updated.thumbprints, [thumbprint]);
      await authenticator.refresh();
      const byCertificate = await authenticator.verifyCertificate(device.id, thumbprint, now() + 3600);
      assert.equal(byCertificate.credential, 'certificate');
      await assert.rejects(authenticator.verifyCertificate(device.id, thumbprint, now() - 1), refusedFor('expired'));
      await assert.rejects(authenticator.verifyCertificate('nobody', thumbprint, now() + 3600), refusedFor('unknown_device'));
      const revocations = watchRevocations(authenticator);
      try {
        await registry.setThumbprints(device.id, [], change);
        await revocations.reported(device.id, 1, 1000);
      } finally {
        revocations.stop();
      }
      assert.equal(authenticator.stillValid(byCertificate), false);
      await assert.rejects(authenticator.verifyCertificate(device.id, thumbprint, now() + 3600), refusedFor('unknown_certificate'));
    });

    test('touch records when a device was last seen, at most every 30 seconds', async () => {
      const { device } = await registry.add(newDevice(), change);
      await registry.touch(device.id);
      const first = (await registry.get(device.id)).lastSeenAt;
      assert.ok(first !== null);
      clock.advance(10_000);
      await registry.touch(device.id);
      assert.equal((await registry.get(device.id)).lastSeenAt, first);
      clock.advance(25_000);
      await registry.touch(device.id);
      assert.notEqual((await registry.get(device.id)).lastSeenAt, first);
      assert.equal((await registry.get(device.id)).revision, 1, 'being seen is not a change');
    });
  });
}
