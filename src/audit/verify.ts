import { RampartError } from '../kernel/errors.ts';
import type { Database, Db } from '../storage/database.ts';
import * as store from './audit.store.ts';
import { GENESIS_HASH } from './chain.ts';
import { parseExportLines } from './export-format.ts';
import { ProblemLog, type AuditProblem } from './problems.ts';
import { CheckpointKeys } from './signatures.ts';
import { CheckpointChecker, EntryReader, type TrailItem } from './trail-reader.ts';
import { ChainWalker, type ChainLocator, type ChainPoint } from './walk.ts';

export type { AuditProblem, ProblemKind } from './problems.ts';

export interface AuditVerificationReport {
  /** Entries examined. */
  readonly entries: number;
  /** Checkpoints examined. */
  readonly checkpoints: number;
  readonly ok: boolean;
  /** The earliest problems (at most 100), earliest first. */
  readonly problems: readonly AuditProblem[];
  /** Every problem found, including those not listed. */
  readonly problemCount: number;
  readonly firstProblem: AuditProblem | undefined;
  /** Where the chain should end: the head record, or the export's last entry. */
  readonly head: ChainPoint | undefined;
  /** The newest checkpoint that verified and still matches its entry; entries after it are covered by the chain alone. */
  readonly lastCheckpoint: { readonly seq: number; readonly at: string } | undefined;
}

export interface VerifyProgress {
  readonly done: number;
  readonly total: number;
}

export interface VerifyAuditTrailOptions {
  readonly database: Database;
  readonly onProgress?: (progress: VerifyProgress) => void;
  readonly pageSize?: number;
}

const PROGRESS_EVERY = 500;

/**
 * Walks the whole stored trail in seq order, in pages, inside one read-only
 * snapshot (so appends made meanwhile cannot look like tampering). Checks every
 * entry's hash and link, dense numbering, every checkpoint's signature and hash,
 * and that the chain ends at the head record. Signatures are checked with the
 * public keys of the `audit` purpose only, read inside the same snapshot.
 */
export async function verifyAuditTrail(options: VerifyAuditTrailOptions): Promise<AuditVerificationReport> {
  const pageSize = options.pageSize ?? 500;
  return store.inSnapshot(options.database, async (trx) => {
    const head = await store.readHead(trx);
    const keys = CheckpointKeys.fromJwks({ keys: await store.auditPublicJwks(trx) });
    const total = await store.countEntries(trx);
    const problems = new ProblemLog();
    for (let i = 0, n = await store.countUnnumbered(trx); i < Math.min(n, 10); i++) {
      problems.add(Number.NaN, 'inserted', 'an entry stored without a seq is not part of the chain: it was added outside Rampart');
    }
    const checker = new CheckpointChecker(keys, problems);
    const locator: ChainLocator = {
      seqWithHash: (hash) => store.seqWithHash(trx, hash),
      seqWithPrevHash: (hash) => store.seqWithPrevHash(trx, hash),
    };
    const end = { seq: head.seq, hash: head.hash };
    const walker = new ChainWalker(new EntryReader(trailItems(trx, pageSize), checker), problems, {
      start: { seq: 0, hash: GENESIS_HASH, linked: true },
      end,
      locator,
      onEntry: (done) => {
        if (done % PROGRESS_EVERY === 0) options.onProgress?.({ done, total: Math.max(total, done) });
      },
    });
    options.onProgress?.({ done: 0, total });
    await walker.run();
    options.onProgress?.({ done: walker.entries, total: Math.max(total, walker.entries) });
    return report(walker.entries, checker, problems, end);
  });
}

/** Entries and checkpoints merged in seq order, each checkpoint after the entry it signs. */
async function* trailItems(db: Db, pageSize: number): AsyncGenerator<TrailItem> {
  // Below any seq, so entries stored with a fabricated zero or negative seq are walked too.
  const from = Number.MIN_SAFE_INTEGER;
  const checkpoints = store.checkpointsAfter(db, from, pageSize);
  let checkpoint = await checkpoints.next();
  for await (const entry of store.entriesAfter(db, from, pageSize)) {
    while (checkpoint.done !== true && checkpoint.value.seq < entry.seq) {
      yield { type: 'checkpoint', checkpoint: checkpoint.value };
      checkpoint = await checkpoints.next();
    }
    yield { type: 'entry', entry };
  }
  while (checkpoint.done !== true) {
    yield { type: 'checkpoint', checkpoint: checkpoint.value };
    checkpoint = await checkpoints.next();
  }
}

/**
 * Verifies an export (JSON Lines, as written by exportAuditTrail) without the
 * database: the chain inside the file, and each checkpoint against `jwks` — public
 * keys obtained independently of the file (e.g. saved from /.well-known/jwks.json).
 * Throws audit.export_invalid when the file is not a Rampart audit export.
 */
export async function verifyAuditExport(lines: Iterable<string> | AsyncIterable<string>, jwks: unknown, options: { onProgress?: (done: number) => void } = {}): Promise<AuditVerificationReport> {
  const keys = CheckpointKeys.fromJwks(jwks);
  const problems = new ProblemLog();
  const checker = new CheckpointChecker(keys, problems);
  const parsed = parseExportLines(lines);
  const first = await parsed.next();
  if (first.done === true || first.value.type !== 'header') throw new RampartError('audit.export_invalid', 'the file is empty or does not start with a rampart.audit.export header');
  const header = first.value.header;
  const items = (async function* (): AsyncGenerator<TrailItem> {
    for (;;) {
      const next = await parsed.next();
      if (next.done === true) return;
      if (next.value.type === 'header') throw new RampartError('audit.export_invalid', `line ${next.value.line}: a second export header`);
      yield next.value.item;
    }
  })();
  if (header.from_seq === null || header.to_seq === null || header.to_hash === null) {
    const stray = await items.next();
    if (stray.done !== true) throw new RampartError('audit.export_invalid', 'the header says the export holds no entries, but it does');
    return report(0, checker, problems, undefined);
  }
  // An export from mid-chain starts at an anchor entry whose own predecessor is not included.
  const start = header.from_seq <= 1 ? { seq: 0, hash: GENESIS_HASH, linked: true } : { seq: header.from_seq - 1, hash: '', linked: false };
  const end = { seq: header.to_seq, hash: header.to_hash };
  const walker = new ChainWalker(new EntryReader(items, checker), problems, {
    start,
    end,
    onEntry: (done) => {
      if (done % PROGRESS_EVERY === 0) options.onProgress?.(done);
    },
  });
  await walker.run();
  return report(walker.entries, checker, problems, end);
}

function report(entries: number, checker: CheckpointChecker, problems: ProblemLog, head: ChainPoint | undefined): AuditVerificationReport {
  const list = problems.list();
  return {
    entries,
    checkpoints: checker.count,
    ok: problems.count === 0,
    problems: list,
    problemCount: problems.count,
    firstProblem: list[0],
    head,
    lastCheckpoint: checker.lastMatched,
  };
}
