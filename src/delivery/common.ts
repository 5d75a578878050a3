import type { Kysely } from 'kysely';
import { appendAudit, type AuditActor, type AuditContext, type JsonValue } from '../audit/append.ts';
import { hasControl } from '../devices/registry.ts';
import type { Actor } from '../identity/rbac.ts';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import type { Tables } from '../storage/tables.ts';

// Small pieces every delivery service shares: who makes a change, its audit
// entry (always in the caller's transaction), input checks and depot scopes.

export const DEPOT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$';
export const UNIT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$';
export const ACCOUNT_ID_PATTERN = '^[A-Za-z0-9_-]{1,80}$';
export const MAX_NAME_LENGTH = 100;

export interface DeliveryChange {
  readonly actor: AuditActor;
  readonly context?: AuditContext;
}

export function invalid(message: string): RampartError {
  return new RampartError('request.invalid', message, { publicDetail: message });
}

export function checkName(name: string, what = 'The name'): void {
  if (name.trim() === '' || name.length > MAX_NAME_LENGTH || hasControl(name)) throw invalid(`${what} is 1–${MAX_NAME_LENGTH} printable characters.`);
}

export function checkText(text: string, max: number, what: string): void {
  if (text.trim() === '' || text.length > max || hasControl(text)) throw invalid(`${what} is 1–${max} printable characters.`);
}

export function checkPoint(lat: number, lon: number, what: string): void {
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180) throw invalid(`${what} needs a latitude from -90 to 90 and a longitude from -180 to 180.`);
}

export function checkPositive(value: number, max: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0 || value > max) throw invalid(`${what} is a number above 0 and at most ${max}.`);
}

export function auditDelivery(trx: Kysely<Tables>, clock: Clock, change: DeliveryChange, action: string, target: { type: string; id: string }, details: Record<string, JsonValue>) {
  return appendAudit(trx, { action, outcome: 'success', actor: change.actor, target, ...(change.context === undefined ? {} : { context: change.context }), details }, clock);
}

/** The depots a dispatcher is limited to; undefined: every depot (other roles are narrowed by `can`). */
export function depotScope(actor: Actor | undefined): readonly string[] | undefined {
  return actor?.kind === 'account' && actor.role === 'dispatcher' && actor.depots !== null ? actor.depots : undefined;
}

/** Only the keys whose values differ, as before/after objects for an audit entry. */
export function diff(before: Record<string, JsonValue>, after: Record<string, JsonValue>): { before: Record<string, JsonValue>; after: Record<string, JsonValue> } {
  const changedBefore: Record<string, JsonValue> = {};
  const changedAfter: Record<string, JsonValue> = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changedBefore[key] = before[key] ?? null;
      changedAfter[key] = after[key] ?? null;
    }
  }
  return { before: changedBefore, after: changedAfter };
}

/** Keyset cursors: the sort value and id of the previous page's last row, opaque to clients. */
export function encodeCursor(value: string | number, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { value: string | number; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && (typeof parsed[0] === 'string' || typeof parsed[0] === 'number') && typeof parsed[1] === 'string') return { value: parsed[0], id: parsed[1] };
  } catch {
    // Falls through to the error below.
  }
  throw invalid('The cursor is not one this API returned.');
}
