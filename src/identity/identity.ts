import type { RampartConfig } from '../config/schema.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
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
