import type { Keyring } from '../crypto/keyring.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Database } from '../storage/database.ts';
import * as store from './audit.store.ts';
import { checkpointPayload } from './chain.ts';

// Signed checkpoints of the chain's head. A checkpoint is the audit key's
// Ed25519 signature over (seq, head hash, time): once one exists — and above all
// once a copy is kept outside this database — entries up to its seq cannot be
// rewritten without the rewrite showing.

export interface AuditCheckpointerOptions {
  readonly database: Database;
  readonly keyring: Pick<Keyring, 'sign'>;
  readonly clock: Clock;
  /** Checkpoint when this long has passed since the last one (and the head has moved). */
  readonly intervalSeconds: number;
  /** …or when this many entries have been appended since the last one. */
  readonly everyEntries: number;
  readonly logger: Logger;
}

export interface WrittenCheckpoint {
  readonly seq: number;
  readonly headHash: string;
  readonly at: string;
  readonly kid: string;
  /** False when a checkpoint for this seq already existed (written by another process, or earlier). */
  readonly created: boolean;
}

const MAX_TICK_MS = 5_000;

export class AuditCheckpointer {
  readonly #options: AuditCheckpointerOptions;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(options: AuditCheckpointerOptions) {
    this.#options = options;
  }

  /** How often the timer looks at the head. */
  get tickMs(): number {
    return Math.min((this.#options.intervalSeconds * 1000) / 2, MAX_TICK_MS);
  }

  /**
   * Writes a checkpoint when the head has moved past the last one and either
   * `everyEntries` entries have accumulated or `intervalSeconds` have passed.
   * Resolves true when it wrote one.
   */
  async maybeCheckpoint(): Promise<boolean> {
    const { database, clock, intervalSeconds, everyEntries } = this.#options;
    const head = await store.readHead(database.db);
    const pending = head.seq - head.checkpoint_seq;
    if (pending <= 0) return false;
    const elapsedMs = clock.now().getTime() - Date.parse(head.checkpoint_at);
    // A last checkpoint "in the future" means the clock was set back: checkpoint now rather than wait for it to catch up.
    const due = pending >= everyEntries || elapsedMs >= intervalSeconds * 1000 || elapsedMs < 0;
    if (!due) return false;
    const written = await this.#write(head.seq, head.hash);
    return written.created;
  }

  /** Writes a checkpoint of the current head now; undefined when the trail is empty. */
  async checkpointNow(): Promise<WrittenCheckpoint | undefined> {
    const head = await store.readHead(this.#options.database.db);
    const seq = head.seq;
    if (seq < 1) return undefined;
    if (head.checkpoint_seq === seq) {
      const existing = await store.findCheckpoint(this.#options.database.db, seq);
      if (existing !== undefined) return { seq, headHash: existing.head_hash, at: existing.at, kid: existing.kid, created: false };
    }
    return this.#write(seq, head.hash);
  }

  /** Starts the background timer (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#inFlight !== undefined) return;
      this.#inFlight = this.maybeCheckpoint()
        .then(
          () => undefined,
          (error: unknown) => {
            this.#options.logger.error({ err: error }, 'audit checkpoint failed; will retry');
          },
        )
        .finally(() => {
          this.#inFlight = undefined;
        });
    }, this.tickMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a checkpoint being written to finish. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  async #write(seq: number, headHash: string): Promise<WrittenCheckpoint> {
    const { database, keyring, clock } = this.#options;
    const at = clock.now().toISOString();
    // Signing may read (or create) the key: it runs before the transaction, never inside it.
    const { kid, signature } = await keyring.sign('audit', checkpointPayload(seq, headHash, at));
    try {
      await database.db.transaction().execute(async (trx) => {
        await store.insertCheckpoint(trx, { seq, head_hash: headHash, at, kid, signature: signature.toString('base64url') });
        await store.markCheckpoint(trx, seq, at);
      });
    } catch (error) {
      // Another process checkpointed the same head first: its checkpoint serves.
      if (!database.isUniqueViolation(error)) throw error;
      const existing = await store.findCheckpoint(database.db, seq);
      if (existing === undefined) throw error;
      await store.markCheckpoint(database.db, seq, existing.at);
      return { seq, headHash: existing.head_hash, at: existing.at, kid: existing.kid, created: false };
    }
    this.#options.logger.info({ seq, kid }, 'audit checkpoint written');
    return { seq, headHash, at, kid, created: true };
  }
}
