import type { Kysely } from 'kysely';
import type { RampartConfig } from '../config/schema.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Db } from '../storage/database.ts';
import type { Tables } from '../storage/tables.ts';

// Brute-force protection for sign-in and second factors (NIST SP 800-63B-4
// §3.2.2, ASVS 6.3.1). Failures are counted per account and per source
// address. After `freeFailures` (per source: `freeFailuresPerSource`)
// consecutive failures each further one locks the key for baseLockSeconds × 2^(n − free), capped at maxLockSeconds: the delays
// grow and become a temporary lockout. The caller disables the password after
// `disableAfterFailures` consecutive failures on an account. On by default
// (unlike Keycloak's brute-force detection).

export type ThrottleConfig = RampartConfig['identity']['throttle'];

export const accountKey = (accountId: string): string => `acct:${accountId}`;
export const sourceKey = (ip: string): string => `ip:${ip}`;

export interface FailureOutcome {
  /** Consecutive failures now recorded for the key. */
  readonly failures: number;
  /** Set when this failure started a lockout. */
  readonly lockedUntil?: string;
}

export class Throttle {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly config: ThrottleConfig;

  constructor(options: { db: Db; clock: Clock; config: ThrottleConfig }) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.config = options.config;
  }

  /** True when any of the keys is locked right now. */
  async isLocked(keys: readonly string[]): Promise<boolean> {
    const now = this.#clock.now().toISOString();
    const row = await this.#db.selectFrom('login_throttle').select('key').where('key', 'in', [...keys]).where('locked_until', '>', now).executeTakeFirst();
    return row !== undefined;
  }

  /** Seconds until the last of these keys' lockouts ends, or undefined when none is locked. */
  async lockedFor(keys: readonly string[]): Promise<number | undefined> {
    const now = this.#clock.now();
    const rows = await this.#db.selectFrom('login_throttle').select('locked_until').where('key', 'in', [...keys]).where('locked_until', '>', now.toISOString()).execute();
    const until = Math.max(...rows.map((row) => (row.locked_until === null ? 0 : Date.parse(row.locked_until))));
    return rows.length === 0 ? undefined : (until - now.getTime()) / 1000;
  }

  async failure(trx: Kysely<Tables>, key: string): Promise<FailureOutcome> {
    const now = this.#clock.now();
    const nowIso = now.toISOString();
    const perSource = key.startsWith('ip:');
    const free = perSource ? this.config.freeFailuresPerSource : this.config.freeFailures;
    // A source address is forgiven after a quiet period; an account is not: its count runs until a success (NIST's "consecutive").
    const forgivenBefore = new Date(now.getTime() - this.config.maxLockSeconds * 1000).toISOString();
    await trx
      .insertInto('login_throttle')
      .values({ key, failures: 1, locked_until: null, updated_at: nowIso })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          failures: perSource ? eb.case().when('login_throttle.updated_at', '<', forgivenBefore).then(1).else(eb('login_throttle.failures', '+', 1)).end() : eb('login_throttle.failures', '+', 1),
          updated_at: nowIso,
        })),
      )
      .execute();
    const { failures } = await trx.selectFrom('login_throttle').select('failures').where('key', '=', key).executeTakeFirstOrThrow();
    if (failures < free) return { failures };
    const seconds = Math.min(this.config.baseLockSeconds * 2 ** Math.min(failures - free, 30), this.config.maxLockSeconds);
    const lockedUntil = new Date(now.getTime() + seconds * 1000).toISOString();
    await trx.updateTable('login_throttle').set({ locked_until: lockedUntil }).where('key', '=', key).execute();
    return { failures, lockedUntil };
  }

  /** Forgets source addresses quiet for longer than a lockout (they would be forgiven anyway). Account counts stay. */
  async purgeSources(): Promise<number> {
    const now = this.#clock.now();
    const quietSince = new Date(now.getTime() - this.config.maxLockSeconds * 1000).toISOString();
    const result = await this.#db
      .deleteFrom('login_throttle')
      .where('key', 'like', 'ip:%')
      .where('updated_at', '<', quietSince)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now.toISOString())]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** A success ends the run of consecutive failures for that key. */
  async success(trx: Kysely<Tables>, key: string): Promise<void> {
    await trx.deleteFrom('login_throttle').where('key', '=', key).execute();
  }
}
