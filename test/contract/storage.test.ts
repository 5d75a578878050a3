import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { Keyring } from '../../src/crypto/keyring.ts';
import { rotateKeys } from '../../src/crypto/rotate.ts';
import { consumeSetupCode, ensureBootstrapAdmin } from '../../src/identity/bootstrap.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { migrateUp, migrationStatus, prepareSchema } from '../../src/storage/database.ts';
import { DATABASE_TARGETS, serviceSkipReason, type OpenedDatabase } from '../support/databases.ts';
import { masterKey } from '../support/keys.ts';
import { hasCode } from '../support/errors.ts';

// One suite, run against every storage adapter: whatever passes here on SQLite
// must pass on PostgreSQL, so repositories can be written once.

const SECRETS = { table: 'contract_secrets', idColumn: 'id', column: 'secret', purpose: 'secret' } as const;

for (const target of DATABASE_TARGETS) {
  describe(`storage contract: ${target.name}`, { skip: serviceSkipReason(target.skip) }, () => {
    let opened: OpenedDatabase;
    before(async () => {
      opened = await target.open();
    });
    after(async () => {
      await opened.cleanup();
    });

    test('applies every migration and then reports none pending', async () => {
      const status = await migrationStatus(opened.database);
      assert.ok(status.length > 0);
      assert.deepEqual(status.filter((m) => !m.applied), []);
      assert.deepEqual(await migrateUp(opened.database), []);
    });

    test('refuses to start on an outdated schema when automatic migration is off', async () => {
      const fresh = await target.open({ migrate: false });
      try {
        await assert.rejects(prepareSchema(fresh.database, false), hasCode('storage.schema_outdated'));
        const tables = await fresh.database.db.introspection.getTables();
        const own = tables.filter((t) => fresh.database.schema === undefined || t.schema === fresh.database.schema);
        assert.equal(own.some((t) => t.name === 'accounts'), false, 'nothing was created');
        assert.deepEqual(await prepareSchema(fresh.database, true), ['0001_foundation', '0002_identity', '0003_audit', '0004_devices', '0005_delivery', '0006_webhooks', '0007_routes', '0008_proofs']);
      } finally {
        await fresh.cleanup();
      }
    });

    test('round-trips ISO-8601 timestamps and returns counts as numbers', async () => {
      const db = opened.database.db;
      const at = '2026-03-04T05:06:07.089Z';
      await db.insertInto('accounts').values({ id: 'acct_ts', username: 'ts', role: 'auditor', status: 'active', created_at: at, updated_at: at }).execute();
      const row = await db.selectFrom('accounts').select(['created_at']).where('id', '=', 'acct_ts').executeTakeFirstOrThrow();
      assert.equal(row.created_at, at);
      const count = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(typeof count.n, 'number');
      const later = await db.selectFrom('accounts').select('id').where('created_at', '>', '2026-03-04T05:06:07.000Z').where('id', '=', 'acct_ts').execute();
      assert.equal(later.length, 1, 'timestamps compare in time order');
    });

    test('rolls back every write of a failed transaction', async () => {
      const db = opened.database.db;
      const now = new Date().toISOString();
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('accounts').values({ id: 'acct_rb', username: 'rb', role: 'driver', status: 'active', created_at: now, updated_at: now }).execute();
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(await db.selectFrom('accounts').select('id').where('id', '=', 'acct_rb').executeTakeFirst(), undefined);
    });

    test('recognises a unique violation and keeps the first row', async () => {
      const db = opened.database.db;
      const now = new Date().toISOString();
      await db.insertInto('accounts').values({ id: 'acct_u1', username: 'unique-name', role: 'driver', status: 'active', created_at: now, updated_at: now }).execute();
      const error = await db
        .insertInto('accounts')
        .values({ id: 'acct_u2', username: 'unique-name', role: 'driver', status: 'active', created_at: now, updated_at: now })
        .execute()
        .then(() => undefined, (e: unknown) => e);
      assert.ok(error !== undefined, 'the duplicate was refused');
      assert.equal(opened.database.isUniqueViolation(error), true);
      assert.equal(opened.database.isUniqueViolation(new Error('other')), false);
      assert.equal(await db.selectFrom('accounts').select('id').where('id', '=', 'acct_u2').executeTakeFirst(), undefined);
    });

    test('enforces foreign keys and check constraints', async () => {
      const db = opened.database.db;
      const now = new Date().toISOString();
      await assert.rejects(
        db.insertInto('setup_codes').values({ id: 'setup_x', account_id: 'acct_missing', code_hash: 'h', expires_at: now, used_at: null, created_at: now }).execute(),
      );
      await assert.rejects(
        sql`insert into accounts (id, username, role, status, created_at, updated_at) values ('acct_bad', 'bad', 'root', 'active', ${now}, ${now})`.execute(db),
      );
      assert.equal(await db.selectFrom('accounts').select('id').where('id', '=', 'acct_bad').executeTakeFirst(), undefined);
    });

    test('allows at most one active data key per purpose', async () => {
      const db = opened.database.db;
      const now = new Date().toISOString();
      await db.insertInto('data_keys').values({ id: 'dk_a', purpose: 'p1', status: 'active', wrapped_key: 'w', created_at: now, retired_at: null }).execute();
      await assert.rejects(db.insertInto('data_keys').values({ id: 'dk_b', purpose: 'p1', status: 'active', wrapped_key: 'w', created_at: now, retired_at: null }).execute());
      await db.insertInto('data_keys').values({ id: 'dk_c', purpose: 'p1', status: 'retiring', wrapped_key: 'w', created_at: now, retired_at: null }).execute();
      const rows = await db.selectFrom('data_keys').select('id').where('purpose', '=', 'p1').orderBy('id').execute();
      assert.deepEqual(rows.map((r) => r.id), ['dk_a', 'dk_c']);
    });

    test('issues, burns and refuses bootstrap setup codes', async () => {
      const clock = new ManualClock('2026-05-01T00:00:00.000Z');
      const db = opened.database.db;
      const first = await ensureBootstrapAdmin(db, { username: 'admin', ttlHours: 24, clock });
      assert.ok(first?.setupCode !== undefined);
      const stored = await db.selectFrom('setup_codes').select('code_hash').execute();
      assert.equal(stored.length, 1);
      assert.notEqual(stored[0]?.code_hash, first.setupCode, 'only a hash is stored');
      assert.equal((await ensureBootstrapAdmin(db, { username: 'admin', ttlHours: 24, clock }))?.setupCode, undefined, 'a live code is not reissued');
      assert.equal(await consumeSetupCode(db, first.setupCode.toLowerCase(), clock), first.accountId);
      await assert.rejects(consumeSetupCode(db, first.setupCode, clock), hasCode('identity.setup_code_invalid'));
    });

    test('encrypts, rotates and re-encrypts fields with the keyring', async (t) => {
      const own = await target.open();
      t.after(() => own.cleanup());
      const { database } = own;
      await database.db.schema.createTable(SECRETS.table).addColumn('id', 'text', (c) => c.primaryKey()).addColumn('secret', 'text').execute();
      const clock = new ManualClock();
      const keyring = await Keyring.open({ database, masterKey: masterKey(), clock, columns: [SECRETS] });
      const values = new Map<string, string>();
      for (let i = 0; i < 25; i++) {
        const id = `row_${String(i).padStart(2, '0')}`;
        values.set(id, `secret value ${i}`);
        const secret = await keyring.encryptField({ table: SECRETS.table, column: SECRETS.column, rowId: id }, `secret value ${i}`);
        await sql`insert into contract_secrets (id, secret) values (${id}, ${secret})`.execute(database.db);
      }
      const oldKey = await keyring.activeDataKeyId('secret');
      const report = await rotateKeys({ database, keyring, columns: [SECRETS], clock, settleMs: 0, pageSize: 7 });
      assert.equal(report.reencrypted, 25);
      assert.deepEqual(report.retired, [oldKey]);
      assert.deepEqual(report.stillRetiring, []);
      const rows = await sql<{ id: string; secret: string }>`select id, secret from contract_secrets order by id`.execute(database.db);
      for (const row of rows.rows) {
        assert.ok(!row.secret.includes(oldKey), 'no value is left under the old key');
        assert.equal(await keyring.decryptFieldText({ table: SECRETS.table, column: SECRETS.column, rowId: row.id }, row.secret), values.get(row.id));
      }
      const retired = await database.db.selectFrom('data_keys').selectAll().where('id', '=', oldKey).executeTakeFirstOrThrow();
      assert.equal(retired.status, 'retired');
      assert.equal(retired.wrapped_key, null, 'retired key material is destroyed');
    });
  });
}
