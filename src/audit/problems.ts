// What verification found. Problems are named by the first entry they affect,
// in the numbering the entries were hashed with.

export type ProblemKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'checkpoint_invalid' | 'checkpoint_mismatch';

export interface AuditProblem {
  /** The first affected entry (NaN for an entry stored without a seq). */
  readonly seq: number;
  readonly kind: ProblemKind;
  readonly message: string;
}

export interface ProblemHandle {
  restate(kind: ProblemKind, message: string): void;
}

// At one seq, a finding about the chain itself explains a checkpoint's failure, not the reverse.
const KIND_ORDER: Readonly<Record<ProblemKind, number>> = {
  deleted: 0,
  inserted: 1,
  reordered: 2,
  modified: 3,
  truncated: 4,
  checkpoint_mismatch: 5,
  checkpoint_invalid: 6,
};

function compare(a: AuditProblem, b: AuditProblem): number {
  const sa = Number.isFinite(a.seq) ? a.seq : Number.POSITIVE_INFINITY;
  const sb = Number.isFinite(b.seq) ? b.seq : Number.POSITIVE_INFINITY;
  return sa === sb ? KIND_ORDER[a.kind] - KIND_ORDER[b.kind] : sa - sb;
}

/** Keeps the `limit` earliest problems (a badly damaged trail must not exhaust memory) and counts all of them. */
export class ProblemLog {
  readonly #limit: number;
  #problems: Array<{ seq: number; kind: ProblemKind; message: string }> = [];
  #count = 0;

  constructor(limit = 100) {
    this.#limit = limit;
  }

  get count(): number {
    return this.#count;
  }

  /** Records a problem; the returned handle lets a later finding explain it better. */
  add(seq: number, kind: ProblemKind, message: string): ProblemHandle {
    this.#count++;
    const problem = { seq, kind, message };
    this.#problems.push(problem);
    if (this.#problems.length >= this.#limit * 2) this.#problems = this.#problems.sort(compare).slice(0, this.#limit);
    return {
      restate: (kind_, message_) => {
        problem.kind = kind_;
        problem.message = message_;
      },
    };
  }

  /** The kept problems, earliest first. */
  list(): AuditProblem[] {
    return this.#problems.sort(compare).slice(0, this.#limit).map((p) => ({ ...p }));
  }
}
