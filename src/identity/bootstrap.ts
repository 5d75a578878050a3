import { createHash } from 'node:crypto';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import { humanCode, newId, normalizeHumanCode } from '../kernel/ids.ts';
import type { Kysely } from 'kysely';
import type { Db } from '../storage/database.ts';
import type { Tables } from '../storage/tables.ts';

// First start: create the administrator account with no password, and a
// one-time setup code with which that person sets a password and enrols MFA.
// The code has 160 bits of entropy, so a plain SHA-256 is a sufficient hash
// (no password-style stretching needed); only the hash is stored.

export interface BootstrapResult {
  readonly accountId: string;
  readonly username: string;
  /** Present only when a new code was issued by this call: print it once, never log it. */
  readonly setupCode?: string;
  readonly expiresAt?: string;
}

export interface BootstrapOptions {
  readonly username: string;
  readonly ttlHours: number;
  readonly clock: Clock;
}

export function hashSetupCode(code: string): string {
  return createHash('sha256').update(`rampart/setup-code/v1\0${normalizeHumanCode(code)}`).digest('hex');
}

/**
 * Ensures an administrator exists. Issues a fresh setup code when the bootstrap
 * account still awaits setup and has no unexpired, unused code (earlier ones
 * are invalidated). Returns undefined once an administrator has completed setup.
 */
export async function ensureBootstrapAdmin(db: Db, options: BootstrapOptions): Promise<BootstrapResult | undefined> {
  return db.transaction().execute(async (trx) => {
    const now = options.clock.now();
    const nowIso = now.toISOString();
    const admins = await trx.selectFrom('accounts').select(['id', 'username', 'status']).where('role', '=', 'admin').execute();
    if (admins.some((a) => a.status === 'active')) return undefined;

    let account = admins.find((a) => a.status === 'setup_required');
    if (account === undefined) {
      // Administrators exist but are all disabled: re-enabling one is an operator decision.
      if (admins.length > 0) return undefined;
      account = { id: newId('acct'), username: options.username, status: 'setup_required' };
      await trx
        .insertInto('accounts')
        .values({ id: account.id, username: options.username, role: 'admin', status: 'setup_required', created_at: nowIso, updated_at: nowIso })
        .execute();
    }

    const live = await trx
      .selectFrom('setup_codes')
      .select('id')
      .where('account_id', '=', account.id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', nowIso)
      .executeTakeFirst();
    if (live !== undefined) return { accountId: account.id, username: account.username };

    const issued = await issueSetupCode(trx, account.id, options.ttlHours, options.clock);
    return { accountId: account.id, username: account.username, ...issued };
  });
}

/**
 * Burns a setup code and returns its account id. Wrong, expired and used codes
 * all give the same error. The lookup is by hash, so no secret is compared.
 * Runs in the caller's transaction: the burn commits with what the code unlocks.
 */
export async function consumeSetupCode(trx: Kysely<Tables>, code: string, clock: Clock): Promise<string> {
  const nowIso = clock.now().toISOString();
  const row = await trx
    .selectFrom('setup_codes')
    .select(['id', 'account_id'])
    .where('code_hash', '=', hashSetupCode(code))
    .where('used_at', 'is', null)
    .where('expires_at', '>', nowIso)
    .executeTakeFirst();
  if (row === undefined) throw new RampartError('identity.setup_code_invalid', 'setup code wrong, expired or used');
  const burned = await trx.updateTable('setup_codes').set({ used_at: nowIso }).where('id', '=', row.id).where('used_at', 'is', null).executeTakeFirst();
  if (burned.numUpdatedRows !== 1n) throw new RampartError('identity.setup_code_invalid', 'setup code used concurrently');
  return row.account_id;
}

/** Replaces an account's unused setup codes with a new one; returns it (shown once) and its expiry. */
export async function issueSetupCode(trx: Kysely<Tables>, accountId: string, ttlHours: number, clock: Clock): Promise<{ setupCode: string; expiresAt: string }> {
  const now = clock.now();
  await trx.deleteFrom('setup_codes').where('account_id', '=', accountId).where('used_at', 'is', null).execute();
  const setupCode = humanCode(160);
  const expiresAt = new Date(now.getTime() + ttlHours * 3_600_000).toISOString();
  await trx
    .insertInto('setup_codes')
    .values({ id: newId('setup'), account_id: accountId, code_hash: hashSetupCode(setupCode), expires_at: expiresAt, used_at: null, created_at: now.toISOString() })
    .execute();
  return { setupCode, expiresAt };
}
