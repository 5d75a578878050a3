import type { Kysely, Selectable } from 'kysely';
import { RampartError } from '../../kernel/errors.ts';
import type { Db } from '../../storage/database.ts';
import { decodeCursor, encodeCursor } from '../../storage/listing.ts';
import type { Tables, WebhookDeliveryTable } from '../../storage/tables.ts';

// The webhook_deliveries table: the queue the dispatcher works through and the
// delivery log administrators read. A row is claimed with a compare-and-set on
// its attempt count, so two dispatchers (two processes, or one restarted while
// the other ran) never send the same attempt twice; a claim pushes the row's
// next attempt past the send deadline, so a crash mid-send only delays it.

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryView {
  readonly id: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  /** When the next attempt is due (pending only). */
  readonly nextAttemptAt: string | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly lastAttemptAt: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
  /** The JSON body, exactly as sent. */
  readonly payload: string;
}

type Row = Selectable<WebhookDeliveryTable>;

export function deliveryView(row: Row): DeliveryView {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    payload: row.payload,
  };
}

/** Due pending deliveries, oldest due first. */
export function dueDeliveries(db: Db, now: string, limit: number): Promise<Pick<Row, 'id' | 'attempts'>[]> {
  return db.selectFrom('webhook_deliveries').select(['id', 'attempts']).where('status', '=', 'pending').where('next_attempt_at', '<=', now).orderBy('next_attempt_at').orderBy('id').limit(limit).execute();
}

/** Takes one due delivery for an attempt; false when another dispatcher took it first. */
export async function claimDelivery(db: Db, id: string, seenAttempts: number, now: string, leaseUntil: string): Promise<boolean> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ attempts: seenAttempts + 1, next_attempt_at: leaseUntil, last_attempt_at: now })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('attempts', '=', seenAttempts)
    .where('next_attempt_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface ClaimedDelivery {
  readonly id: string;
  readonly payload: string;
  readonly attempts: number;
  readonly endpointId: string;
  readonly url: string;
  readonly secret: string;
  readonly endpointStatus: 'enabled' | 'disabled';
}

export async function loadClaimed(db: Db, ids: readonly string[]): Promise<ClaimedDelivery[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .select(['d.id', 'd.payload', 'd.attempts', 'd.endpoint_id', 'e.url', 'e.secret', 'e.status'])
    .where('d.id', 'in', [...ids])
    .orderBy('d.next_attempt_at')
    .execute();
  return rows.map((r) => ({ id: r.id, payload: r.payload, attempts: r.attempts, endpointId: r.endpoint_id, url: r.url, secret: r.secret, endpointStatus: r.status }));
}

export type AttemptOutcome =
  | { readonly kind: 'delivered'; readonly statusCode: number; readonly at: string }
  | { readonly kind: 'retry'; readonly statusCode: number | null; readonly error: string; readonly at: string; readonly nextAttemptAt: string }
  | { readonly kind: 'failed'; readonly statusCode: number | null; readonly error: string; readonly at: string };

const MAX_ERROR = 500;

/** Records an attempt's outcome, unless the claim was lost meanwhile (the row moved on). */
export async function recordOutcome(db: Db, id: string, attempt: number, outcome: AttemptOutcome): Promise<boolean> {
  const fields =
    outcome.kind === 'delivered'
      ? { status: 'delivered' as const, delivered_at: outcome.at, last_status_code: outcome.statusCode, last_error: null }
      : outcome.kind === 'retry'
        ? { status: 'pending' as const, next_attempt_at: outcome.nextAttemptAt, last_status_code: outcome.statusCode, last_error: outcome.error.slice(0, MAX_ERROR) }
        : { status: 'failed' as const, last_status_code: outcome.statusCode, last_error: outcome.error.slice(0, MAX_ERROR) };
  const result = await db.updateTable('webhook_deliveries').set(fields).where('id', '=', id).where('status', '=', 'pending').where('attempts', '=', attempt).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface DeliveryQuery {
  readonly status?: DeliveryStatus;
  readonly limit: number;
  readonly cursor?: string;
}

/** Newest-first keyset pagination on (created_at, id) of the previous page's last row. */
function afterDelivery(cursor: string): { createdAt: string; id: string } {
  return decodeCursor(
    cursor,
    ([createdAt, id, ...rest]) =>
      typeof createdAt === 'string' && typeof id === 'string' && rest.length === 0 && !Number.isNaN(Date.parse(createdAt)) && /^whd_[A-Za-z0-9_-]{22}$/.test(id) ? { createdAt: new Date(createdAt).toISOString(), id } : undefined,
    { message: 'malformed delivery cursor', detail: 'The cursor is not one this API returned.' },
  );
}

export async function listDeliveries(db: Db, endpointId: string, query: DeliveryQuery): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
  let select = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1);
  if (query.status !== undefined) select = select.where('status', '=', query.status);
  if (query.cursor !== undefined) {
    const after = afterDelivery(query.cursor);
    select = select.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]));
  }
  const rows = await select.execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { items: page.map(deliveryView), nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor([last.created_at, last.id]) : null };
}

export async function findDelivery(db: Kysely<Tables>, endpointId: string, id: string): Promise<Row> {
  const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).where('endpoint_id', '=', endpointId).executeTakeFirst();
  if (row === undefined) throw new RampartError('webhook.delivery_not_found', `endpoint ${endpointId} has no delivery ${id}`);
  return row;
}

/** Queues a delivered or failed delivery again, due now, with a fresh allowance of attempts. */
export async function requeueDelivery(trx: Kysely<Tables>, id: string, now: string): Promise<void> {
  await trx.updateTable('webhook_deliveries').set({ status: 'pending', attempts: 0, next_attempt_at: now, delivered_at: null }).where('id', '=', id).where('status', '!=', 'pending').execute();
}
