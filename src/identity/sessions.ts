import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RampartConfig } from '../config/schema.ts';
import type { Clock } from '../kernel/clock.ts';
import { newId, randomToken } from '../kernel/ids.ts';
import type { Db } from '../storage/database.ts';
import type { SessionStage, SessionTable, Tables } from '../storage/tables.ts';

// Server-side browser sessions (OWASP ASVS V7). The cookie carries a 256-bit
// random token; the database keeps only its SHA-256, so reading the table does
// not let anyone take over a session. The CSRF token is derived from the
// session token under a different label: it is bound to the session, needs no
// storage, and cannot be turned back into the session token.

/** `__Host-`: Secure, no Domain, Path=/ — the cookie cannot be set or shadowed by a sibling host. */
export const SESSION_COOKIE = '__Host-rampart-session';
export const CSRF_HEADER = 'x-csrf-token';

export type SessionRow = Omit<SessionTable, 'token_hash'>;

export interface SessionContext {
  readonly sourceIp: string;
  readonly userAgent: string;
}

export interface NewSession {
  readonly accountId: string;
  readonly stage: SessionStage;
  readonly authMethod: string;
  readonly mfaAt?: string;
  readonly mfaMethod?: string;
  readonly context: SessionContext;
}

export function sessionTokenHash(token: string): string {
  return createHash('sha256').update(`rampart/session/v1\0${token}`).digest('base64url');
}

export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`rampart/csrf/v1\0${sessionToken}`).digest('base64url');
}

const SESSION_COLUMNS = [
  'id',
  'account_id',
  'stage',
  'auth_method',
  'mfa_at',
  'mfa_method',
  'challenge',
  'challenge_expires_at',
  'source_ip',
  'user_agent',
  'created_at',
  'last_seen_at',
  'expires_at',
  'ended_at',
  'end_reason',
] as const;

/** Sessions not yet past their second factor live only briefly. */
const PARTIAL_SESSION_MINUTES = 10;
/** last_seen_at is written at most this often, so a busy console does not write on every request. */
const TOUCH_GRANULARITY_MS = 30_000;

export class Sessions {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #config: RampartConfig['identity']['sessions'];

  constructor(options: { db: Db; clock: Clock; config: RampartConfig['identity']['sessions'] }) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#config = options.config;
  }

  get idleMs(): number {
    return this.#config.idleTimeoutMinutes * 60_000;
  }

  /** Creates a session in `trx`; returns the cookie token (shown once, never stored). */
  async create(trx: Kysely<Tables>, input: NewSession): Promise<{ token: string; session: SessionRow }> {
    const now = this.#clock.now();
    const lifetimeMs = input.stage === 'active' ? this.#config.absoluteTimeoutHours * 3_600_000 : PARTIAL_SESSION_MINUTES * 60_000;
    const token = randomToken(32);
    const session: SessionRow = {
      id: newId('sess'),
      account_id: input.accountId,
      stage: input.stage,
      auth_method: input.authMethod,
      mfa_at: input.mfaAt ?? null,
      mfa_method: input.mfaMethod ?? null,
      challenge: null,
      challenge_expires_at: null,
      source_ip: input.context.sourceIp,
      user_agent: input.context.userAgent.slice(0, 256),
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + lifetimeMs).toISOString(),
      ended_at: null,
      end_reason: null,
    };
    await trx.insertInto('sessions').values({ ...session, token_hash: sessionTokenHash(token) }).execute();
    return { token, session };
  }

  /** The live session for a cookie token, or undefined (unknown, ended, idle too long, past its absolute limit). */
  async resolve(token: string): Promise<SessionRow | undefined> {
    if (token.length < 40 || token.length > 64) return undefined;
    const row = await this.#db.selectFrom('sessions').select(SESSION_COLUMNS).where('token_hash', '=', sessionTokenHash(token)).executeTakeFirst();
    if (row === undefined || row.ended_at !== null) return undefined;
    const now = this.#clock.now();
    const nowMs = now.getTime();
    const idleLimit = Date.parse(row.last_seen_at) + this.idleMs;
    if (nowMs >= Date.parse(row.expires_at) || nowMs >= idleLimit) {
      await this.#db.updateTable('sessions').set({ ended_at: now.toISOString(), end_reason: nowMs >= idleLimit ? 'idle' : 'expired' }).where('id', '=', row.id).where('ended_at', 'is', null).execute();
      return undefined;
    }
    if (nowMs - Date.parse(row.last_seen_at) >= TOUCH_GRANULARITY_MS) {
      await this.#db.updateTable('sessions').set({ last_seen_at: now.toISOString() }).where('id', '=', row.id).execute();
      return { ...row, last_seen_at: now.toISOString() };
    }
    return row;
  }

  /**
   * A new token for an existing session (at every change of privilege: second
   * factor passed, enrolment finished, step-up). The old token stops working.
   * Reaching `active` starts the absolute lifetime.
   */
  async elevate(trx: Kysely<Tables>, sessionId: string, change: { stage: SessionStage; mfaAt: string; mfaMethod: string }): Promise<string> {
    const now = this.#clock.now();
    const token = randomToken(32);
    const current = await trx.selectFrom('sessions').select(['stage', 'expires_at']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    const expiresAt = current.stage !== 'active' && change.stage === 'active' ? new Date(now.getTime() + this.#config.absoluteTimeoutHours * 3_600_000).toISOString() : current.expires_at;
    await trx
      .updateTable('sessions')
      .set({ token_hash: sessionTokenHash(token), stage: change.stage, mfa_at: change.mfaAt, mfa_method: change.mfaMethod, last_seen_at: now.toISOString(), expires_at: expiresAt, challenge: null, challenge_expires_at: null })
      .where('id', '=', sessionId)
      .execute();
    return token;
  }

  async get(sessionId: string): Promise<SessionRow> {
    return this.#db.selectFrom('sessions').select(SESSION_COLUMNS).where('id', '=', sessionId).executeTakeFirstOrThrow();
  }

  /** Stores a one-time challenge (WebAuthn) on the session. */
  async setChallenge(sessionId: string, challenge: string, ttlMs: number): Promise<void> {
    const expires = new Date(this.#clock.now().getTime() + ttlMs).toISOString();
    await this.#db.updateTable('sessions').set({ challenge, challenge_expires_at: expires }).where('id', '=', sessionId).execute();
  }

  /** Takes the session's challenge (it can be used once), or undefined when none is live. */
  async takeChallenge(sessionId: string): Promise<string | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('sessions').select(['challenge', 'challenge_expires_at']).where('id', '=', sessionId).executeTakeFirst();
      await trx.updateTable('sessions').set({ challenge: null, challenge_expires_at: null }).where('id', '=', sessionId).execute();
      if (row?.challenge == null || row.challenge_expires_at === null) return undefined;
      return Date.parse(row.challenge_expires_at) > this.#clock.now().getTime() ? row.challenge : undefined;
    });
  }

  /** Whether a session is still signed in (not ended, within its absolute lifetime): an open stream asks this again as it runs. */
  async isLive(sessionId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('sessions').select(['ended_at', 'expires_at']).where('id', '=', sessionId).executeTakeFirst();
    return row !== undefined && row.ended_at === null && Date.parse(row.expires_at) > this.#clock.now().getTime();
  }

  async end(trx: Kysely<Tables>, sessionId: string, reason: string): Promise<boolean> {
    const result = await trx.updateTable('sessions').set({ ended_at: this.#clock.now().toISOString(), end_reason: reason }).where('id', '=', sessionId).where('ended_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Ends every live session of an account, except `keep`; returns how many ended. */
  async endAll(trx: Kysely<Tables>, accountId: string, reason: string, keep?: string): Promise<number> {
    let query = trx.updateTable('sessions').set({ ended_at: this.#clock.now().toISOString(), end_reason: reason }).where('account_id', '=', accountId).where('ended_at', 'is', null);
    if (keep !== undefined) query = query.where('id', '!=', keep);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Deletes sessions that ended or expired before `before`; the audit trail keeps their story. */
  async purge(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    const result = await this.#db.deleteFrom('sessions').where((eb) => eb.or([eb('ended_at', '<', cutoff), eb('expires_at', '<', cutoff)])).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Live sessions of an account, newest first. */
  async list(accountId: string): Promise<SessionRow[]> {
    const now = this.#clock.now();
    const rows = await this.#db.selectFrom('sessions').select(SESSION_COLUMNS).where('account_id', '=', accountId).where('ended_at', 'is', null).where('expires_at', '>', now.toISOString()).orderBy('created_at', 'desc').execute();
    return rows.filter((r) => Date.parse(r.last_seen_at) + this.idleMs > now.getTime());
  }
}
