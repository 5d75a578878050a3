import type { AuditEntryTable } from '../storage/tables.ts';
import { entryHash } from './chain.ts';
import type { ProblemHandle, ProblemLog } from './problems.ts';
import type { EntryReader } from './trail-reader.ts';

// One pass over the trail in seq order, shared by the database check and the
// offline check of an export. The walk keeps a few counters, a ring of recent
// entries and (only while explaining a break) a short look-ahead, so memory
// does not grow with the trail.
//
// Every entry's hash covers its seq, so an entry moved to another position no
// longer hashes as stored — but it still hashes under the seq it was written
// with (its "original" seq). Comparing that with the seq the chain expects next
// tells a changed entry (hashes under no seq) from a deleted run (content jumps
// ahead), a moved one (content from elsewhere, still present) and an inserted
// one (a later entry chains past it).
//
// Hashes are compared with `===`: they are public integrity values (every
// reader of the trail and every export holds them), not secrets, so the time a
// comparison takes tells an observer nothing they could not read.

/** Deep searches by hash, for explaining a break beyond the look-ahead (database scans). */
export interface ChainLocator {
  seqWithHash(hash: string): Promise<number | undefined>;
  seqWithPrevHash(hash: string): Promise<number | undefined>;
}

export interface ChainPoint {
  readonly seq: number;
  readonly hash: string;
}

const RING_SIZE = 1024;
const SEARCH_AHEAD = 256;
const LOCATOR_BUDGET = 64;
const DISPLACED_LIMIT = 1024;
/** How far from its stored seq an entry's original seq is searched for, and how many hashes such searches may cost in one walk. */
const WIDE_SEARCH = 100_000;
const WIDE_SEARCH_BUDGET = 1_000_000;

interface Walked {
  readonly seq: number;
  readonly hash: string;
  /** The seq this entry's content was hashed with. */
  readonly original: number;
}

export interface WalkOptions {
  /** The point before the first entry: seq 0 and the genesis hash for a whole trail. `linked: false` accepts whatever the first entry chains to. */
  readonly start: ChainPoint & { readonly linked: boolean };
  /** Where the chain must end (the head record, or an export's last entry). */
  readonly end?: ChainPoint;
  readonly locator?: ChainLocator;
  readonly onEntry?: (walked: number) => void;
}

export class ChainWalker {
  readonly #reader: EntryReader;
  readonly #problems: ProblemLog;
  readonly #end: ChainPoint | undefined;
  readonly #locator: ChainLocator | undefined;
  readonly #onEntry: ((walked: number) => void) | undefined;
  #prev: Walked;
  #prevIsEntry = false;
  /** The seq the next stored entry should have (an inserted entry that was set aside still takes its place). */
  #nextSeq: number;
  #linkTrusted: boolean;
  #offset = 0;
  #locatorBudget = LOCATOR_BUDGET;
  #searchBudget = WIDE_SEARCH_BUDGET;
  readonly #displaced = new Set<number>();
  /** Entries whose content matched no seq, by the seq they stood in for: a moved entry found later explains them. */
  readonly #unexplained = new Map<number, ProblemHandle>();
  readonly #ring: Walked[] = [];
  entries = 0;

  constructor(reader: EntryReader, problems: ProblemLog, options: WalkOptions) {
    this.#reader = reader;
    this.#problems = problems;
    this.#end = options.end;
    this.#locator = options.locator;
    this.#onEntry = options.onEntry;
    this.#prev = { seq: options.start.seq, hash: options.start.hash, original: options.start.seq };
    this.#linkTrusted = options.start.linked;
    this.#nextSeq = options.start.seq + 1;
  }

  async run(): Promise<void> {
    for (;;) {
      const entry = await this.#reader.next();
      if (entry === undefined) break;
      this.entries++;
      await this.#step(entry);
      this.#onEntry?.(this.entries);
    }
    this.#finish();
  }

  async #step(r: AuditEntryTable): Promise<void> {
    const problems = this.#problems;
    const stored: unknown = r.seq;
    if (typeof stored !== 'number' || !Number.isSafeInteger(stored) || stored < 1) {
      problems.add(typeof stored === 'number' ? stored : Number.NaN, 'inserted', `an entry stored with seq ${String(stored)} is not a position in the chain: it was added outside Rampart`);
      return;
    }
    const prev = this.#prev;
    const expectedSeq = this.#nextSeq;
    const expected = prev.original + 1;
    const original = await this.#originalSeq(r, expected);
    const end = this.#end;
    if (end !== undefined && r.seq > end.seq && (original === undefined || original > end.seq)) {
      problems.add(r.seq, 'inserted', `entry ${r.seq} lies beyond the end of the chain (seq ${end.seq}): it was added outside Rampart`);
      return;
    }

    if (original === undefined) {
      if (r.seq > expectedSeq) {
        problems.add(expected, 'deleted', `${span(expectedSeq, r.seq - 1)} missing from the chain`);
      } else if (this.#linkTrusted) {
        const next = await this.#reader.peek();
        if (next?.prev_hash === prev.hash) {
          problems.add(r.seq, 'inserted', `entry ${r.seq} is not part of the chain: entry ${next.seq} chains directly to entry ${prev.seq}`);
          this.#nextSeq = r.seq + 1;
          return;
        }
      }
      this.#remember(this.#unexplained, expected, problems.add(r.seq, 'modified', `entry ${r.seq} no longer matches its hash: its content was changed`));
      // A changed entry keeps its stored hash, so the next still chains to it; content moved here from elsewhere does not.
      const next = await this.#reader.peek();
      this.#advance(r, expected, next?.prev_hash === r.hash);
      return;
    }

    this.#offset = original - r.seq;
    if (original === expected) {
      if (r.seq > expectedSeq) {
        problems.add(r.seq, 'modified', `entry ${r.seq} was hashed as entry ${original}: it and the entries after it were renumbered`);
        this.#advance(r, original, true);
      } else if (!this.#linkTrusted || r.prev_hash === prev.hash) {
        this.#advance(r, original, true);
      } else {
        await this.#explainBrokenLink(r, original);
      }
      return;
    }

    if (original > expected) {
      // Content from further on sits here: what belongs here was moved elsewhere, or removed. After a removal
      // the entries that follow are either not renumbered or renumbered together; a moved entry stands alone.
      const predecessorElsewhere = (await this.#whereIsHash(r.prev_hash)) !== undefined;
      if (predecessorElsewhere || !(r.seq === original || (await this.#nextShiftedBy(original - r.seq)))) {
        problems.add(r.seq, 'reordered', `entry ${r.seq} holds the content of entry ${original}: entries were moved`);
        this.#markDisplaced(expected);
        this.#advance(r, expected, false);
      } else {
        const renumbered = r.seq === original ? '' : ' (later entries were renumbered to close the gap)';
        problems.add(expected, 'deleted', `${span(expected, original - 1)} missing from the chain${renumbered}`);
        this.#advance(r, original, false);
      }
      return;
    }

    // Content from further back sits here.
    if (this.#displaced.delete(original)) {
      problems.add(r.seq, 'reordered', `entry ${r.seq} holds the content of entry ${original}: entries were moved`);
      this.#advance(r, expected, false);
      return;
    }
    const stoodIn = this.#unexplained.get(original);
    if (stoodIn !== undefined) {
      // What sat at `original` matched no seq: it was content from elsewhere, and this is what belonged there.
      this.#unexplained.delete(original);
      stoodIn.restate('reordered', `entry ${original} does not hold its own content: it was moved to entry ${r.seq}`);
      problems.add(r.seq, 'reordered', `entry ${r.seq} holds the content of entry ${original}: entries were moved`);
      this.#advance(r, expected, false);
      return;
    }
    const anchor = await this.#whereIsHash(r.prev_hash);
    if (anchor !== undefined && anchor.seq < r.seq - 1) {
      problems.add(anchor.seq + 1, 'inserted', `${span(anchor.seq + 1, r.seq - 1)} not part of the chain: entry ${r.seq} (written as entry ${original}) chains directly to entry ${anchor.seq}`);
      this.#advance(r, original, true);
      return;
    }
    problems.add(r.seq, 'reordered', `entry ${r.seq} holds the content of entry ${original}: entries were moved`);
    this.#advance(r, expected, false);
  }

  /** `r` hashes correctly where it is but does not chain to the entry before it. */
  async #explainBrokenLink(r: AuditEntryTable, original: number): Promise<void> {
    const prev = this.#prev;
    const anchor = this.#ring.findLast((w) => w.hash === r.prev_hash);
    if (anchor !== undefined && anchor.seq < prev.seq) {
      this.#problems.add(anchor.seq + 1, 'inserted', `${span(anchor.seq + 1, prev.seq)} not part of the chain: entry ${r.seq} chains directly to entry ${anchor.seq}`);
      this.#advance(r, original, true);
      return;
    }
    const next = await this.#reader.peek();
    if (next !== undefined && next.prev_hash === prev.hash) {
      this.#problems.add(r.seq, 'inserted', `entry ${r.seq} is not part of the chain: entry ${next.seq} chains directly to entry ${prev.seq}`);
      this.#nextSeq = r.seq + 1;
      return;
    }
    const successorAgrees = next === undefined ? this.#end?.hash === r.hash : next.prev_hash === r.hash;
    if (successorAgrees && this.#prevIsEntry) {
      this.#problems.add(prev.seq, 'modified', `entry ${prev.seq} was changed and its hash recomputed: entry ${r.seq} chained to a different hash`);
      this.#advance(r, original, true);
      return;
    }
    this.#problems.add(r.seq, 'modified', `entry ${r.seq} does not chain to entry ${prev.seq}: it was changed and its hash recomputed`);
    this.#advance(r, original, false);
  }

  #finish(): void {
    const end = this.#end;
    if (end === undefined) return;
    const last = this.#prev;
    if (last.hash === end.hash) {
      if (last.seq !== end.seq && last.original !== end.seq && this.#problems.count === 0) {
        this.#problems.add(end.seq, 'modified', `the chain's end is recorded as seq ${end.seq}, but the entry with its hash is ${last.seq}: the head record was altered`);
      }
      return;
    }
    if (end.seq > Math.max(last.seq, last.original)) {
      this.#problems.add(last.original + 1, 'truncated', `the chain ends at entry ${last.seq} but its head is entry ${end.seq}: ${span(last.original + 1, end.seq)} removed from the end`);
    } else if (this.#prevIsEntry) {
      this.#problems.add(last.seq, 'modified', `the last entry (${last.seq}) does not match the head record: it was changed and its hash recomputed, or the head record was altered`);
    } else {
      this.#problems.add(end.seq, 'modified', `the head record (seq ${end.seq}) does not match the start of the chain: it was altered`);
    }
  }

  #advance(r: AuditEntryTable, original: number, linkTrusted: boolean): void {
    const walked = { seq: r.seq, hash: r.hash, original };
    this.#prev = walked;
    this.#prevIsEntry = true;
    this.#nextSeq = r.seq + 1;
    this.#linkTrusted = linkTrusted;
    this.#ring.push(walked);
    if (this.#ring.length > RING_SIZE) this.#ring.shift();
  }

  #markDisplaced(seq: number): void {
    this.#displaced.add(seq);
    if (this.#displaced.size > DISPLACED_LIMIT) {
      const oldest = this.#displaced.values().next();
      if (oldest.done !== true) this.#displaced.delete(oldest.value);
    }
  }

  #remember(map: Map<number, ProblemHandle>, seq: number, handle: ProblemHandle): void {
    map.set(seq, handle);
    if (map.size > DISPLACED_LIMIT) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
  }

  async #nextShiftedBy(offset: number): Promise<boolean> {
    const next = await this.#reader.peek();
    return next === undefined || this.#hashesAs(next, next.seq + offset);
  }

  #hashesAs(r: AuditEntryTable, seq: number): boolean {
    return Number.isSafeInteger(seq) && seq >= 1 && entryHash({ ...r, seq }) === r.hash;
  }

  /** The seq `r` was hashed with, or undefined when its content was changed. */
  async #originalSeq(r: AuditEntryTable, expected: number): Promise<number | undefined> {
    const tried = new Set<number>();
    const attempt = (seq: number) => {
      if (tried.has(seq)) return false;
      tried.add(seq);
      return this.#hashesAs(r, seq);
    };
    for (const seq of [r.seq + this.#offset, expected, r.seq, r.seq - 1, r.seq + 1, r.seq - 2, r.seq + 2]) {
      if (attempt(seq)) return seq;
    }
    // Moved further: its predecessor or successor says where it came from.
    const before = await this.#whereIsHash(r.prev_hash);
    if (before !== undefined) {
      for (const seq of [before.original + 1, before.seq + 1]) if (attempt(seq)) return seq;
    }
    const after = await this.#whereIsSuccessor(r.hash);
    if (after !== undefined && attempt(after - 1)) return after - 1;
    // An entry that does not chain to the one before it may have been renumbered far (a long run deleted or
    // inserted before it). An entry that still chains where it stands was changed in place: no search.
    if (r.prev_hash === this.#prev.hash) return undefined;
    for (let distance = 3; distance <= WIDE_SEARCH && this.#searchBudget > 0; distance++) {
      for (const seq of [r.seq + distance, r.seq - distance]) {
        this.#searchBudget--;
        if (attempt(seq)) return seq;
      }
    }
    return undefined;
  }

  /** Where the entry with this stored hash is: recent entries, the look-ahead, then the locator. */
  async #whereIsHash(hash: string): Promise<Walked | undefined> {
    const behind = this.#ring.findLast((w) => w.hash === hash);
    if (behind !== undefined) return behind;
    const ahead = await this.#reader.findAhead((e) => e.hash === hash, SEARCH_AHEAD);
    if (ahead !== undefined) return { seq: ahead.seq, hash, original: ahead.seq };
    const seq = await this.#locate((l) => l.seqWithHash(hash));
    return seq === undefined ? undefined : { seq, hash, original: seq };
  }

  async #whereIsSuccessor(hash: string): Promise<number | undefined> {
    const ahead = await this.#reader.findAhead((e) => e.prev_hash === hash, SEARCH_AHEAD);
    if (ahead !== undefined) return ahead.seq;
    return this.#locate((l) => l.seqWithPrevHash(hash));
  }

  async #locate(query: (locator: ChainLocator) => Promise<number | undefined>): Promise<number | undefined> {
    if (this.#locator === undefined || this.#locatorBudget <= 0) return undefined;
    this.#locatorBudget--;
    return query(this.#locator);
  }
}

function span(from: number, to: number): string {
  return from === to ? `entry ${from} is` : `entries ${from}–${to} are`;
}
