import { systemClock, type Clock } from '../kernel/clock.ts';
import type { Database } from '../storage/database.ts';
import * as store from './audit.store.ts';
import { CHAIN_VERSION } from './chain.ts';
import { checkpointLine, entryLine, EXPORT_TYPE, EXPORT_VERSION, jsonLine, type ExportHeader } from './export-format.ts';

export { EXPORT_TYPE, EXPORT_VERSION, type ExportHeader } from './export-format.ts';

export interface ExportAuditOptions {
  readonly database: Database;
  /** Entries stamped at or after this time, plus the one before them so the first link can be checked. Default: everything. */
  readonly since?: Date;
  /** Receives one line at a time (with its newline); awaited, so a slow destination holds the export back. */
  readonly write: (line: string) => void | Promise<void>;
  readonly clock?: Clock;
  readonly pageSize?: number;
  readonly onProgress?: (progress: { done: number; total: number }) => void;
}

export interface ExportSummary {
  readonly fromSeq: number | null;
  readonly toSeq: number | null;
  readonly entries: number;
  readonly checkpoints: number;
}

/**
 * Writes the trail as JSON Lines (see export-format.ts) from one read-only
 * snapshot: the header's head and the lines after it always agree.
 */
export async function exportAuditTrail(options: ExportAuditOptions): Promise<ExportSummary> {
  const clock = options.clock ?? systemClock;
  const pageSize = options.pageSize ?? 500;
  return store.inSnapshot(options.database, async (trx) => {
    const head = await store.readHead(trx);
    const jwks = { keys: await store.auditPublicJwks(trx) };
    const headSeq = head.seq;
    let fromSeq: number | null = headSeq >= 1 ? 1 : null;
    if (options.since !== undefined && fromSeq !== null) {
      const first = await store.firstSeqAtOrAfter(trx, options.since.toISOString());
      fromSeq = first === undefined || first > headSeq ? null : Math.max(1, first - 1);
    }
    const header: ExportHeader = {
      type: EXPORT_TYPE,
      version: EXPORT_VERSION,
      chain_version: CHAIN_VERSION,
      exported_at: clock.now().toISOString(),
      from_seq: fromSeq,
      to_seq: fromSeq === null ? null : headSeq,
      to_hash: fromSeq === null ? null : head.hash,
      jwks,
    };
    await options.write(jsonLine(header));
    if (fromSeq === null) return { fromSeq: null, toSeq: null, entries: 0, checkpoints: 0 };

    const total = headSeq - fromSeq + 1;
    let entries = 0;
    let checkpoints = 0;
    // A whole-trail export starts below any seq, so entries stored with a fabricated seq travel with it.
    const after = options.since === undefined ? Number.MIN_SAFE_INTEGER : fromSeq - 1;
    const pending = store.checkpointsAfter(trx, after, pageSize);
    let checkpoint = await pending.next();
    options.onProgress?.({ done: 0, total });
    for await (const entry of store.entriesAfter(trx, after, pageSize)) {
      while (checkpoint.done !== true && checkpoint.value.seq < entry.seq) {
        await options.write(checkpointLine(checkpoint.value));
        checkpoints++;
        checkpoint = await pending.next();
      }
      await options.write(entryLine(entry));
      entries++;
      if (entries % 500 === 0) options.onProgress?.({ done: entries, total: Math.max(total, entries) });
    }
    while (checkpoint.done !== true) {
      await options.write(checkpointLine(checkpoint.value));
      checkpoints++;
      checkpoint = await pending.next();
    }
    options.onProgress?.({ done: entries, total: Math.max(total, entries) });
    return { fromSeq, toSeq: headSeq, entries, checkpoints };
  });
}
