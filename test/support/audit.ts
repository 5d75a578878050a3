import { sql } from 'kysely';
import type { Clock } from '../../src/kernel/clock.ts';
import type { Database, Db } from '../../src/storage/database.ts';
import type { AuditEntryTable } from '../../src/storage/tables.ts';
import { appendAudit, type AppendedEntry, type AuditEvent } from '../../src/audit/append.ts';
import { entryHash } from '../../src/audit/chain.ts';

// Audit-trail factories and tampering for tests. Tampering
// goes straight to the tables with SQL, as an attacker with database access would.

/** An event whose fields vary with `n`, so every entry differs. */
export function auditEvent(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    action: n % 2 === 0 ? 'user.role_change' : 'auth.login',
    outcome: 'success',
    actor: { type: 'account', id: `acct_${n % 3}`, authMethod: 'password' },
    target: { type: 'account', id: `acct_target_${n}` },
    context: { sourceIp: '10.0.0.7', userAgent: 'test-agent/1.0', requestId: `req_${n}` },
    details: { n, role: 'dispatcher' },
    ...overrides,
  };
}

/** Appends `count` entries, each in its own transaction, numbered from `from`; the clock moves a second between them when it can. */
export async function appendEvents(database: Database, clock: Clock & { advance?: (ms: number) => void }, count: number, from = 1): Promise<AppendedEntry[]> {
  const appended: AppendedEntry[] = [];
  for (let n = from; n < from + count; n++) {
    appended.push(await database.db.transaction().execute((trx) => appendAudit(trx, auditEvent(n), clock)));
    clock.advance?.(1_000);
  }
  return appended;
}

export async function entryAt(db: Db, seq: number): Promise<AuditEntryTable> {
  return db.selectFrom('audit_entries').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();
}

const CONTENT_COLUMNS = ['id', 'at', 'actor_type', 'actor_id', 'auth_method', 'action', 'target_type', 'target_id', 'outcome', 'source_ip', 'user_agent', 'request_id', 'details', 'prev_hash', 'hash'] as const;

type Content = Pick<AuditEntryTable, (typeof CONTENT_COLUMNS)[number]>;

function contentOf(row: AuditEntryTable): Content {
  return Object.fromEntries(CONTENT_COLUMNS.map((c) => [c, row[c]])) as unknown as Content;
}

/** Changes one field; with `rehash`, also stores the entry's recomputed hash (hiding the change from a hash check of that entry alone). */
export async function tamperField(db: Db, seq: number, rehash = false): Promise<void> {
  const row = await entryAt(db, seq);
  const changed = { ...row, action: 'auth.logout', details: '{"n":-1}' };
  await db.updateTable('audit_entries').set({ action: changed.action, details: changed.details, ...(rehash ? { hash: entryHash(changed) } : {}) }).where('seq', '=', seq).execute();
}

export async function deleteEntry(db: Db, seq: number, renumber = false): Promise<void> {
  await db.deleteFrom('audit_entries').where('seq', '=', seq).execute();
  if (renumber) await shiftSeqs(db, seq + 1, -1);
}

/** Moves every entry from `from` on by `by` (two steps, so no statement collides with the primary key). */
export async function shiftSeqs(db: Db, from: number, by: number): Promise<void> {
  const far = 1_000_000_000;
  await sql`update audit_entries set seq = seq + ${far} where seq >= ${from}`.execute(db);
  await sql`update audit_entries set seq = seq - ${far - by} where seq >= ${far}`.execute(db);
}

/** Swaps everything but the seq between two entries. */
export async function swapEntries(db: Db, a: number, b: number): Promise<void> {
  const first = contentOf(await entryAt(db, a));
  const second = contentOf(await entryAt(db, b));
  await db.updateTable('audit_entries').set({ id: 'swap_in_progress' }).where('seq', '=', a).execute();
  await db.updateTable('audit_entries').set(first).where('seq', '=', b).execute();
  await db.updateTable('audit_entries').set(second).where('seq', '=', a).execute();
}

/**
 * Inserts a forged entry at `seq`. `renumber` moves the entries from `seq` on up
 * by one first; `wellFormed` gives it a correct hash chained to the entry before.
 */
export async function insertForged(db: Db, seq: number, options: { renumber: boolean; wellFormed: boolean }): Promise<void> {
  if (options.renumber) await shiftSeqs(db, seq, 1);
  const before = await db.selectFrom('audit_entries').select('hash').where('seq', '=', seq - 1).executeTakeFirst();
  const fields = {
    seq,
    id: `aud_forged_${seq}`,
    at: new Date().toISOString(),
    actor_type: 'account',
    actor_id: 'acct_intruder',
    auth_method: 'password',
    action: 'user.role_change',
    target_type: 'account',
    target_id: 'acct_intruder',
    outcome: 'success' as const,
    source_ip: null,
    user_agent: null,
    request_id: null,
    details: '{"role":"admin"}',
    prev_hash: before?.hash ?? '0'.repeat(64),
  };
  await db.insertInto('audit_entries').values({ ...fields, hash: options.wellFormed ? entryHash(fields) : 'f'.repeat(64) }).execute();
}
