import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/append.ts';
import type { RampartConfig } from '../config/schema.ts';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import type { Db } from '../storage/database.ts';
import type { SessionStage, Tables } from '../storage/tables.ts';
import { consumeSetupCode } from './bootstrap.ts';
import { hasTotp } from './mfa/totp.ts';
import { burnPasswordCheck, checkPasswordPolicy, hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import type { SessionContext, SessionRow, Sessions } from './sessions.ts';
import { accountKey, sourceKey, type Throttle } from './throttle.ts';

// Sign-in: password first, then a second factor (every human account has one,
// AAL2). Unknown user, wrong password, disabled account and locked sign-in all
// give `auth.failed` after one Argon2id verification, so neither the answer nor
// its timing tells which accounts exist.

export interface SignInDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly sessions: Sessions;
  readonly throttle: Throttle;
  readonly config: RampartConfig['identity'];
}

export type RequestContext = AuditContext & SessionContext;

export interface SessionGrant {
  readonly token: string;
  readonly session: SessionRow;
}

export type SecondFactorMethod = 'totp' | 'recovery' | 'passkey';

/** Uses up a verified factor inside the recording transaction; false when it was used concurrently. */
export type Burn = (trx: Kysely<Tables>) => Promise<boolean>;

const USERNAME = /^[a-z][a-z0-9._-]{1,63}$/;

export function normalizeUsername(input: string): string {
  return input.trim().toLowerCase();
}

export async function secondFactorsOf(db: Kysely<Tables>, accountId: string): Promise<{ totp: boolean; passkeys: number; recoveryCodes: number }> {
  const [totp, passkeys, recovery] = await Promise.all([
    hasTotp(db, accountId),
    db.selectFrom('passkeys').select((eb) => eb.fn.countAll<number | string>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow(),
    db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number | string>().as('n')).where('account_id', '=', accountId).where('used_at', 'is', null).executeTakeFirstOrThrow(),
  ]);
  return { totp, passkeys: Number(passkeys.n), recoveryCodes: Number(recovery.n) };
}

export class SignIn {
  readonly #deps: SignInDeps;

  constructor(deps: SignInDeps) {
    this.#deps = deps;
  }

  /** Step one. Returns a session in stage `mfa` (or `enrol` when no second factor exists yet). */
  async password(usernameInput: string, password: string, context: RequestContext): Promise<SessionGrant> {
    const { db, throttle, clock, config } = this.#deps;
    const username = normalizeUsername(usernameInput);
    const account = USERNAME.test(username)
      ? await db.selectFrom('accounts').select(['id', 'status', 'password_hash', 'password_disabled_at']).where('username', '=', username).executeTakeFirst()
      : undefined;
    const keys = [sourceKey(context.sourceIp), ...(account === undefined ? [] : [accountKey(account.id)])];
    const locked = await throttle.isLocked(keys);
    const usable = account !== undefined && account.status === 'active' && account.password_hash !== null && account.password_disabled_at === null;

    let ok = false;
    if (!locked && usable) ok = await verifyPassword(account.password_hash ?? '', password);
    else await burnPasswordCheck(password, config.passwords);

    const grant = await db.transaction().execute(async (trx) => {
      if (!ok || account === undefined) {
        const reason = locked ? 'locked' : account === undefined ? 'unknown_user' : !usable ? `account_${account.password_disabled_at === null ? account.status : 'password_disabled'}` : 'wrong_password';
        if (!locked) await this.#recordFailure(trx, account?.id, context, 'password');
        await appendAudit(trx, { action: 'auth.password', outcome: 'failure', actor: { type: 'anonymous' }, ...(account === undefined ? {} : { target: { type: 'account', id: account.id } }), context, details: { reason } }, clock);
        return undefined;
      }
      await throttle.success(trx, accountKey(account.id));
      const factors = await secondFactorsOf(trx, account.id);
      const stage: SessionStage = factors.totp || factors.passkeys > 0 ? 'mfa' : 'enrol';
      const created = await this.#deps.sessions.create(trx, { accountId: account.id, stage, authMethod: 'password', context });
      await appendAudit(trx, { action: 'auth.password', outcome: 'success', actor: { type: 'account', id: account.id, authMethod: 'password' }, target: { type: 'session', id: created.session.id }, context, details: { next: stage } }, clock);
      return created;
    });
    // Only the source address's lockout is told (it says nothing about any account); an account's stays silent.
    if (grant === undefined) throw new RampartError('auth.failed', 'sign-in refused', optionalWait(await throttle.lockedFor([sourceKey(context.sourceIp)])));
    if (account !== undefined && needsRehash(account.password_hash ?? '', config.passwords)) {
      const rehashed = await hashPassword(password, config.passwords);
      await db.updateTable('accounts').set({ password_hash: rehashed }).where('id', '=', account.id).execute();
    }
    return grant;
  }

  /**
   * Step two, and step-up. `verify` checks the factor outside any transaction
   * (decryption, signature checks) and returns how to use it up; that runs in
   * the transaction that records the outcome, so a TOTP step, a recovery code
   * or a passkey counter is consumed together with its audit entry. The
   * session gets a new token and the time of this proof.
   */
  async secondFactor(session: SessionRow, method: SecondFactorMethod, verify: () => Promise<Burn | undefined>, context: RequestContext): Promise<SessionGrant> {
    const { db, throttle, clock, sessions } = this.#deps;
    const key = accountKey(session.account_id);
    const locked = await throttle.isLocked([key]);
    const burn = locked ? undefined : await verify();
    const result = await db.transaction().execute(async (trx) => {
      const actor = { type: 'account' as const, id: session.account_id, authMethod: session.auth_method };
      const action = session.stage === 'active' ? 'auth.step_up' : 'auth.login';
      const ok = burn !== undefined && (await burn(trx));
      if (!ok) {
        if (!locked) await this.#recordFailure(trx, session.account_id, context, method);
        await appendAudit(trx, { action, outcome: 'failure', actor, target: { type: 'session', id: session.id }, context, details: { method, reason: locked ? 'locked' : 'rejected' } }, clock);
        return undefined;
      }
      await throttle.success(trx, key);
      const now = clock.now().toISOString();
      const token = await sessions.elevate(trx, session.id, { stage: 'active', mfaAt: now, mfaMethod: method });
      await appendAudit(trx, { action, outcome: 'success', actor: { ...actor, authMethod: `${session.auth_method}+${method}` }, target: { type: 'session', id: session.id }, context, details: { method } }, clock);
      return token;
    });
    // The password was right, so the person may know their second factor is locked, and for how long.
    if (result === undefined) throw new RampartError('auth.mfa_failed', `${method} refused`, optionalWait(await throttle.lockedFor([key])));
    return { token: result, session: await sessions.get(session.id) };
  }

  /**
   * First sign-in of a new or reset account: the one-time setup code (from the
   * bootstrap banner or an administrator) sets the password. The result is a
   * session in stage `enrol`: a second factor comes next.
   */
  async setup(usernameInput: string, setupCode: string, password: string, context: RequestContext): Promise<SessionGrant> {
    const { db, clock, config } = this.#deps;
    const username = normalizeUsername(usernameInput);
    checkPasswordPolicy(password, { username });
    const passwordHash = await hashPassword(password, config.passwords);
    try {
      return await this.#setupWith(username, setupCode, passwordHash, context);
    } catch (error) {
      if (error instanceof RampartError && error.code === 'identity.setup_code_invalid') {
        // The attempt rolled back; its record is written on its own.
        await db.transaction().execute((trx) => appendAudit(trx, { action: 'account.setup', outcome: 'failure', actor: { type: 'anonymous', authMethod: 'setup_code' }, context, details: { reason: 'setup_code_invalid' } }, clock));
      }
      throw error;
    }
  }

  async #setupWith(username: string, setupCode: string, passwordHash: string, context: RequestContext): Promise<SessionGrant> {
    const { db, clock, sessions } = this.#deps;
    return db.transaction().execute(async (trx) => {
      const accountId = await consumeSetupCode(trx, setupCode, clock);
      const account = await trx.selectFrom('accounts').select(['id', 'username', 'status']).where('id', '=', accountId).executeTakeFirstOrThrow();
      if (account.username !== username || account.status !== 'setup_required') {
        throw new RampartError('identity.setup_code_invalid', 'setup code does not belong to this username or the account is not awaiting setup');
      }
      const now = clock.now().toISOString();
      await trx.updateTable('accounts').set({ password_hash: passwordHash, password_changed_at: now, password_disabled_at: null, status: 'active', updated_at: now }).where('id', '=', accountId).execute();
      const factors = await secondFactorsOf(trx, accountId);
      const stage: SessionStage = factors.totp || factors.passkeys > 0 ? 'mfa' : 'enrol';
      const grant = await sessions.create(trx, { accountId, stage, authMethod: 'password', context });
      await appendAudit(trx, { action: 'account.setup', outcome: 'success', actor: { type: 'account', id: accountId, authMethod: 'setup_code' }, target: { type: 'account', id: accountId }, context }, clock);
      return grant;
    });
  }

  async #recordFailure(trx: Kysely<Tables>, accountId: string | undefined, context: RequestContext, factor: string): Promise<void> {
    const { throttle, clock } = this.#deps;
    await throttle.failure(trx, sourceKey(context.sourceIp));
    if (accountId === undefined) return;
    const outcome = await throttle.failure(trx, accountKey(accountId));
    if (outcome.lockedUntil !== undefined) {
      await appendAudit(trx, { action: 'auth.lockout', outcome: 'success', actor: { type: 'system' }, target: { type: 'account', id: accountId }, context, details: { factor, failures: outcome.failures, locked_until: outcome.lockedUntil } }, clock);
    }
    if (outcome.failures >= throttle.config.disableAfterFailures) {
      const now = clock.now().toISOString();
      const disabled = await trx.updateTable('accounts').set({ password_disabled_at: now, updated_at: now }).where('id', '=', accountId).where('password_disabled_at', 'is', null).executeTakeFirst();
      if (disabled.numUpdatedRows > 0n) {
        await this.#deps.sessions.endAll(trx, accountId, 'password_disabled');
        await appendAudit(trx, { action: 'auth.password_disabled', outcome: 'success', actor: { type: 'system' }, target: { type: 'account', id: accountId }, context, details: { failures: outcome.failures } }, clock);
      }
    }
  }
}

function optionalWait(seconds: number | undefined): { retryAfterSeconds?: number } {
  return seconds === undefined ? {} : { retryAfterSeconds: seconds };
}
