import type { AuditEntryTable } from '../storage/tables.ts';
import type { ProblemLog } from './problems.ts';
import type { CheckpointKeys, SignedCheckpoint } from './signatures.ts';
import type { ChainPoint } from './walk.ts';

// Reading a trail in seq order: entries (with look-ahead) for the chain walk,
// checkpoints checked as they pass.

export type TrailItem =
  | { readonly type: 'entry'; readonly entry: AuditEntryTable }
  | { readonly type: 'checkpoint'; readonly checkpoint: SignedCheckpoint };

/** Checkpoints waiting for an entry that has not been read yet, at most. */
const PENDING_LIMIT = 1024;

/**
 * Checks each checkpoint's signature and that the entry stored at its seq has
 * the hash it signed. Items arrive in seq order, a checkpoint after its entry.
 */
export class CheckpointChecker {
  readonly #keys: CheckpointKeys;
  readonly #problems: ProblemLog;
  #lastEntry: ChainPoint | undefined;
  #pending: SignedCheckpoint[] = [];
  #matched: { seq: number; at: string } | undefined;
  count = 0;

  constructor(keys: CheckpointKeys, problems: ProblemLog) {
    this.#keys = keys;
    this.#problems = problems;
  }

  /** The newest checkpoint whose signature verified and whose entry still has the signed hash. */
  get lastMatched(): { seq: number; at: string } | undefined {
    return this.#matched;
  }

  onEntry(entry: ChainPoint): void {
    const waiting = this.#pending;
    this.#pending = [];
    for (const checkpoint of waiting) {
      if (checkpoint.seq === entry.seq) this.#compare(checkpoint, entry);
      else if (checkpoint.seq < entry.seq) this.#missing(checkpoint);
      else this.#pending.push(checkpoint);
    }
    this.#lastEntry = entry;
  }

  onCheckpoint(checkpoint: SignedCheckpoint): void {
    this.count++;
    const verdict = this.#keys.verify(checkpoint);
    if (verdict !== 'valid') {
      const why = {
        invalid: 'its signature does not verify',
        unknown_key: `it names key ${checkpoint.kid}, which is not an audit signing key`,
        malformed: 'its seq or signature is malformed',
      }[verdict];
      this.#problems.add(checkpoint.seq, 'checkpoint_invalid', `checkpoint at seq ${checkpoint.seq}: ${why}; it was forged or altered`);
      return;
    }
    if (this.#lastEntry?.seq === checkpoint.seq) this.#compare(checkpoint, this.#lastEntry);
    else if (this.#pending.length < PENDING_LIMIT) this.#pending.push(checkpoint);
    else this.#missing(checkpoint);
  }

  /** Checkpoints still waiting for their entry cover entries that are not there. */
  finish(): void {
    const last = this.#lastEntry;
    for (const checkpoint of this.#pending) {
      if (last === undefined || checkpoint.seq > last.seq) {
        this.#problems.add(
          (last?.seq ?? 0) + 1,
          'truncated',
          `the checkpoint signed at ${checkpoint.at} covers the chain up to entry ${checkpoint.seq}, but the chain ends at ${last?.seq ?? 0}: entries were removed from its end`,
        );
      } else {
        this.#missing(checkpoint);
      }
    }
    this.#pending = [];
  }

  #compare(checkpoint: SignedCheckpoint, entry: ChainPoint): void {
    if (checkpoint.head_hash === entry.hash) {
      if (this.#matched === undefined || checkpoint.seq > this.#matched.seq) this.#matched = { seq: checkpoint.seq, at: checkpoint.at };
      return;
    }
    const since = this.#matched === undefined ? '' : ` after entry ${this.#matched.seq} (the previous matching checkpoint)`;
    this.#problems.add(checkpoint.seq, 'checkpoint_mismatch', `entry ${checkpoint.seq} no longer has the hash signed in the checkpoint of ${checkpoint.at}: the chain was rewritten somewhere${since} up to this entry`);
  }

  #missing(checkpoint: SignedCheckpoint): void {
    this.#problems.add(checkpoint.seq, 'checkpoint_mismatch', `the checkpoint of ${checkpoint.at} signs entry ${checkpoint.seq}, which is missing`);
  }
}

/** Entries from a stream of trail items, with look-ahead; checkpoints are handed to the checker as they are read. */
export class EntryReader {
  readonly #source: AsyncIterator<TrailItem>;
  readonly #checkpoints: CheckpointChecker;
  readonly #buffer: AuditEntryTable[] = [];
  #done = false;

  constructor(source: AsyncIterable<TrailItem>, checkpoints: CheckpointChecker) {
    this.#source = source[Symbol.asyncIterator]();
    this.#checkpoints = checkpoints;
  }

  async next(): Promise<AuditEntryTable | undefined> {
    await this.#fill(1);
    return this.#buffer.shift();
  }

  async peek(): Promise<AuditEntryTable | undefined> {
    await this.#fill(1);
    return this.#buffer[0];
  }

  /** The first of the next `limit` entries that matches. */
  async findAhead(predicate: (entry: AuditEntryTable) => boolean, limit: number): Promise<AuditEntryTable | undefined> {
    await this.#fill(limit);
    return this.#buffer.slice(0, limit).find(predicate);
  }

  async #fill(count: number): Promise<void> {
    while (this.#buffer.length < count && !this.#done) {
      const item = await this.#source.next();
      if (item.done === true) {
        this.#done = true;
        this.#checkpoints.finish();
      } else if (item.value.type === 'entry') {
        this.#buffer.push(item.value.entry);
        this.#checkpoints.onEntry(item.value.entry);
      } else {
        this.#checkpoints.onCheckpoint(item.value.checkpoint);
      }
    }
  }
}
