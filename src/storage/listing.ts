import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { RampartError } from '../kernel/errors.ts';

// Shared steps of list queries. The `q` filter is a case-insensitive
// "contains": LIKE's wildcards and escape character are dropped from the text
// rather than escaped, so a search never turns into a pattern. Pages are
// fetched with `limit + 1` rows; the extra row only says there is more.
// Keyset cursors, opaque to clients, carry the sort key of the previous page's
// last row: base64url of a JSON array, the one format every list uses.

/** The LIKE pattern for values (lower-cased) that contain `text`. */
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[%_\\]/g, '')}%`;
}

/** Rows whose `id` or `name` contains `text`, ignoring case. */
export function idOrNameContains<DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>, text: string): Expression<SqlBool> {
  const pattern = containsPattern(text);
  return eb.or([eb(sql<string>`lower(id)`, 'like', pattern), eb(sql<string>`lower(name)`, 'like', pattern)]);
}

/** The first `limit` of `rows` as views; `nextCursor` is the last one's key when more rows came back. */
export function pageAfterKey<R, V>(rows: readonly R[], limit: number, key: (row: R) => string, view: (row: R) => V): { items: V[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map((row) => view(row)), nextCursor: rows.length > limit && last !== undefined ? key(last) : null };
}

/** The sort key of a keyset cursor: the last row's sort value(s), then usually its id. */
export type CursorKey = readonly (string | number)[];

/** What a refused cursor says: the message for the log, the detail for the client. */
export interface CursorRefusal {
  readonly message: string;
  readonly detail: string;
}

const CURSOR = /^[A-Za-z0-9_-]{1,400}$/;
const NOT_OURS: CursorRefusal = { message: 'The cursor is not one this API returned.', detail: 'The cursor is not one this API returned.' };

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * The key a cursor carries, as `accept` reads it (undefined: not a key of this
 * list). Anything else is a `request.invalid` with the refusal's public detail.
 */
export function decodeCursor<T>(cursor: string, accept: (key: readonly unknown[]) => T | undefined, refusal: CursorRefusal = NOT_OURS): T {
  let key: unknown;
  if (CURSOR.test(cursor)) {
    try {
      key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      // Refused below.
    }
  }
  const accepted = Array.isArray(key) ? accept(key) : undefined;
  if (accepted === undefined) throw new RampartError('request.invalid', refusal.message, { publicDetail: refusal.detail });
  return accepted;
}

/** Reads the common `[sort value, id]` key. */
export function valueAndId(key: readonly unknown[]): { value: string | number; id: string } | undefined {
  const [value, id] = key;
  return key.length === 2 && (typeof value === 'string' || typeof value === 'number') && typeof id === 'string' ? { value, id } : undefined;
}
