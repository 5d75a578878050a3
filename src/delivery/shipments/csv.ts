import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { RampartError } from '../../kernel/errors.ts';
import { PROOF_KINDS, type DeliveryMode, type ProofKind, type Recipient, type ShipmentSummary } from './shipments.store.ts';
import type { FieldProblem, NewShipment } from './shipments.input.ts';
import { shipmentProblems } from './shipments.input.ts';

// The CSV formats (docs/OPERATIONS.md, "Shipments"). Import: a header row
// naming columns in any order; unknown or repeated columns refuse the file;
// `row` in problems is the spreadsheet row (the header is row 1). Export:
// cells a spreadsheet would run as a formula (= + - @ tab CR first) get a
// leading apostrophe (csv-stringify's `escape_formulas`); numbers stay numbers.

/** The shipment's own fields, in the same order in both formats. */
const SHIPMENT_COLUMNS = [
  'recipient_name',
  'recipient_phone',
  'recipient_address',
  'destination_lat',
  'destination_lon',
  'weight_kg',
  'length_cm',
  'width_cm',
  'height_cm',
  'mode',
  'window_start',
  'window_end',
  'required_proof',
] as const;

export const IMPORT_COLUMNS = ['reference', 'depot', ...SHIPMENT_COLUMNS] as const;
type ImportColumn = (typeof IMPORT_COLUMNS)[number];

export const REQUIRED_COLUMNS: readonly ImportColumn[] = ['recipient_name', 'recipient_address', 'destination_lat', 'destination_lon', 'weight_kg', 'mode', 'window_start', 'window_end'];

export const EXPORT_COLUMNS = ['tracking_number', 'reference', 'depot', 'status', 'failure_reason', ...SHIPMENT_COLUMNS, 'assigned_driver_id', 'created_at', 'last_event_at'] as const;

/** Largest cell accepted, in characters. */
const MAX_CELL = 1_000;

export interface RowProblem {
  readonly row: number;
  readonly column: string;
  readonly message: string;
}

export interface ParsedRow {
  readonly row: number;
  readonly input: NewShipment | undefined;
  readonly problems: FieldProblem[];
}

/** The whole file is refused: malformed, no rows, too many rows or a bad header. */
function refuseFile(message: string, row = 1, column = ''): RampartError & { rows: RowProblem[] } {
  return importInvalid([{ row, column, message }]);
}

export function importInvalid(rows: RowProblem[]): RampartError & { rows: RowProblem[] } {
  const error = new RampartError('shipment.import_invalid', `${rows.length} problem(s) in the import`, { publicDetail: `${rows.length} problem(s); nothing was imported.` }) as RampartError & { rows: RowProblem[] };
  error.rows = rows;
  return error;
}

const NUMBER = /^-?\d{1,7}(\.\d{1,10})?$/;

function numberCell(value: string | undefined, column: string, problems: FieldProblem[], required: boolean): number | null {
  if (value === undefined || value === '') {
    if (required) problems.push({ column, message: 'required' });
    return null;
  }
  if (!NUMBER.test(value)) {
    problems.push({ column, message: 'a number such as 52.52 (a point, no thousands separator)' });
    return null;
  }
  return Number(value);
}

/**
 * Parses an import file into shipments, with every problem of every row.
 * Throws `shipment.import_invalid` for problems with the file as a whole.
 */
export function parseShipmentCsv(text: string | Buffer, options: { defaultDepot?: string | undefined; maxRows: number }): ParsedRow[] {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, max_record_size: 16 * MAX_CELL });
  } catch (error) {
    // The parser's own message can quote the file's content: only its code and line are shown.
    if (error instanceof CsvError) throw refuseFile(`malformed CSV (${error.code})`, typeof error['lines'] === 'number' ? error['lines'] : 1);
    throw error;
  }
  const [header, ...body] = records;
  if (header === undefined) throw refuseFile('the file is empty: expected a header row');
  const columns = header.map((name) => name.toLowerCase());
  const seen = new Set<string>();
  for (const [index, name] of columns.entries()) {
    const label = /^[a-z0-9_ ]{1,40}$/.test(name) ? name : `column ${index + 1}`;
    if (!(IMPORT_COLUMNS as readonly string[]).includes(name)) throw refuseFile(`unknown column "${label}"; the columns are ${IMPORT_COLUMNS.join(', ')}`, 1, label);
    if (seen.has(name)) throw refuseFile(`column "${label}" appears twice`, 1, label);
    seen.add(name);
  }
  for (const required of [...REQUIRED_COLUMNS, ...(options.defaultDepot === undefined ? (['depot'] as const) : [])]) {
    if (!seen.has(required)) throw refuseFile(`missing column "${required}"`, 1, required);
  }
  if (body.length === 0) throw refuseFile('no rows after the header');
  if (body.length > options.maxRows) throw refuseFile(`${body.length} rows: at most ${options.maxRows} per import`);

  return body.map((record, index) => {
    const row = index + 2;
    const problems: FieldProblem[] = [];
    const cell = (column: ImportColumn): string | undefined => {
      const at = columns.indexOf(column);
      return at < 0 ? undefined : record[at];
    };
    for (const [at, value] of record.entries()) {
      if (value.length > MAX_CELL) problems.push({ column: columns[at] ?? '', message: `at most ${MAX_CELL} characters` });
    }
    const lat = numberCell(cell('destination_lat'), 'destination_lat', problems, true);
    const lon = numberCell(cell('destination_lon'), 'destination_lon', problems, true);
    const weight = numberCell(cell('weight_kg'), 'weight_kg', problems, true);
    const length = numberCell(cell('length_cm'), 'length_cm', problems, false);
    const width = numberCell(cell('width_cm'), 'width_cm', problems, false);
    const height = numberCell(cell('height_cm'), 'height_cm', problems, false);
    const depotCell = cell('depot') ?? '';
    let depot = depotCell === '' ? options.defaultDepot : depotCell;
    if (depot === undefined) problems.push({ column: 'depot', message: 'required (or give a depot for the whole import)' });
    else if (options.defaultDepot !== undefined && depot !== options.defaultDepot) {
      problems.push({ column: 'depot', message: `differs from the import's depot ${options.defaultDepot}` });
      depot = undefined;
    }
    const proofCell = cell('required_proof') ?? '';
    const proof = proofCell === '' ? ['signature'] : proofCell.split('|').map((p) => p.trim().toLowerCase());
    const input: NewShipment = {
      depotId: depot ?? '',
      reference: (cell('reference') ?? '') === '' ? null : (cell('reference') ?? null),
      recipient: { name: cell('recipient_name') ?? '', phone: (cell('recipient_phone') ?? '') === '' ? null : (cell('recipient_phone') ?? null), address: cell('recipient_address') ?? '' },
      destination: { lat: lat ?? Number.NaN, lon: lon ?? Number.NaN },
      parcel: { weightKg: weight ?? Number.NaN, lengthCm: length, widthCm: width, heightCm: height },
      mode: (cell('mode') ?? '').toLowerCase() as DeliveryMode,
      window: { start: cell('window_start') ?? '', end: cell('window_end') ?? '' },
      requiredProof: proof as ProofKind[],
    };
    // A cell already reported (unreadable number, missing depot) is not reported twice.
    const reported = new Set(problems.map((p) => p.column));
    problems.push(...shipmentProblems(input).filter((p) => !reported.has(p.column)));
    return { row, input: problems.length === 0 ? input : undefined, problems };
  });
}

export function exportHeader(): string {
  return stringify([[...EXPORT_COLUMNS]]);
}

/** CSV lines for shipments and their recipients (same order). */
export function exportRows(rows: ReadonlyArray<{ shipment: ShipmentSummary; recipient: Recipient }>): string {
  return stringify(
    rows.map(({ shipment: s, recipient: r }) => [
      s.trackingNumber,
      s.reference ?? '',
      s.depotId,
      s.status,
      s.failureReason ?? '',
      r.name,
      r.phone ?? '',
      r.address,
      s.destination.lat,
      s.destination.lon,
      s.parcel.weightKg,
      s.parcel.lengthCm ?? '',
      s.parcel.widthCm ?? '',
      s.parcel.heightCm ?? '',
      s.mode,
      s.window.start,
      s.window.end,
      PROOF_KINDS.filter((p) => s.requiredProof.includes(p)).join('|'),
      s.assignedDriverId ?? '',
      s.createdAt,
      s.lastEventAt,
    ]),
    { escape_formulas: true },
  );
}
