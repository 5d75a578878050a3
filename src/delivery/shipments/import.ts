import type { Db } from '../../storage/database.ts';
import { type AuditedChange, recordChange } from '../../audit/append.ts';
import type { Clock } from '../../kernel/clock.ts';
import { importInvalid, parseShipmentCsv, type RowProblem } from './csv.ts';
import type { PreparedShipment, ShipmentService } from './shipments.service.ts';

// Bulk import: every row is checked (fields, depot, service area, unique
// reference — also within the file) before anything is written. With any
// problem nothing is written, unless `skipInvalid`: then the valid rows are.
// All rows are encrypted before the one transaction that inserts them, audits
// each creation and the import itself.

export const API_MAX_IMPORT_ROWS = 5_000;
export const CLI_MAX_IMPORT_ROWS = 100_000;

export interface ImportProgress {
  readonly phase: 'check' | 'encrypt' | 'write';
  readonly done: number;
  readonly total: number;
}

export interface ImportOptions {
  readonly change: AuditedChange;
  readonly skipInvalid: boolean;
  /** The depot of rows without a depot column or cell. */
  readonly defaultDepot?: string | undefined;
  readonly maxRows: number;
  /** False for depots the caller may not see: such rows read as an unknown depot. */
  readonly depotVisible: (depotId: string) => boolean;
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface ImportReport {
  readonly created: Array<{ row: number; id: string; trackingNumber: string; trackingToken: string }>;
  /** Rows left out (only with skipInvalid), with their problems. */
  readonly skipped: RowProblem[];
}

export async function importShipments(deps: { db: Db; clock: Clock; shipments: ShipmentService }, csv: string | Buffer, options: ImportOptions): Promise<ImportReport> {
  const rows = parseShipmentCsv(csv, { defaultDepot: options.defaultDepot, maxRows: options.maxRows });
  const problems: RowProblem[] = [];
  const valid: Array<{ row: number; input: NonNullable<(typeof rows)[number]['input']> }> = [];
  const references = new Map<string, number>();
  const progress = (phase: ImportProgress['phase'], done: number, total: number) => options.onProgress?.({ phase, done, total });

  for (const [index, parsed] of rows.entries()) {
    progress('check', index, rows.length);
    for (const p of parsed.problems) problems.push({ row: parsed.row, ...p });
    const input = parsed.input;
    if (input === undefined) continue;
    if (!options.depotVisible(input.depotId)) {
      problems.push({ row: parsed.row, column: 'depot', message: `no depot ${input.depotId}` });
      continue;
    }
    const placement = await deps.shipments.placementProblem(deps.db, input);
    if (placement !== undefined) {
      const column = placement.code === 'depot.not_found' ? 'depot' : placement.code === 'shipment.reference_taken' ? 'reference' : 'destination_lat';
      problems.push({ row: parsed.row, column, message: placement.publicDetail ?? `no depot ${input.depotId}` });
      continue;
    }
    if (input.reference !== null) {
      const first = references.get(input.reference);
      if (first !== undefined) {
        problems.push({ row: parsed.row, column: 'reference', message: `the same reference as row ${first}` });
        continue;
      }
      references.set(input.reference, parsed.row);
    }
    valid.push({ row: parsed.row, input });
  }
  progress('check', rows.length, rows.length);
  if (problems.length > 0 && !options.skipInvalid) throw importInvalid(problems);

  const prepared: Array<{ row: number; prepared: PreparedShipment }> = [];
  for (const [index, entry] of valid.entries()) {
    progress('encrypt', index, valid.length);
    prepared.push({ row: entry.row, prepared: await deps.shipments.prepare(entry.input) });
  }
  progress('encrypt', valid.length, valid.length);

  const created = await deps.db.transaction().execute(async (trx) => {
    const out: ImportReport['created'] = [];
    for (const [index, entry] of prepared.entries()) {
      progress('write', index, prepared.length);
      const shipment = await deps.shipments.insertPrepared(trx, entry.prepared, options.change, { import: true, row: entry.row });
      out.push({ row: entry.row, id: shipment.id, trackingNumber: shipment.trackingNumber, trackingToken: entry.prepared.token });
    }
    await recordChange(trx, deps.clock, options.change, 'shipment.import', { type: 'shipment_import', id: out[0]?.id ?? 'none' }, { created: out.length, skippedRows: [...new Set(problems.map((p) => p.row))], depot: options.defaultDepot ?? null });
    return out;
  });
  progress('write', prepared.length, prepared.length);
  return { created, skipped: problems };
}
