import type { Kysely } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Tables } from '../../storage/tables.ts';

// TOTP (RFC 6238) through `otpauth`: SHA-1, 6 digits, 30 s, ±1 step of drift,
// a 160-bit secret encrypted by the keyring and bound to its row. otpauth
// checks the code; single use is ours: the accepted time step is remembered
// and any code for that step or an earlier one is refused (ASVS 6.5.1).

const PERIOD = 30;
const DIGITS = 6;
const ALGORITHM = 'SHA1';
const DRIFT_STEPS = 1;
export const TOTP_FIELD = { table: 'totp_factors', column: 'secret' } as const;

function totpFor(secretBase32: string, label: string): TOTP {
  return new TOTP({ issuer: 'Rampart', label, algorithm: ALGORITHM, digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secretBase32) });
}

export interface TotpEnrolment {
  /** Base32 secret for manual entry. */
  readonly secret: string;
  /** `otpauth://totp/…` for a QR code. */
  readonly uri: string;
}

// Anything that decrypts or encrypts runs outside transactions: the keyring may
// read keys from the database, which must not happen inside an open
// transaction on a single-connection SQLite handle.

/** Starts (or restarts) enrolment: a new unconfirmed secret replaces any earlier unconfirmed one. */
export async function startTotpEnrolment(db: Kysely<Tables>, keyring: Keyring, clock: Clock, account: { id: string; username: string }): Promise<TotpEnrolment> {
  const secret = new Secret({ size: 20 }).base32;
  const encrypted = await keyring.encryptField({ ...TOTP_FIELD, rowId: account.id }, secret);
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('totp_factors').where('account_id', '=', account.id).where('confirmed_at', 'is', null).execute();
    await trx.insertInto('totp_factors').values({ account_id: account.id, secret: encrypted, last_used_step: null, confirmed_at: null, created_at: clock.now().toISOString() }).execute();
  });
  return { secret, uri: totpFor(secret, account.username).toString() };
}

/**
 * Checks a code against the confirmed factor (or, when `confirming`, the
 * pending enrolment) and returns its time step, without using it up:
 * `burnTotpStep` does that inside the caller's transaction. Undefined for a
 * wrong or out-of-window code, or a step already used.
 */
export async function verifyTotpCode(db: Kysely<Tables>, keyring: Keyring, clock: Clock, accountId: string, code: string, confirming = false): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined;
  const row = await db
    .selectFrom('totp_factors')
    .select(['secret', 'last_used_step'])
    .where('account_id', '=', accountId)
    .where('confirmed_at', confirming ? 'is' : 'is not', null)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const secret = await keyring.decryptFieldText({ ...TOTP_FIELD, rowId: accountId }, row.secret);
  const now = clock.now().getTime();
  const delta = totpFor(secret, accountId).validate({ token: code, timestamp: now, window: DRIFT_STEPS });
  if (delta === null) return undefined;
  const step = Math.floor(now / 1000 / PERIOD) + delta;
  return row.last_used_step !== null && step <= row.last_used_step ? undefined : step;
}

/** Uses up a time step (compare-and-set: of two concurrent uses of one code, one wins); confirms a pending enrolment. */
export async function burnTotpStep(trx: Kysely<Tables>, clock: Clock, accountId: string, step: number, confirming = false): Promise<boolean> {
  const burned = await trx
    .updateTable('totp_factors')
    .set({ last_used_step: step, ...(confirming ? { confirmed_at: clock.now().toISOString() } : {}) })
    .where('account_id', '=', accountId)
    .where('confirmed_at', confirming ? 'is' : 'is not', null)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
    .executeTakeFirst();
  return burned.numUpdatedRows === 1n;
}

export async function hasTotp(db: Kysely<Tables>, accountId: string): Promise<boolean> {
  const row = await db.selectFrom('totp_factors').select('account_id').where('account_id', '=', accountId).where('confirmed_at', 'is not', null).executeTakeFirst();
  return row !== undefined;
}

/** For tests and the CLI simulator: the code an authenticator app shows at `timestamp`. */
export function totpCode(secretBase32: string, timestamp: number): string {
  return totpFor(secretBase32, 'code').generate({ timestamp });
}
