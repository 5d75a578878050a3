import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import { recordChange, type AuditedChange } from '../audit/append.ts';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { auditActor, auditContext } from '../identity/access.ts';
import type { Actor } from '../identity/rbac.ts';
import type { Clock } from '../kernel/clock.ts';
import { errorCatalog } from '../kernel/error-catalog.ts';
import { isRampartError, RampartError } from '../kernel/errors.ts';
import { newId } from '../kernel/ids.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Database } from '../storage/database.ts';
import { ENCRYPTED_COLUMNS, type EncryptedColumn } from './encrypted-columns.ts';
import { ACTIVE_KEY_CACHE_MS, type Keyring } from './keyring.ts';
import { listDataKeys, listSigningKeys } from './keyring.store.ts';
import { rotateKeys, type RotationProgress, type RotationReport } from './rotate.ts';

// The keyring on the app plane, for administrators: its keys (ids, purposes,
// states and dates, never material) and a rotation, as `rampart keys rotate`
// does it. A rotation waits for running servers to drop their cached keys and
// then re-encrypts every stored value, which can outlast a request, so it runs
// in this process in the background: the request that starts it answers 202,
// and the key list reports its phase and progress, then its summary. One runs
// at a time per process; each start and each end is in the audit trail. When
// the server stops mid-rotation, the rotation stops at the next value (a
// rotation run again later finishes the job: rotateKeys is safe to re-run).

const TARGET = { type: 'keyring', id: 'keyring' } as const;
/** How often the settle wait looks at the clock (the server's clock: a test's manual clock moves it). */
const SETTLE_POLL_MS = 200;
const MAX_REASON_LENGTH = 500;

const KeySchema = Type.Object(
  {
    id: Type.String({ description: 'Data key id (`dk_…`) or signing key id (`sk_…`, the JWS `kid`).' }),
    type: Type.Enum(['data', 'signing'], { description: '`data`: encrypts stored values (AES-256-GCM); `signing`: Ed25519, signs receipts, audit checkpoints and access tokens.' }),
    purpose: Type.String({ description: 'Data keys: `personal` or `secret`; signing keys: `receipt`, `audit` or `token`.' }),
    state: Type.Enum(['active', 'retiring', 'retired', 'verify_only'], {
      description: '`active`: encrypts or signs now; `retiring`: decrypts only, values are being re-encrypted away from it; `retired`: material destroyed; `verify_only`: still published so old signatures verify.',
    }),
    createdAt: Type.String(),
    endedAt: Type.Union([Type.String(), Type.Null()], { description: 'When a data key was retired or a signing key stopped signing.' }),
  },
  { additionalProperties: false },
);

const ReportSchema = Type.Object(
  {
    newDataKeys: Type.Array(Type.String()),
    newSigningKeys: Type.Array(Type.String()),
    reencrypted: Type.Integer({ description: 'Stored values re-encrypted under the new data keys.' }),
    retired: Type.Array(Type.String(), { description: 'Old data keys whose material was destroyed.' }),
    stillRetiring: Type.Array(Type.String(), { description: 'Old data keys still referenced (written by a process with a stale cache); kept for decryption until a later rotation.' }),
  },
  { additionalProperties: false },
);

const RotationSchema = Type.Object(
  {
    id: Type.String(),
    status: Type.Enum(['running', 'succeeded', 'failed']),
    phase: Type.Union([Type.Enum(['start', 'settle', 'reencrypt', 'retire']), Type.Null()], {
      description: '`start`: new keys are created; `settle`: waiting for running servers to drop cached keys (`done`/`total` in ms); `reencrypt`: values re-encrypted so far; `retire`: old keys checked. Null once finished.',
    }),
    done: Type.Integer(),
    total: Type.Integer(),
    startedAt: Type.String(),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
    startedBy: Type.Union([Type.String(), Type.Null()], { description: 'The id of the account or service principal that started it.' }),
    startedByName: Type.Union([Type.String(), Type.Null()], { description: 'Its username or name.' }),
    reason: Type.String(),
    report: Type.Union([ReportSchema, Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why a failed rotation stopped; run it again to finish.' }),
  },
  { additionalProperties: false },
);

const KeyListSchema = Type.Object(
  {
    items: Type.Array(KeySchema),
    rotation: Type.Union([RotationSchema, Type.Null()], { description: 'The rotation running in this server, or the last one it ran since it started; null when none.' }),
  },
  { additionalProperties: false },
);

const RotateBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: MAX_REASON_LENGTH, pattern: '\\S', description: 'Why the keys are rotated; recorded in the audit trail.' }) },
  { additionalProperties: false },
);

const Errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 409: ProblemSchema };

export type KeyView = Static<typeof KeySchema>;
export type RotationView = Static<typeof RotationSchema>;

export interface KeyRouteDeps {
  readonly database: Database;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Columns re-encrypted; default: every registered one. */
  readonly columns?: readonly EncryptedColumn[];
  /** Wait for running servers' caches of the old active keys; default: their cache lifetime plus a second. */
  readonly settleMs?: number;
}

type RotationState = { -readonly [K in keyof RotationView]: RotationView[K] };

/** The one rotation of this process at a time, with its progress. */
class Rotations {
  readonly #deps: KeyRouteDeps;
  readonly #stop = new AbortController();
  #state: RotationState | undefined;
  #running: Promise<void> | undefined;

  constructor(deps: KeyRouteDeps) {
    this.#deps = deps;
  }

  view(): RotationView | null {
    return this.#state === undefined ? null : { ...this.#state, ...(this.#state.report === null ? {} : { report: copyReport(this.#state.report) }) };
  }

  /** Starts a rotation (its start is audited first), or refuses while one runs. */
  async start(change: AuditedChange, by: string | null, reason: string): Promise<RotationView> {
    const { clock, database } = this.#deps;
    if (this.#stop.signal.aborted) throw new RampartError('service.unavailable', 'server stopping: no rotation started');
    if (this.#running !== undefined && this.#state !== undefined) {
      const detail = `a rotation started at ${this.#state.startedAt} is still running; wait for it to finish`;
      throw new RampartError('keys.rotation_running', detail, { publicDetail: detail });
    }
    const state: RotationState = {
      id: newId('rot'),
      status: 'running',
      phase: 'start',
      done: 0,
      total: 0,
      startedAt: clock.now().toISOString(),
      finishedAt: null,
      startedBy: change.actor.id ?? null,
      startedByName: by,
      reason,
      report: null,
      error: null,
    };
    // Claimed before the first await, so a second request at the same moment is refused.
    this.#state = state;
    let release: () => void = () => undefined;
    this.#running = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await database.db.transaction().execute((trx) => recordChange(trx, clock, change, 'keys.rotation_start', TARGET, { rotation: state.id, reason }));
    } catch (error) {
      this.#state = undefined;
      this.#running = undefined;
      release();
      throw error;
    }
    void this.#run(state, change).finally(() => {
      this.#running = undefined;
      release();
    });
    return this.view() ?? state;
  }

  /** Stops a running rotation at its next step and waits for it to record the end. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #run(state: RotationState, change: AuditedChange): Promise<void> {
    const { database, keyring, clock, logger } = this.#deps;
    const signal = this.#stop.signal;
    const onProgress = (p: RotationProgress) => {
      if (signal.aborted) throw new RotationStopped();
      state.phase = p.phase;
      state.done = p.done;
      state.total = p.total;
    };
    try {
      const report = await rotateKeys({
        database,
        keyring,
        columns: this.#deps.columns ?? ENCRYPTED_COLUMNS,
        clock,
        settleMs: this.#deps.settleMs ?? ACTIVE_KEY_CACHE_MS + 1_000,
        onProgress,
        sleep: (ms) => this.#settle(state, ms),
      });
      await database.db.transaction().execute((trx) =>
        recordChange(trx, clock, change, 'keys.rotate', TARGET, {
          rotation: state.id,
          reason: state.reason,
          new_data_keys: report.newDataKeys,
          new_signing_keys: report.newSigningKeys,
          reencrypted: report.reencrypted,
          retired: report.retired,
          still_retiring: report.stillRetiring,
        }),
      );
      Object.assign(state, { status: 'succeeded', phase: null, finishedAt: clock.now().toISOString(), report: copyReport(report) });
      logger.info({ rotation: state.id, reencrypted: report.reencrypted, retired: report.retired.length }, 'keys rotated');
    } catch (error) {
      const message = error instanceof RotationStopped || signal.aborted ? 'the server stopped during the rotation' : isRampartError(error) ? errorCatalog[error.code].title : 'the rotation failed (the server log has the cause)';
      logger.error({ err: error, rotation: state.id, phase: state.phase }, 'key rotation failed');
      Object.assign(state, { status: 'failed', finishedAt: clock.now().toISOString(), error: `${message}; run the rotation again to finish it` });
      try {
        await database.db.transaction().execute((trx) => recordChange(trx, clock, change, 'keys.rotate', TARGET, { rotation: state.id, reason: state.reason, phase: state.phase, error: message }, 'failure'));
      } catch (auditError) {
        logger.error({ err: auditError, rotation: state.id }, 'key rotation failure not recorded in the audit trail');
      }
      state.phase = null;
    }
  }

  /** The settle wait, by the server's clock, reporting the time waited; a stopping server ends it. */
  async #settle(state: RotationState, ms: number): Promise<void> {
    const { clock } = this.#deps;
    const until = clock.now().getTime() + ms;
    for (;;) {
      const left = until - clock.now().getTime();
      state.done = Math.min(ms, Math.max(0, ms - left));
      if (left <= 0) return;
      try {
        await sleep(Math.min(left, SETTLE_POLL_MS), undefined, { signal: this.#stop.signal });
      } catch {
        throw new RotationStopped();
      }
    }
  }
}

class RotationStopped extends Error {
  constructor() {
    super('rotation stopped: the server is stopping');
  }
}

function copyReport(report: RotationReport): RotationReport {
  return { newDataKeys: [...report.newDataKeys], newSigningKeys: [...report.newSigningKeys], reencrypted: report.reencrypted, retired: [...report.retired], stillRetiring: [...report.stillRetiring] };
}

async function listKeys(database: Database): Promise<KeyView[]> {
  const [data, signing] = await Promise.all([listDataKeys(database.db), listSigningKeys(database.db)]);
  const keys: KeyView[] = [
    ...data.map((k) => ({ id: k.id, type: 'data' as const, purpose: k.purpose, state: k.status, createdAt: k.created_at, endedAt: k.retired_at })),
    ...signing.map((k) => ({ id: k.kid, type: 'signing' as const, purpose: k.purpose, state: k.status, createdAt: k.created_at, endedAt: k.rotated_at })),
  ];
  // Newest first; ids break ties so the order is stable.
  return keys.sort((a, b) => (a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : b.createdAt.localeCompare(a.createdAt)));
}

function nameOf(actor: Actor | undefined): string | null {
  if (actor === undefined) return null;
  return actor.kind === 'account' ? actor.username : actor.name;
}

export function registerKeyRoutes(app: PlaneApp, deps: KeyRouteDeps): void {
  const rotations = new Rotations(deps);
  const change = (request: FastifyRequest): AuditedChange => ({ actor: auditActor(request.actor), context: auditContext(request) });
  app.addHook('onClose', () => rotations.close());

  app.get(
    '/api/v1/keys',
    {
      config: { access: { permission: 'keys.rotate' } },
      schema: { tags: ['keys'], summary: 'The keyring\'s data and signing keys (never their material), and this server\'s current or last rotation (step-up)', response: { 200: KeyListSchema, ...Errors } },
    },
    async () => ({ items: await listKeys(deps.database), rotation: rotations.view() }),
  );

  app.post(
    '/api/v1/keys/rotate',
    {
      config: { access: { permission: 'keys.rotate' } },
      schema: {
        tags: ['keys'],
        summary: 'Start rotating every data and signing key (step-up; audited); follow it in GET /api/v1/keys',
        body: RotateBody,
        response: { 202: Type.Object({ rotation: RotationSchema }, { additionalProperties: false }), ...Errors },
      },
    },
    async (request, reply) => reply.code(202).send({ rotation: await rotations.start(change(request), nameOf(request.actor), request.body.reason.trim()) }),
  );
}
