import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { humanCode, newId, normalizeHumanCode } from '../../kernel/ids.ts';
import type { Tables } from '../../storage/tables.ts';

// Ten single-use recovery codes of 80 bits each (ASVS 6.5.2: ≥ 64 bits).
// With that much entropy a salted SHA-256 is enough (no stretching needed);
// lookup is by hash, so no secret is compared.

export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_CODE_BITS = 80;

export function recoveryCodeHash(accountId: string, code: string): string {
  return createHash('sha256').update(`rampart/recovery-code/v1\0${accountId}\0${normalizeHumanCode(code)}`).digest('hex');
}

/** Replaces the account's codes with ten new ones; returns them (shown once). */
export async function issueRecoveryCodes(trx: Kysely<Tables>, clock: Clock, accountId: string): Promise<string[]> {
  const now = clock.now().toISOString();
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => humanCode(RECOVERY_CODE_BITS));
  await trx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
  await trx
    .insertInto('recovery_codes')
    .values(codes.map((code) => ({ id: newId('rc'), account_id: accountId, code_hash: recoveryCodeHash(accountId, code), used_at: null, created_at: now })))
    .execute();
  return codes;
}

/** Burns one unused code; false when it is wrong or already used (the table is then unchanged). */
export async function useRecoveryCode(trx: Kysely<Tables>, clock: Clock, accountId: string, code: string): Promise<boolean> {
  if (code.length > 64) return false;
  const result = await trx
    .updateTable('recovery_codes')
    .set({ used_at: clock.now().toISOString() })
    .where('account_id', '=', accountId)
    .where('code_hash', '=', recoveryCodeHash(accountId, code))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function remainingRecoveryCodes(db: Kysely<Tables>, accountId: string): Promise<number> {
  const row = await db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number | string>().as('n')).where('account_id', '=', accountId).where('used_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}
