import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Clock } from '../kernel/clock.ts';
import type { Database } from '../storage/database.ts';
import type { EncryptedColumn } from './encrypted-columns.ts';
import { ACTIVE_KEY_CACHE_MS, fieldKeyPrefix, SIGNING_PURPOSES, type Keyring } from './keyring.ts';
import * as store from './keyring.store.ts';

export interface RotationProgress {
  readonly phase: 'settle' | 'reencrypt' | 'retire';
  readonly done: number;
  readonly total: number;
}

export interface RotationReport {
  readonly newDataKeys: string[];
  readonly newSigningKeys: string[];
  readonly reencrypted: number;
  /** Old data keys whose material was destroyed because nothing refers to them any more. */
  readonly retired: string[];
  /** Old data keys still referenced (written by a process with a stale cache); kept, decrypt-only. */
  readonly stillRetiring: string[];
}

export interface RotateOptions {
  readonly database: Database;
  readonly keyring: Keyring;
  readonly columns: readonly EncryptedColumn[];
  readonly clock: Clock;
  /** Wait so running servers' caches of the old active keys expire; default: their cache lifetime plus a second. */
  readonly settleMs?: number;
  readonly pageSize?: number;
  /** Awaited, so a reporter may do I/O. */
  readonly onProgress?: (progress: RotationProgress) => void | Promise<void>;
  /** How the settle wait passes; tests advance a manual clock instead of sleeping. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Rotates every data and signing key:
 *   1. one transaction: each active data key becomes `retiring` (decrypt-only) and a new
 *      active key replaces it; each active signing key becomes `verify_only` (it stays in
 *      the JWKS so old signatures still verify) and a new one replaces it;
 *   2. waits until running processes have dropped their cached active keys;
 *   3. re-encrypts every value of every registered column that is not under a new key;
 *   4. retires (destroys the material of) each old key that no value refers to any more.
 * Re-running after an interruption is safe: it rotates again and sweeps everything.
 */
export async function rotateKeys(options: RotateOptions): Promise<RotationReport> {
  const { database, keyring, clock } = options;
  const progress = async (p: RotationProgress) => {
    await options.onProgress?.(p);
  };
  const now = () => clock.now().toISOString();

  const { newDataKeys, newSigningKeys } = await database.db.transaction().execute(async (trx) => {
    const dataKeys = await trx.selectFrom('data_keys').selectAll().where('status', '=', 'active').execute();
    const purposes = new Set([...dataKeys.map((k) => k.purpose), ...options.columns.map((c) => c.purpose)]);
    const createdData: string[] = [];
    for (const key of dataKeys) await store.setDataKeyStatus(trx, key.id, 'retiring');
    for (const purpose of purposes) {
      const row = keyring.newDataKeyRow(purpose);
      await store.insertDataKey(trx, row);
      createdData.push(row.id);
    }
    const createdSigning: string[] = [];
    for (const purpose of SIGNING_PURPOSES) {
      const active = await store.findActiveSigningKey(trx, purpose);
      if (active !== undefined) await store.demoteSigningKey(trx, active.kid, now());
      const row = keyring.newSigningKeyRow(purpose);
      await store.insertSigningKey(trx, row);
      createdSigning.push(row.kid);
    }
    return { newDataKeys: createdData, newSigningKeys: createdSigning };
  });
  keyring.forgetActiveKeys();

  const settleMs = options.settleMs ?? ACTIVE_KEY_CACHE_MS + 1_000;
  if (settleMs > 0) {
    await progress({ phase: 'settle', done: 0, total: settleMs });
    await (options.sleep ?? sleep)(settleMs);
    await progress({ phase: 'settle', done: settleMs, total: settleMs });
  }

  const newPrefixes = new Set(newDataKeys.map(fieldKeyPrefix));
  const isCurrent = (value: string) => [...newPrefixes].some((p) => value.startsWith(p));
  const total = await countStale(database, options.columns, newDataKeys);
  let reencrypted = 0;
  await progress({ phase: 'reencrypt', done: 0, total });
  for (const column of options.columns) {
    for await (const row of pageThrough(database, column, options.pageSize ?? 500)) {
      if (isCurrent(row.value)) continue;
      const ref = { table: column.table, column: column.column, rowId: row.id };
      const plaintext = await keyring.decryptField(ref, row.value);
      const updated = await keyring.encryptField(ref, plaintext);
      // Only replace the value we read; a concurrent writer's newer value wins.
      await sql`update ${sql.table(column.table)} set ${sql.ref(column.column)} = ${updated}
                where ${sql.ref(column.idColumn)} = ${row.id} and ${sql.ref(column.column)} = ${row.value}`.execute(database.db);
      reencrypted++;
      await progress({ phase: 'reencrypt', done: reencrypted, total: Math.max(total, reencrypted) });
    }
  }

  const retiring = (await store.listDataKeys(database.db)).filter((k) => k.status === 'retiring');
  const retired: string[] = [];
  const stillRetiring: string[] = [];
  await progress({ phase: 'retire', done: 0, total: retiring.length });
  for (const key of retiring) {
    if ((await countReferences(database, options.columns, key.id)) === 0) {
      await store.retireDataKey(database.db, key.id, now());
      retired.push(key.id);
    } else {
      stillRetiring.push(key.id);
    }
    await progress({ phase: 'retire', done: retired.length + stillRetiring.length, total: retiring.length });
  }
  return { newDataKeys, newSigningKeys, reencrypted, retired, stillRetiring };
}

function startsWith(column: string, prefix: string) {
  // substr rather than LIKE: key ids contain `_`, a LIKE wildcard.
  return sql<boolean>`substr(${sql.ref(column)}, 1, ${prefix.length}) = ${prefix}`;
}

async function countStale(database: Database, columns: readonly EncryptedColumn[], currentKeyIds: readonly string[]): Promise<number> {
  let total = 0;
  for (const column of columns) {
    const current = currentKeyIds.map((id) => sql`not ${startsWith(column.column, fieldKeyPrefix(id))}`);
    const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(column.table)}
      where ${sql.ref(column.column)} is not null ${current.length > 0 ? sql`and ${sql.join(current, sql` and `)}` : sql``}`.execute(database.db);
    total += Number(result.rows[0]?.n ?? 0);
  }
  return total;
}

async function countReferences(database: Database, columns: readonly EncryptedColumn[], keyId: string): Promise<number> {
  let total = 0;
  for (const column of columns) {
    const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(column.table)}
      where ${startsWith(column.column, fieldKeyPrefix(keyId))}`.execute(database.db);
    total += Number(result.rows[0]?.n ?? 0);
  }
  return total;
}

/** Keyset pagination by primary key, so rows updated behind the cursor are not revisited. */
async function* pageThrough(database: Database, column: EncryptedColumn, pageSize: number): AsyncGenerator<{ id: string; value: string }> {
  let after: string | undefined;
  for (;;) {
    const result = await sql<{ id: string | number; value: string }>`select ${sql.ref(column.idColumn)} as id, ${sql.ref(column.column)} as value
      from ${sql.table(column.table)}
      where ${sql.ref(column.column)} is not null ${after === undefined ? sql`` : sql`and ${sql.ref(column.idColumn)} > ${after}`}
      order by ${sql.ref(column.idColumn)} limit ${pageSize}`.execute(database.db);
    for (const row of result.rows) yield { id: String(row.id), value: row.value };
    const last = result.rows.at(-1);
    if (last === undefined || result.rows.length < pageSize) return;
    after = String(last.id);
  }
}
