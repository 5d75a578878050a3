import type { RampartConfig } from '../config/schema.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Database, Db } from '../storage/database.ts';
import type { AccountActor } from './rbac.ts';
import { Sessions } from './sessions.ts';
import { SignIn } from './signin.ts';
import { Throttle } from './throttle.ts';

// The identity layer's parts, built once and handed to its routes and commands.

export interface Identity {
  readonly database: Database;
  readonly db: Db;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly config: RampartConfig['identity'];
  readonly env: RampartConfig['env'];
  readonly setupCodeTtlHours: number;
  readonly sessions: Sessions;
  readonly throttle: Throttle;
  readonly signIn: SignIn;
}

export function createIdentity(options: { database: Database; keyring: Keyring; clock: Clock; config: RampartConfig }): Identity {
  const { database, keyring, clock, config } = options;
  const db = database.db;
  const sessions = new Sessions({ db, clock, config: config.identity.sessions });
  const throttle = new Throttle({ db, clock, config: config.identity.throttle });
  const signIn = new SignIn({ db, clock, sessions, throttle, config: config.identity });
  return { database, db, keyring, clock, config: config.identity, env: config.env, setupCodeTtlHours: config.bootstrap.setupCodeTtlHours, sessions, throttle, signIn };
}

/** Adding or changing a factor, or other self-service on credentials, needs a recent second factor too. */
export function assertRecentMfa(identity: Identity, mfaAt: string | null): void {
  if (mfaAt === null || identity.clock.now().getTime() - Date.parse(mfaAt) >= identity.config.stepUpMinutes * 60_000) {
    throw new RampartError('auth.step_up_required', 'a recent second factor is required');
  }
}

export function isRecent(identity: Identity, actor: AccountActor): boolean {
  return actor.mfaAt !== null && identity.clock.now().getTime() - Date.parse(actor.mfaAt) < identity.config.stepUpMinutes * 60_000;
}

/** Ended sessions are kept this long (for support questions), then deleted. */
const SESSION_RETENTION_MS = 7 * 24 * 3_600_000;
const HOUSEKEEPING_MS = 3_600_000;

/** Hourly clean-up of dead sessions and quiet source-address counters; the returned function stops it. */
export function startHousekeeping(identity: Identity, logger: Logger): () => void {
  const run = async () => {
    try {
      const sessions = await identity.sessions.purge(new Date(identity.clock.now().getTime() - SESSION_RETENTION_MS));
      const sources = await identity.throttle.purgeSources();
      if (sessions + sources > 0) logger.info({ sessions, sources }, 'identity housekeeping');
    } catch (error) {
      logger.warn({ err: error }, 'identity housekeeping failed; retrying in an hour');
    }
  };
  void run();
  const timer = setInterval(() => void run(), HOUSEKEEPING_MS);
  timer.unref();
  return () => clearInterval(timer);
}
