import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';

// Shared steps of list queries. The `q` filter is a case-insensitive
// "contains": LIKE's wildcards and escape character are dropped from the text
// rather than escaped, so a search never turns into a pattern. Pages are
// fetched with `limit + 1` rows; the extra row only says there is more.

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
