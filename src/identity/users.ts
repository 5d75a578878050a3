import type { Kysely } from 'kysely';
import { recordChange, type AuditedChange } from '../audit/append.ts';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import { newId } from '../kernel/ids.ts';
import type { Db } from '../storage/database.ts';
import { containsPattern, pageAfterKey } from '../storage/listing.ts';
import type { AccountTable, Tables } from '../storage/tables.ts';
import { issueSetupCode } from './bootstrap.ts';
import type { Role } from './rbac.ts';
import type { Sessions } from './sessions.ts';
import { normalizeUsername } from './signin.ts';
import { accountKey } from './throttle.ts';

// Account administration, shared by the admin API and `rampart user …`. Every
// change and its audit entry commit in one transaction.

export const USERNAME_PATTERN = '^[a-z][a-z0-9._-]{1,63}$';

export interface UserDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly sessions: Sessions;
  readonly setupCodeTtlHours: number;
}

export type Change = AuditedChange;

export interface UserView {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  readonly status: AccountTable['status'];
  readonly depots: string[] | null;
  readonly passwordDisabled: boolean;
  readonly sso: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const USER_COLUMNS = ['id', 'username', 'role', 'status', 'depot_scope', 'password_disabled_at', 'sso_subject', 'created_at', 'updated_at'] as const;

type UserRow = Pick<AccountTable, 'id' | 'username' | 'role' | 'status' | 'created_at' | 'updated_at'> & { depot_scope: string | null; password_disabled_at: string | null; sso_subject: string | null };

function view(row: UserRow): UserView {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    status: row.status,
    depots: row.depot_scope === null ? null : (JSON.parse(row.depot_scope) as string[]),
    passwordDisabled: row.password_disabled_at !== null,
    sso: row.sso_subject !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function load(trx: Kysely<Tables>, id: string): Promise<UserRow> {
  const row = await trx.selectFrom('accounts').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new RampartError('route.not_found', `account ${id} not found`);
  return row;
}

export async function findUserId(db: Db, idOrUsername: string): Promise<string> {
  const row = await db.selectFrom('accounts').select('id').where((eb) => eb.or([eb('id', '=', idOrUsername), eb('username', '=', normalizeUsername(idOrUsername))])).executeTakeFirst();
  if (row === undefined) throw new RampartError('route.not_found', `no account ${idOrUsername}`);
  return row.id;
}

export async function getUser(db: Db, id: string): Promise<UserView> {
  return view(await load(db, id));
}

export interface UserQuery {
  readonly q?: string;
  readonly role?: Role;
  readonly status?: AccountTable['status'];
  readonly limit: number;
  readonly cursor?: string;
}

/** Sorted by username; `cursor` is the last username of the previous page. */
export async function listUsers(db: Db, query: UserQuery): Promise<{ items: UserView[]; nextCursor: string | null }> {
  let select = db.selectFrom('accounts').select(USER_COLUMNS).orderBy('username').limit(query.limit + 1);
  if (query.q !== undefined && query.q !== '') select = select.where('username', 'like', containsPattern(query.q));
  if (query.role !== undefined) select = select.where('role', '=', query.role);
  if (query.status !== undefined) select = select.where('status', '=', query.status);
  if (query.cursor !== undefined) select = select.where('username', '>', query.cursor);
  return pageAfterKey(await select.execute(), query.limit, (row) => row.username, view);
}

async function activeAdmins(trx: Kysely<Tables>): Promise<number> {
  const row = await trx.selectFrom('accounts').select((eb) => eb.fn.countAll<number | string>().as('n')).where('role', '=', 'admin').where('status', '=', 'active').executeTakeFirstOrThrow();
  return Number(row.n);
}

async function refuseLastAdmin(trx: Kysely<Tables>, row: UserRow, what: string): Promise<void> {
  if (row.role === 'admin' && row.status === 'active' && (await activeAdmins(trx)) <= 1) {
    throw new RampartError('identity.invalid_state', `refused: ${what} would leave no active administrator`, { publicDetail: `Refused: ${what} would leave no active administrator.` });
  }
}

/** The audit entry of a change to one account. */
function audit(trx: Kysely<Tables>, deps: UserDeps, change: Change, action: string, target: string, details: Record<string, string | number | boolean | null | string[]> = {}) {
  return recordChange(trx, deps.clock, change, action, { type: 'account', id: target }, details);
}

/** Creates an account awaiting setup; returns its one-time setup code (shown once). */
export async function createUser(deps: UserDeps, change: Change, input: { username: string; role: Role; depots?: string[] | null }) {
  const username = normalizeUsername(input.username);
  if (!new RegExp(USERNAME_PATTERN).test(username)) throw new RampartError('request.invalid', 'bad username', { publicDetail: 'Usernames are 2–64 characters: a–z, 0–9, ".", "_" and "-", starting with a letter.' });
  return deps.db.transaction().execute(async (trx) => {
    const taken = await trx.selectFrom('accounts').select('id').where('username', '=', username).executeTakeFirst();
    if (taken !== undefined) throw new RampartError('identity.username_taken', `username ${username} taken`);
    const now = deps.clock.now().toISOString();
    const id = newId('acct');
    const depots = input.depots ?? null;
    await trx.insertInto('accounts').values({ id, username, role: input.role, status: 'setup_required', depot_scope: depots === null ? null : JSON.stringify(depots), created_at: now, updated_at: now }).execute();
    const code = await issueSetupCode(trx, id, deps.setupCodeTtlHours, deps.clock);
    await audit(trx, deps, change, 'user.create', id, { username, role: input.role, depots });
    return { user: view(await load(trx, id)), setupCode: code.setupCode, setupCodeExpiresAt: code.expiresAt };
  });
}

export async function setRole(deps: UserDeps, change: Change, id: string, role: Role): Promise<UserView> {
  return deps.db.transaction().execute(async (trx) => {
    const before = await load(trx, id);
    if (before.role === role) return view(before);
    if (role !== 'admin') await refuseLastAdmin(trx, before, 'this role change');
    await trx.updateTable('accounts').set({ role, updated_at: deps.clock.now().toISOString() }).where('id', '=', id).execute();
    // A change of privilege: the account signs in again and gets new sessions.
    const ended = await deps.sessions.endAll(trx, id, 'role_changed');
    await audit(trx, deps, change, 'user.role_change', id, { before: before.role, after: role, sessions_ended: ended });
    return view(await load(trx, id));
  });
}

export async function setDepots(deps: UserDeps, change: Change, id: string, depots: string[] | null): Promise<UserView> {
  return deps.db.transaction().execute(async (trx) => {
    const before = await load(trx, id);
    await trx.updateTable('accounts').set({ depot_scope: depots === null ? null : JSON.stringify(depots), updated_at: deps.clock.now().toISOString() }).where('id', '=', id).execute();
    await audit(trx, deps, change, 'user.depots_change', id, { before: before.depot_scope === null ? null : (JSON.parse(before.depot_scope) as string[]), after: depots });
    return view(await load(trx, id));
  });
}

export async function setDisabled(deps: UserDeps, change: Change, id: string, disabled: boolean): Promise<UserView> {
  return deps.db.transaction().execute(async (trx) => {
    const before = await load(trx, id);
    if (disabled) {
      if (change.actor.type === 'account' && change.actor.id === id) throw new RampartError('identity.invalid_state', 'cannot disable oneself', { publicDetail: 'You cannot disable your own account.' });
      if (before.status === 'disabled') return view(before);
      await refuseLastAdmin(trx, before, 'disabling this account');
      await trx.updateTable('accounts').set({ status: 'disabled', updated_at: deps.clock.now().toISOString() }).where('id', '=', id).execute();
      const ended = await deps.sessions.endAll(trx, id, 'account_disabled');
      await audit(trx, deps, change, 'user.disable', id, { before: before.status, sessions_ended: ended });
    } else {
      if (before.status !== 'disabled') return view(before);
      const status = before.password_disabled_at === null && (await trx.selectFrom('accounts').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash !== null ? 'active' : 'setup_required';
      await trx.updateTable('accounts').set({ status, updated_at: deps.clock.now().toISOString() }).where('id', '=', id).execute();
      await audit(trx, deps, change, 'user.enable', id, { after: status });
    }
    return view(await load(trx, id));
  });
}

/** Removes every second factor; the user enrols again at the next sign-in. */
export async function resetMfa(deps: UserDeps, change: Change, id: string): Promise<UserView> {
  return deps.db.transaction().execute(async (trx) => {
    await load(trx, id);
    const totp = await trx.deleteFrom('totp_factors').where('account_id', '=', id).executeTakeFirst();
    const passkeys = await trx.deleteFrom('passkeys').where('account_id', '=', id).executeTakeFirst();
    await trx.deleteFrom('recovery_codes').where('account_id', '=', id).execute();
    const ended = await deps.sessions.endAll(trx, id, 'mfa_reset');
    await audit(trx, deps, change, 'user.mfa_reset', id, { totp_removed: totp.numDeletedRows > 0n, passkeys_removed: Number(passkeys.numDeletedRows), sessions_ended: ended });
    return view(await load(trx, id));
  });
}

/** Clears the password (also after too many failures) and issues a new setup code. */
export async function resetPassword(deps: UserDeps, change: Change, id: string) {
  return deps.db.transaction().execute(async (trx) => {
    const before = await load(trx, id);
    if (before.status === 'disabled') throw new RampartError('identity.invalid_state', 'account disabled', { publicDetail: 'Enable the account first.' });
    await trx.updateTable('accounts').set({ password_hash: null, password_disabled_at: null, status: 'setup_required', updated_at: deps.clock.now().toISOString() }).where('id', '=', id).execute();
    await trx.deleteFrom('login_throttle').where('key', '=', accountKey(id)).execute();
    const ended = await deps.sessions.endAll(trx, id, 'password_reset');
    const code = await issueSetupCode(trx, id, deps.setupCodeTtlHours, deps.clock);
    await audit(trx, deps, change, 'user.password_reset', id, { sessions_ended: ended });
    return { user: view(await load(trx, id)), setupCode: code.setupCode, setupCodeExpiresAt: code.expiresAt };
  });
}

export async function revokeSessions(deps: UserDeps, change: Change, accountId: string, sessionId?: string): Promise<number> {
  return deps.db.transaction().execute(async (trx) => {
    let ended: number;
    if (sessionId === undefined) ended = await deps.sessions.endAll(trx, accountId, 'revoked');
    else {
      const owned = await trx.selectFrom('sessions').select('id').where('id', '=', sessionId).where('account_id', '=', accountId).where('ended_at', 'is', null).executeTakeFirst();
      if (owned === undefined) throw new RampartError('route.not_found', `no live session ${sessionId} for ${accountId}`);
      ended = (await deps.sessions.end(trx, sessionId, 'revoked')) ? 1 : 0;
    }
    await recordChange(trx, deps.clock, change, 'session.revoke', sessionId === undefined ? { type: 'account', id: accountId } : { type: 'session', id: sessionId }, { account: accountId, ended });
    return ended;
  });
}
