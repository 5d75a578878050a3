import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { ManualClock } from '../kernel/clock.ts';
import type { ErrorCode } from '../kernel/error-catalog.ts';
import { sqliteTarget, type OpenedDatabase } from '../../test/support/databases.ts';
import { testConfig } from '../../test/support/config.ts';
import { hasCode } from '../../test/support/errors.ts';
import { masterKey } from '../../test/support/keys.ts';
import { tempDir } from '../../test/support/tmp.ts';
import type { EncryptedColumn } from './encrypted-columns.ts';
import { ACTIVE_KEY_CACHE_MS, Keyring, type FieldRef } from './keyring.ts';
import { resolveMasterKey } from './master-key.ts';
import { rotateKeys } from './rotate.ts';

const NOTES: EncryptedColumn = { table: 'notes', idColumn: 'id', column: 'body', purpose: 'personal' };
const NOTES_TITLE: EncryptedColumn = { table: 'notes', idColumn: 'id', column: 'title', purpose: 'personal' };
const TOKENS: EncryptedColumn = { table: 'tokens', idColumn: 'id', column: 'value', purpose: 'secret' };
const COLUMNS = [NOTES, NOTES_TITLE, TOKENS];

const ref = (column: EncryptedColumn, rowId: string): FieldRef => ({ table: column.table, column: column.column, rowId });

/** Flips one bit of the decoded part `index` of a dotted ciphertext. */
function flipBit(ciphertext: string, index: number, byte = 0): string {
  const parts = ciphertext.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[byte] = (bytes[byte] ?? 0) ^ 1;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('keyring', () => {
  let opened: OpenedDatabase;
  let keyring: Keyring;
  const key = masterKey();
  const clock = new ManualClock();

  before(async () => {
    opened = await sqliteTarget.open();
    keyring = await Keyring.open({ database: opened.database, masterKey: key, clock, columns: COLUMNS });
  });
  after(() => opened.cleanup());

  test('round-trips text and bytes, with a fresh nonce every time', async () => {
    const a = await keyring.encryptField(ref(NOTES, 'n1'), 'Ada Lovelace, 12 Analytical Way');
    const b = await keyring.encryptField(ref(NOTES, 'n1'), 'Ada Lovelace, 12 Analytical Way');
    assert.notEqual(a, b);
    assert.match(a, /^rk1\.dk_[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(!a.includes('Ada'));
    assert.equal(await keyring.decryptFieldText(ref(NOTES, 'n1'), a), 'Ada Lovelace, 12 Analytical Way');
    const bytes = Buffer.from([0, 1, 2, 255]);
    assert.deepEqual(await keyring.decryptField(ref(TOKENS, 't1'), await keyring.encryptField(ref(TOKENS, 't1'), bytes)), bytes);
  });

  test('uses a separate data key per purpose', async () => {
    assert.notEqual(await keyring.activeDataKeyId('personal'), await keyring.activeDataKeyId('secret'));
  });

  test('refuses a ciphertext with any bit of nonce or body flipped', async () => {
    const sealed = await keyring.encryptField(ref(NOTES, 'n2'), 'signed for by neighbour');
    await assert.rejects(keyring.decryptField(ref(NOTES, 'n2'), flipBit(sealed, 2)), hasCode('crypto.authentication_failed'));
    await assert.rejects(keyring.decryptField(ref(NOTES, 'n2'), flipBit(sealed, 3)), hasCode('crypto.authentication_failed'));
    const tagByte = Buffer.from(sealed.split('.')[3] ?? '', 'base64url').length - 1;
    await assert.rejects(keyring.decryptField(ref(NOTES, 'n2'), flipBit(sealed, 3, tagByte)), hasCode('crypto.authentication_failed'));
  });

  test('refuses a ciphertext copied to another row, column or table', async () => {
    const sealed = await keyring.encryptField(ref(NOTES, 'n3'), '+44 20 7946 0000');
    await assert.rejects(keyring.decryptField(ref(NOTES, 'n4'), sealed), hasCode('crypto.authentication_failed'));
    await assert.rejects(keyring.decryptField(ref(NOTES_TITLE, 'n3'), sealed), hasCode('crypto.authentication_failed'));
    await assert.rejects(keyring.decryptField({ table: 'other', column: 'body', rowId: 'n3' }, sealed), hasCode('crypto.authentication_failed'));
  });

  test('refuses a ciphertext relabelled with another data key', async () => {
    const sealed = await keyring.encryptField(ref(NOTES, 'n5'), 'PIN 4711');
    const otherKey = await keyring.activeDataKeyId('secret');
    const parts = sealed.split('.');
    parts[1] = otherKey;
    await assert.rejects(keyring.decryptField(ref(NOTES, 'n5'), parts.join('.')), hasCode('crypto.authentication_failed'));
  });

  test('refuses a ciphertext made under another master key', async () => {
    const other = await sqliteTarget.open();
    try {
      const foreign = await Keyring.open({ database: other.database, masterKey: masterKey(), clock, columns: COLUMNS });
      const sealed = await foreign.encryptField(ref(NOTES, 'n6'), 'x');
      // Same key id and row in our database, but material wrapped under a different master key.
      const keyId = sealed.split('.')[1] ?? '';
      const row = await other.database.db.selectFrom('data_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();
      await opened.database.db.insertInto('data_keys').values({ ...row, status: 'retiring' }).execute();
      await assert.rejects(keyring.decryptField(ref(NOTES, 'n6'), sealed), hasCode('crypto.authentication_failed'));
    } finally {
      await other.cleanup();
    }
  });

  test('reports truncated and garbled input as malformed, and unknown keys as unknown', async () => {
    const sealed = await keyring.encryptField(ref(NOTES, 'n7'), 'Flat 3');
    const [format, keyId, nonce, body] = sealed.split('.') as [string, string, string, string];
    const cases: Array<[string, ErrorCode]> = [
      ['', 'crypto.ciphertext_malformed'],
      [`${format}.${keyId}`, 'crypto.ciphertext_malformed'],
      [`${format}.${keyId}.${nonce}`, 'crypto.ciphertext_malformed'],
      [`${format}.${keyId}.${nonce.slice(0, 8)}.${body}`, 'crypto.ciphertext_malformed'],
      [`${format}.${keyId}.${nonce}.${body.slice(0, 10)}`, 'crypto.ciphertext_malformed'],
      [`${format}.${keyId}.${nonce}.${body.slice(0, -4)}`, 'crypto.authentication_failed'],
      [`${format}.${keyId}.${nonce}.${body}+=`, 'crypto.ciphertext_malformed'],
      [`rk9.${keyId}.${nonce}.${body}`, 'crypto.ciphertext_malformed'],
      [`${format}.dk_doesnotexist.${nonce}.${body}`, 'crypto.unknown_key'],
    ];
    for (const [input, code] of cases) {
      await assert.rejects(keyring.decryptField(ref(NOTES, 'n7'), input), hasCode(code), `input ${JSON.stringify(input)}`);
    }
  });

  test('refuses to open with a master key other than the one the database was created with', async () => {
    await assert.rejects(Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: COLUMNS }), hasCode('crypto.master_key_mismatch'));
  });

  test('refuses a data key whose wrapped material was altered', async () => {
    const other = await sqliteTarget.open();
    try {
      const ring = await Keyring.open({ database: other.database, masterKey: key, clock, columns: COLUMNS });
      const sealed = await ring.encryptField(ref(TOKENS, 't9'), 'device key');
      const keyId = sealed.split('.')[1] ?? '';
      const row = await other.database.db.selectFrom('data_keys').select('wrapped_key').where('id', '=', keyId).executeTakeFirstOrThrow();
      await other.database.db.updateTable('data_keys').set({ wrapped_key: flipBit(row.wrapped_key ?? '', 2) }).where('id', '=', keyId).execute();
      const fresh = await Keyring.open({ database: other.database, masterKey: key, clock, columns: COLUMNS });
      await assert.rejects(fresh.decryptField(ref(TOKENS, 't9'), sealed), hasCode('crypto.authentication_failed'));
    } finally {
      await other.cleanup();
    }
  });

  test('refuses to encrypt into a column that is not registered', async () => {
    await assert.rejects(keyring.encryptField({ table: 'notes', column: 'unregistered', rowId: 'x' }, 'y'), /not a registered encrypted column/);
  });

  test('signs with Ed25519 and publishes only public keys in the JWKS', async () => {
    const data = Buffer.from('receipt payload');
    const { kid, signature } = await keyring.sign('receipt', data);
    assert.equal(await keyring.verify(kid, data, signature), true);
    assert.equal(await keyring.verify(kid, Buffer.from('receipt payload!'), signature), false);
    const jwks = await keyring.publicJwks();
    const jwk = jwks.keys.find((k) => k.kid === kid);
    assert.ok(jwk !== undefined);
    assert.equal(jwk.kty, 'OKP');
    assert.equal(jwk.crv, 'Ed25519');
    assert.equal(jwk.alg, 'EdDSA');
    assert.equal('d' in jwk, false, 'no private component');
    assert.equal(verify(null, data, createPublicKey({ key: jwk, format: 'jwk' }), signature), true, 'verifiable from the JWKS alone');
    const stored = await opened.database.db.selectFrom('signing_keys').select('wrapped_private_key').where('kid', '=', kid).executeTakeFirstOrThrow();
    assert.match(stored.wrapped_private_key, /^w1\./, 'private keys are stored wrapped');
  });
});

describe('key rotation', () => {
  let opened: OpenedDatabase;
  const key = masterKey();

  before(async () => {
    opened = await sqliteTarget.open();
    await opened.database.db.schema.createTable('notes').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('body', 'text').addColumn('title', 'text').execute();
    await opened.database.db.schema.createTable('tokens').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('value', 'text').execute();
  });
  after(() => opened.cleanup());

  async function insertNote(ring: Keyring, id: string, body: string): Promise<void> {
    const sealed = await ring.encryptField(ref(NOTES, id), body);
    await sql`insert into notes (id, body) values (${id}, ${sealed})`.execute(opened.database.db);
  }

  test('keeps every value readable, keeps old signatures verifiable, and retires unused keys', async () => {
    const clock = new ManualClock();
    const ring = await Keyring.open({ database: opened.database, masterKey: key, clock, columns: COLUMNS });
    for (let i = 0; i < 30; i++) await insertNote(ring, `n${String(i).padStart(2, '0')}`, `note ${i}`);
    const signed = await ring.sign('audit', Buffer.from('checkpoint 1'));
    const phases = new Set<string>();

    const report = await rotateKeys({ database: opened.database, keyring: ring, columns: COLUMNS, clock, settleMs: 0, pageSize: 4, onProgress: (p) => void phases.add(p.phase) });

    assert.equal(report.reencrypted, 30);
    assert.equal(report.stillRetiring.length, 0);
    assert.equal(report.newSigningKeys.length, 3);
    assert.deepEqual([...phases], ['reencrypt', 'retire']);
    for (let i = 0; i < 30; i++) {
      const id = `n${String(i).padStart(2, '0')}`;
      const row = await opened.database.db.selectFrom('data_keys').select('id').where('status', '=', 'active').where('purpose', '=', 'personal').executeTakeFirstOrThrow();
      const value = await sql<{ body: string }>`select body from notes where id = ${id}`.execute(opened.database.db);
      const body = value.rows[0]?.body ?? '';
      assert.ok(body.startsWith(`rk1.${row.id}.`), 'value is under the new key');
      assert.equal(await ring.decryptFieldText(ref(NOTES, id), body), `note ${i}`);
    }
    assert.equal(await ring.verify(signed.kid, Buffer.from('checkpoint 1'), signed.signature), true, 'old signature still verifies');
    const jwks = await ring.publicJwks();
    assert.ok(jwks.keys.some((k) => k.kid === signed.kid), 'rotated-out key stays published');
    assert.notEqual((await ring.signingKey('audit')).kid, signed.kid, 'a new key signs from now on');
  });

  test('keeps an old key while a process with a stale cache still wrote under it', async () => {
    const clock = new ManualClock();
    const ring = await Keyring.open({ database: opened.database, masterKey: key, clock, columns: COLUMNS });
    const stale = await Keyring.open({ database: opened.database, masterKey: key, clock, columns: COLUMNS });
    const oldKey = await stale.activeDataKeyId('personal'); // the "other server" caches the active key
    await insertNote(ring, 'late-0', 'before');

    const report = await rotateKeys({
      database: opened.database,
      keyring: ring,
      columns: COLUMNS,
      clock,
      settleMs: 0,
      onProgress: async (p) => {
        // Between re-encryption and retirement, the other server still writes under the old key.
        if (p.phase === 'retire' && p.done === 0) await insertNote(stale, 'late-1', 'written during rotation');
      },
    });

    assert.deepEqual(report.stillRetiring, [oldKey]);
    assert.equal(report.retired.includes(oldKey), false);
    const late = await sql<{ body: string }>`select body from notes where id = 'late-1'`.execute(opened.database.db);
    assert.ok(late.rows[0]?.body.startsWith(`rk1.${oldKey}.`));
    assert.equal(await ring.decryptFieldText(ref(NOTES, 'late-1'), late.rows[0]?.body ?? ''), 'written during rotation');

    clock.advance(ACTIVE_KEY_CACHE_MS);
    const again = await rotateKeys({ database: opened.database, keyring: ring, columns: COLUMNS, clock, settleMs: 0 });
    assert.ok(again.retired.includes(oldKey), 'a later rotation sweeps the value and retires the key');
    assert.deepEqual(again.stillRetiring, []);
    const oldRow = await opened.database.db.selectFrom('data_keys').select(['status', 'wrapped_key']).where('id', '=', oldKey).executeTakeFirstOrThrow();
    assert.equal(oldRow.status, 'retired');
    assert.equal(oldRow.wrapped_key, null);
  });

  test('waits long enough for other processes to pick up the new key', async () => {
    const clock = new ManualClock();
    const ring = await Keyring.open({ database: opened.database, masterKey: key, clock, columns: COLUMNS });
    const other = await Keyring.open({ database: opened.database, masterKey: key, clock, columns: COLUMNS });
    const before = await other.activeDataKeyId('personal');
    let waited = 0;
    await rotateKeys({
      database: opened.database,
      keyring: ring,
      columns: COLUMNS,
      clock,
      sleep: (ms) => {
        waited = ms;
        clock.advance(ms);
        return Promise.resolve();
      },
    });
    assert.ok(waited > ACTIVE_KEY_CACHE_MS);
    const after = await other.activeDataKeyId('personal');
    assert.notEqual(after, before, 'the other process now encrypts under the new key');
    assert.equal(after, await ring.activeDataKeyId('personal'));
  });
});

describe('master key', () => {
  test('generates a 0600 development key on first start and reuses it', () => {
    const dir = tempDir();
    try {
      const config = testConfig(dir.path);
      const first = resolveMasterKey(config);
      assert.equal(first.generated, true);
      assert.equal(first.source, 'development');
      assert.equal(statSync(first.file ?? '').mode & 0o777, 0o600);
      const second = resolveMasterKey(config);
      assert.equal(second.generated, false);
      assert.deepEqual(second.key, first.key);
    } finally {
      dir.cleanup();
    }
  });

  test('never generates a key in production or for maintenance commands', () => {
    const dir = tempDir();
    try {
      assert.throws(() => resolveMasterKey(testConfig(dir.path, { env: 'production' })), hasCode('crypto.master_key_missing'));
      assert.throws(() => resolveMasterKey(testConfig(dir.path), { create: false }), hasCode('crypto.master_key_missing'));
    } finally {
      dir.cleanup();
    }
  });

  test('refuses a key file readable by others and a key of the wrong size', () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'kek');
      writeFileSync(file, masterKey().toString('base64'), { mode: 0o644 });
      chmodSync(file, 0o644);
      assert.throws(() => resolveMasterKey(testConfig(dir.path, { keyring: { masterKeyFile: file } })), hasCode('crypto.key_file_insecure'));
      chmodSync(file, 0o600);
      assert.equal(resolveMasterKey(testConfig(dir.path, { keyring: { masterKeyFile: file } })).source, 'file');
      writeFileSync(file, Buffer.alloc(16).toString('base64'));
      assert.throws(() => resolveMasterKey(testConfig(dir.path, { keyring: { masterKeyFile: file } })), hasCode('crypto.master_key_invalid'));
      assert.throws(() => resolveMasterKey(testConfig(dir.path, { keyring: { masterKey: 'not base64!' } })), hasCode('crypto.master_key_invalid'));
    } finally {
      dir.cleanup();
    }
  });
});
