import type { Db } from '../storage/database.ts';
import type { DataKeyTable, SigningKeyTable } from '../storage/tables.ts';

// Rows of the keyring's three tables. Key material is stored only wrapped.

export type DataKeyRow = DataKeyTable;
export type SigningKeyRow = SigningKeyTable;

export async function readKekFingerprint(db: Db): Promise<string | undefined> {
  const row = await db.selectFrom('keyring_state').select('kek_fingerprint').where('id', '=', 1).executeTakeFirst();
  return row?.kek_fingerprint;
}

export async function insertKekFingerprint(db: Db, fingerprint: string, now: string): Promise<void> {
  await db.insertInto('keyring_state').values({ id: 1, kek_fingerprint: fingerprint, created_at: now }).execute();
}

export async function findActiveDataKey(db: Db, purpose: string): Promise<DataKeyRow | undefined> {
  return db.selectFrom('data_keys').selectAll().where('purpose', '=', purpose).where('status', '=', 'active').executeTakeFirst();
}

export async function findDataKey(db: Db, id: string): Promise<DataKeyRow | undefined> {
  return db.selectFrom('data_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertDataKey(db: Db, row: DataKeyRow): Promise<void> {
  await db.insertInto('data_keys').values(row).execute();
}

export async function listDataKeys(db: Db): Promise<DataKeyRow[]> {
  return db.selectFrom('data_keys').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function setDataKeyStatus(db: Db, id: string, status: DataKeyRow['status']): Promise<void> {
  await db.updateTable('data_keys').set({ status }).where('id', '=', id).execute();
}

/** Destroys a key's material; only after nothing refers to it. */
export async function retireDataKey(db: Db, id: string, now: string): Promise<void> {
  await db.updateTable('data_keys').set({ status: 'retired', wrapped_key: null, retired_at: now }).where('id', '=', id).where('status', '=', 'retiring').execute();
}

export async function findActiveSigningKey(db: Db, purpose: string): Promise<SigningKeyRow | undefined> {
  return db.selectFrom('signing_keys').selectAll().where('purpose', '=', purpose).where('status', '=', 'active').executeTakeFirst();
}

export async function findSigningKey(db: Db, kid: string): Promise<SigningKeyRow | undefined> {
  return db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
}

export async function insertSigningKey(db: Db, row: SigningKeyRow): Promise<void> {
  await db.insertInto('signing_keys').values(row).execute();
}

export async function listSigningKeys(db: Db): Promise<SigningKeyRow[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
}

export async function demoteSigningKey(db: Db, kid: string, now: string): Promise<void> {
  await db.updateTable('signing_keys').set({ status: 'verify_only', rotated_at: now }).where('kid', '=', kid).execute();
}
