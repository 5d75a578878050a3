import { sql } from 'kysely';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Db } from '../../storage/database.ts';
import { decodeCursor, encodeCursor, valueAndId } from '../../storage/listing.ts';
import { SUMMARY_COLUMNS, summaryView, type DeliveryMode, type ShipmentSummary } from './shipments.store.ts';
import type { FailureReason, ShipmentStatus } from './status.ts';
import { parseTrackingNumber } from './tracking-number.ts';
import { hashTrackingToken, TRACKING_TOKEN_PATTERN } from './tracking-token.ts';

// Reading shipments: the filtered, sorted, keyset-paginated list; a
// shipment's history; and the public tracking view. None of these decrypt
// recipient data except history notes, and only when asked to.

export const SHIPMENT_SORTS = ['createdAt', 'windowStart', 'trackingNumber'] as const;
export type ShipmentSort = (typeof SHIPMENT_SORTS)[number];
const SORT_COLUMN = { createdAt: 'created_at', windowStart: 'window_start', trackingNumber: 'tracking_number' } as const;

export interface ShipmentQuery {
  /** Only these depots (a dispatcher's scope); undefined: all. */
  readonly depots?: readonly string[] | undefined;
  /** Only shipments assigned to this account (a driver's own). */
  readonly ownerId?: string | undefined;
  readonly depot?: string | undefined;
  readonly status?: readonly ShipmentStatus[] | undefined;
  readonly mode?: DeliveryMode | undefined;
  readonly driver?: string | undefined;
  /** Windows starting at or after / before these times. */
  readonly windowFrom?: string | undefined;
  readonly windowTo?: string | undefined;
  /** A tracking number (any spelling) or part of one, or a sender reference. */
  readonly q?: string | undefined;
  readonly sort?: ShipmentSort | undefined;
  readonly order?: 'asc' | 'desc' | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface HistoryEntry {
  readonly seq: number;
  readonly from: ShipmentStatus | null;
  readonly to: ShipmentStatus;
  readonly reason: FailureReason | null;
  readonly hasNote: boolean;
  /** The note, for callers who may see recipient data; otherwise null. */
  readonly note: string | null;
  readonly driverId: string | null;
  readonly actor: { readonly type: string; readonly id: string | null };
  readonly at: string;
}

export interface TrackingView {
  readonly status: ShipmentStatus;
  readonly window: { readonly start: string; readonly end: string };
  readonly eta: string | null;
  readonly lastUpdate: string;
}

/** Where an ETA comes from once routes exist; until then there is none. */
export type EtaSource = (shipmentId: string) => Promise<string | null>;

export async function listShipments(db: Db, query: ShipmentQuery): Promise<{ items: ShipmentSummary[]; nextCursor: string | null }> {
  if (query.depots !== undefined && query.depots.length === 0) return { items: [], nextCursor: null };
  const sort = SORT_COLUMN[query.sort ?? 'createdAt'];
  const order = query.order ?? (sort === 'created_at' ? 'desc' : 'asc');
  let select = db.selectFrom('shipments').select(SUMMARY_COLUMNS).orderBy(sort, order).orderBy('id', order).limit(query.limit + 1);
  if (query.depots !== undefined) select = select.where('depot_id', 'in', [...query.depots]);
  if (query.ownerId !== undefined) select = select.where('assigned_driver_id', '=', query.ownerId);
  if (query.depot !== undefined) select = select.where('depot_id', '=', query.depot);
  if (query.status !== undefined && query.status.length > 0) select = select.where('status', 'in', [...query.status]);
  if (query.mode !== undefined) select = select.where('mode', '=', query.mode);
  if (query.driver !== undefined) select = select.where('assigned_driver_id', '=', query.driver);
  if (query.windowFrom !== undefined) select = select.where('window_start', '>=', query.windowFrom);
  if (query.windowTo !== undefined) select = select.where('window_start', '<', query.windowTo);
  if (query.q !== undefined && query.q.trim() !== '') {
    const exact = parseTrackingNumber(query.q);
    if (exact !== undefined) select = select.where('tracking_number', '=', exact);
    else {
      const compact = `%${query.q.toUpperCase().replace(/[^0-9A-Z]/g, '')}%`;
      const q = query.q.trim();
      select = select.where((eb) => eb.or([eb(sql<string>`replace(tracking_number, '-', '')`, 'like', compact), eb('reference', '=', q)]));
    }
  }
  if (query.cursor !== undefined) {
    const { value, id } = decodeCursor(query.cursor, valueAndId);
    const op = order === 'asc' ? '>' : '<';
    select = select.where((eb) => eb.or([eb(sort, op, String(value)), eb.and([eb(sort, '=', String(value)), eb('id', op, id)])]));
  }
  const rows = await select.execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { items: page.map(summaryView), nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor([last[sort], last.id]) : null };
}

export async function shipmentHistory(db: Db, keyring: Keyring, shipmentId: string, withNotes: boolean): Promise<HistoryEntry[]> {
  const rows = await db.selectFrom('shipment_events').selectAll().where('shipment_id', '=', shipmentId).orderBy('seq').execute();
  return Promise.all(
    rows.map(async (row) => ({
      seq: row.seq,
      from: row.from_status,
      to: row.to_status,
      reason: row.reason,
      hasNote: row.note !== null,
      note: withNotes && row.note !== null ? await keyring.decryptFieldText({ table: 'shipment_events', column: 'note', rowId: row.id }, row.note) : null,
      driverId: row.driver_id,
      actor: { type: row.actor_type, id: row.actor_id },
      at: row.at,
    })),
  );
}

/** The public view for a tracking token, or undefined for any token that is not current. */
export async function trackShipment(db: Db, token: string, etaFor: EtaSource): Promise<TrackingView | undefined> {
  if (!TRACKING_TOKEN_PATTERN.test(token)) return undefined;
  const row = await db.selectFrom('shipments').select(['id', 'status', 'window_start', 'window_end', 'last_event_at']).where('tracking_token_hash', '=', hashTrackingToken(token)).executeTakeFirst();
  if (row === undefined) return undefined;
  return { status: row.status, window: { start: row.window_start, end: row.window_end }, eta: await etaFor(row.id), lastUpdate: row.last_event_at };
}
