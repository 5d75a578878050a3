import { RampartError } from '../kernel/errors.ts';
import type { Db } from '../storage/database.ts';
import { decodeCursor, encodeCursor } from '../storage/listing.ts';
import type { AuditEntryTable, AuditOutcome } from '../storage/tables.ts';

// Reading the trail for people: filters, newest first, keyset pagination on seq
// (stable while entries keep arriving, and no OFFSET scans).

export const QUERY_LIMIT_MAX = 200;
export const QUERY_LIMIT_DEFAULT = 50;

export interface AuditQuery {
  /** Actor id (account, service principal or OS user). */
  readonly actor?: string;
  /** Exact action, e.g. `auth.login`. */
  readonly action?: string;
  /** Target id. */
  readonly target?: string;
  /** Inclusive bounds on the entry's time. */
  readonly from?: Date;
  readonly to?: Date;
  /** From a previous page's `nextCursor`. */
  readonly cursor?: string;
  /** 1..200, default 50. */
  readonly limit?: number;
}

export type AuditDetails = Record<string, unknown>;

export interface AuditItem {
  readonly seq: number;
  readonly id: string;
  readonly at: string;
  readonly actor: { readonly type: string; readonly id: string | null; readonly authMethod: string | null };
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly target: { readonly type: string | null; readonly id: string | null } | null;
  readonly context: { readonly sourceIp: string | null; readonly userAgent: string | null; readonly requestId: string | null };
  readonly details: AuditDetails;
  readonly hash: string;
}

export interface AuditPage {
  readonly items: AuditItem[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
}

/** The sequence number a page cursor carries: the next page holds the entries before it. */
function beforeSeq(cursor: string): number {
  return decodeCursor(cursor, ([before, ...rest]) => (typeof before === 'number' && rest.length === 0 && Number.isSafeInteger(before) && before >= 1 ? before : undefined), {
    message: 'audit cursor is not one this server issued',
    detail: 'cursor is invalid; use the nextCursor of a previous page',
  });
}

function parseDetails(details: string): AuditDetails {
  try {
    const parsed: unknown = JSON.parse(details);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as AuditDetails;
  } catch {
    // Stored details are canonical JSON by construction; anything else was altered, and `rampart audit verify` says so.
  }
  return { unparsed: details };
}

export function presentEntry(row: AuditEntryTable): AuditItem {
  return {
    seq: row.seq,
    id: row.id,
    at: row.at,
    actor: { type: row.actor_type, id: row.actor_id, authMethod: row.auth_method },
    action: row.action,
    outcome: row.outcome,
    target: row.target_type === null && row.target_id === null ? null : { type: row.target_type, id: row.target_id },
    context: { sourceIp: row.source_ip, userAgent: row.user_agent, requestId: row.request_id },
    details: parseDetails(row.details),
    hash: row.hash,
  };
}

export async function queryAudit(db: Db, query: AuditQuery): Promise<AuditPage> {
  const limit = query.limit ?? QUERY_LIMIT_DEFAULT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > QUERY_LIMIT_MAX) {
    throw new RampartError('request.invalid', `audit query limit ${limit} is outside 1..${QUERY_LIMIT_MAX}`, { publicDetail: `limit must be between 1 and ${QUERY_LIMIT_MAX}` });
  }
  if (query.from !== undefined && query.to !== undefined && query.from.getTime() > query.to.getTime()) {
    throw new RampartError('request.invalid', 'audit query has from after to', { publicDetail: '"from" must not be later than "to"' });
  }
  const before = query.cursor === undefined ? undefined : beforeSeq(query.cursor);
  let select = db.selectFrom('audit_entries').selectAll();
  if (query.actor !== undefined) select = select.where('actor_id', '=', query.actor);
  if (query.action !== undefined) select = select.where('action', '=', query.action);
  if (query.target !== undefined) select = select.where('target_id', '=', query.target);
  if (query.from !== undefined) select = select.where('at', '>=', query.from.toISOString());
  if (query.to !== undefined) select = select.where('at', '<=', query.to.toISOString());
  if (before !== undefined) select = select.where('seq', '<', before);
  // One extra row says whether another page exists.
  const rows = await select.orderBy('seq', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(presentEntry), nextCursor: rows.length > limit && last !== undefined ? encodeCursor([last.seq]) : null };
}
