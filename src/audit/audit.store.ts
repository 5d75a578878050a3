import { sql } from 'kysely';
import type { Database, Db } from '../storage/database.ts';
import type { AuditCheckpointTable, AuditEntryTable, AuditHeadTable } from '../storage/tables.ts';

// Queries over the three audit tables. Appends live in append.ts (they must
// run inside the caller's transaction); everything here reads, or writes
// checkpoints.

export type AuditEntryRow = AuditEntryTable;
export type AuditCheckpointRow = AuditCheckpointTable;
export type AuditHeadRow = Omit<AuditHeadTable, 'id'>;

export async function readHead(db: Db): Promise<AuditHeadRow> {
  return db.selectFrom('audit_head').select(['seq', 'hash', 'checkpoint_seq', 'checkpoint_at']).where('id', '=', 1).executeTakeFirstOrThrow();
}

/** Entries with seq > `after`, in seq order, one page at a time (keyset pagination: constant memory). */
export async function* entriesAfter(db: Db, after: number, pageSize: number): AsyncGenerator<AuditEntryRow> {
  let last = after;
  for (;;) {
    const page = await db.selectFrom('audit_entries').selectAll().where('seq', '>', last).orderBy('seq').limit(pageSize).execute();
    for (const row of page) yield row;
    const tail = page.at(-1);
    if (tail === undefined || page.length < pageSize) return;
    last = tail.seq;
  }
}

/** Checkpoints with seq > `after`, in seq order, a page at a time. */
export async function* checkpointsAfter(db: Db, after: number, pageSize: number): AsyncGenerator<AuditCheckpointRow> {
  let last = after;
  for (;;) {
    const page = await db.selectFrom('audit_checkpoints').selectAll().where('seq', '>', last).orderBy('seq').limit(pageSize).execute();
    for (const row of page) yield row;
    const tail = page.at(-1);
    if (tail === undefined || page.length < pageSize) return;
    last = tail.seq;
  }
}

export async function countEntries(db: Db): Promise<number> {
  const row = await db.selectFrom('audit_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return row.n;
}

/** Entries stored without a seq (SQLite lets a non-integer primary key hold NULL); never written by Rampart. */
export async function countUnnumbered(db: Db): Promise<number> {
  const result = await sql<{ n: number }>`select count(*) as n from audit_entries where seq is null`.execute(db);
  return result.rows[0]?.n ?? 0;
}

/** The first entry stamped at or after `at`, by seq. */
export async function firstSeqAtOrAfter(db: Db, at: string): Promise<number | undefined> {
  const row = await db.selectFrom('audit_entries').select('seq').where('at', '>=', at).orderBy('seq').limit(1).executeTakeFirst();
  return row?.seq;
}

/** Which row stores this hash (a scan: used only to explain a break already found). */
export async function seqWithHash(db: Db, hash: string): Promise<number | undefined> {
  const row = await db.selectFrom('audit_entries').select('seq').where('hash', '=', hash).orderBy('seq').limit(1).executeTakeFirst();
  return row?.seq;
}

/** Which row chains to this hash (a scan, as above). */
export async function seqWithPrevHash(db: Db, hash: string): Promise<number | undefined> {
  const row = await db.selectFrom('audit_entries').select('seq').where('prev_hash', '=', hash).orderBy('seq').limit(1).executeTakeFirst();
  return row?.seq;
}

export async function findCheckpoint(db: Db, seq: number): Promise<AuditCheckpointRow | undefined> {
  return db.selectFrom('audit_checkpoints').selectAll().where('seq', '=', seq).executeTakeFirst();
}

export async function insertCheckpoint(db: Db, row: AuditCheckpointRow): Promise<void> {
  await db.insertInto('audit_checkpoints').values(row).execute();
}

/** Records the newest checkpoint on the head row; never moves the mark backwards. */
export async function markCheckpoint(db: Db, seq: number, at: string): Promise<void> {
  await db.updateTable('audit_head').set({ checkpoint_seq: seq, checkpoint_at: at }).where('id', '=', 1).where('checkpoint_seq', '<', seq).execute();
}

/** Public JWKs of the keys that sign checkpoints (current and rotated out): only the `audit` purpose. */
export async function auditPublicJwks(db: Db): Promise<Array<Record<string, unknown>>> {
  const rows = await db.selectFrom('signing_keys').select('public_jwk').where('purpose', '=', 'audit').orderBy('created_at').orderBy('kid').execute();
  return rows.map((r) => JSON.parse(r.public_jwk) as Record<string, unknown>);
}

/**
 * Runs `read` in one read-only, repeatable-read snapshot, so that appends made
 * meanwhile neither show up half-way nor look like tampering.
 */
export function inSnapshot<T>(database: Database, read: (trx: Db) => Promise<T>): Promise<T> {
  return database.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(read);
}
