import type { Kysely } from 'kysely';
import type { Clock } from '../kernel/clock.ts';
import { canonicalJson } from '../kernel/canonical-json.ts';
import { newId } from '../kernel/ids.ts';
import type { AuditOutcome, Tables } from '../storage/tables.ts';
import { entryHash } from './chain.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ActorType = 'account' | 'service' | 'cli' | 'system' | 'anonymous';

export interface AuditActor {
  readonly type: ActorType;
  /** Account id, service-principal id, or the OS user for the CLI. */
  readonly id?: string;
  /** password, totp, passkey, recovery, sso, client_credentials, cli… */
  readonly authMethod?: string;
}

/** Where a request came from. */
export interface AuditContext {
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly requestId?: string;
}

export interface AuditEvent {
  /** Dotted verb, e.g. `auth.login`, `user.role_change`, `session.revoke`. */
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly actor: AuditActor;
  readonly target?: { readonly type: string; readonly id: string };
  readonly context?: AuditContext;
  /** Non-secret facts about the change (never passwords, codes or personal data). */
  readonly details?: Readonly<Record<string, JsonValue>>;
}

export interface AppendedEntry {
  readonly seq: number;
  readonly id: string;
  readonly hash: string;
}

const MAX_FIELD = 512;

function clip(value: string | undefined): string | null {
  if (value === undefined) return null;
  return value.length > MAX_FIELD ? value.slice(0, MAX_FIELD) : value;
}

/**
 * Appends one entry. Call it inside the transaction that makes the change, so
 * the change and its entry commit or roll back together. The head row is
 * updated first: its lock serialises concurrent appends.
 */
export async function appendAudit(trx: Kysely<Tables>, event: AuditEvent, clock: Clock): Promise<AppendedEntry> {
  // Take the head row's write lock before reading it, so two appends never chain to the same predecessor.
  await trx.updateTable('audit_head').set((eb) => ({ seq: eb('seq', '+', 0) })).where('id', '=', 1).execute();
  // Read the clock under the lock, so timestamps follow sequence order (time-range queries and `--since` rely on it).
  const at = clock.now().toISOString();
  const head = await trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  const fields = {
    seq: head.seq + 1,
    id: newId('aud'),
    at,
    actor_type: event.actor.type,
    actor_id: clip(event.actor.id),
    auth_method: clip(event.actor.authMethod),
    action: event.action,
    target_type: clip(event.target?.type),
    target_id: clip(event.target?.id),
    outcome: event.outcome,
    source_ip: clip(event.context?.sourceIp),
    user_agent: clip(event.context?.userAgent),
    request_id: clip(event.context?.requestId),
    details: canonicalJson(event.details ?? {}),
    prev_hash: head.hash,
  };
  const hash = entryHash(fields);
  await trx.insertInto('audit_entries').values({ ...fields, hash }).execute();
  await trx.updateTable('audit_head').set({ seq: fields.seq, hash }).where('id', '=', 1).execute();
  return { seq: fields.seq, id: fields.id, hash };
}

/** Who makes a change and where the request came from: what every audited write carries. */
export interface AuditedChange {
  readonly actor: AuditActor;
  readonly context?: AuditContext;
}

/** Appends the entry for one change, in the caller's transaction (see appendAudit). */
export function recordChange(trx: Kysely<Tables>, clock: Clock, change: AuditedChange, action: string, target: { readonly type: string; readonly id: string }, details: Readonly<Record<string, JsonValue>> = {}, outcome: AuditOutcome = 'success'): Promise<AppendedEntry> {
  return appendAudit(trx, { action, outcome, actor: change.actor, target, ...(change.context === undefined ? {} : { context: change.context }), details }, clock);
}
