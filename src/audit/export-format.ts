import { RampartError } from '../kernel/errors.ts';
import type { AuditEntryTable } from '../storage/tables.ts';
import { CHAIN_VERSION } from './chain.ts';
import type { SignedCheckpoint } from './signatures.ts';
import type { TrailItem } from './trail-reader.ts';

// The export format: JSON Lines. A header line, then entries and checkpoints in
// seq order (a checkpoint right after the entry it signs). Every stored field is
// kept as stored, so the hashes can be recomputed; JSON escaping keeps any
// control character in a field from starting a new line or faking one.

export const EXPORT_TYPE = 'rampart.audit.export';
export const EXPORT_VERSION = 1;

export interface ExportHeader {
  readonly type: typeof EXPORT_TYPE;
  readonly version: typeof EXPORT_VERSION;
  /** The hash construction of the entries (chain.ts CHAIN_VERSION). */
  readonly chain_version: number;
  readonly exported_at: string;
  /** First entry in the file (the anchor before `--since`, when it starts mid-chain); null when empty. */
  readonly from_seq: number | null;
  /** Last entry in the file and its hash: the head when the export was taken. */
  readonly to_seq: number | null;
  readonly to_hash: string | null;
  /** Public keys of the audit signing keys, for reference; verifiers should use keys obtained independently. */
  readonly jwks: { readonly keys: readonly unknown[] };
}

export type ExportLine =
  | { readonly type: 'header'; readonly header: ExportHeader; readonly line: number }
  | { readonly type: 'item'; readonly item: TrailItem; readonly line: number };

const ENTRY_STRINGS = ['id', 'at', 'actor_type', 'action', 'outcome', 'details', 'prev_hash', 'hash'] as const;
const ENTRY_NULLABLE = ['actor_id', 'auth_method', 'target_type', 'target_id', 'source_ip', 'user_agent', 'request_id'] as const;
const ENTRY_KEYS = new Set<string>(['type', 'seq', ...ENTRY_STRINGS, ...ENTRY_NULLABLE]);
const CHECKPOINT_STRINGS = ['head_hash', 'at', 'kid', 'signature'] as const;
const CHECKPOINT_KEYS = new Set<string>(['type', 'seq', ...CHECKPOINT_STRINGS]);
const HEADER_KEYS = new Set<string>(['type', 'version', 'chain_version', 'exported_at', 'from_seq', 'to_seq', 'to_hash', 'jwks']);

/** JSON text on one line; U+2028/U+2029 escaped too, for tools that treat them as line ends. */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value).replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029')}\n`;
}

export function entryLine(entry: AuditEntryTable): string {
  const { seq, id, at, actor_type, actor_id, auth_method, action, target_type, target_id, outcome, source_ip, user_agent, request_id, details, prev_hash, hash } = entry;
  return jsonLine({ type: 'entry', seq, id, at, actor_type, actor_id, auth_method, action, target_type, target_id, outcome, source_ip, user_agent, request_id, details, prev_hash, hash });
}

export function checkpointLine(checkpoint: SignedCheckpoint): string {
  const { seq, head_hash, at, kid, signature } = checkpoint;
  return jsonLine({ type: 'checkpoint', seq, head_hash, at, kid, signature });
}

function invalid(line: number, why: string): RampartError {
  return new RampartError('audit.export_invalid', `line ${line}: ${why}`);
}

function onlyKeys(record: Record<string, unknown>, allowed: ReadonlySet<string>, line: number): void {
  // Fields the hash does not cover must not ride along: they could say anything.
  for (const key of Object.keys(record)) if (!allowed.has(key)) throw invalid(line, `unexpected field "${key.slice(0, 40)}"`);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function parseHeader(record: Record<string, unknown>, line: number): ExportHeader {
  if (record['type'] !== EXPORT_TYPE) throw invalid(line, `not a ${EXPORT_TYPE} header`);
  if (record['version'] !== EXPORT_VERSION) throw invalid(line, `export version ${String(record['version'])} is not supported (expected ${EXPORT_VERSION})`);
  if (record['chain_version'] !== CHAIN_VERSION) throw invalid(line, `chain version ${String(record['chain_version'])} is not supported (expected ${CHAIN_VERSION})`);
  onlyKeys(record, HEADER_KEYS, line);
  const { exported_at, from_seq, to_seq, to_hash, jwks } = record;
  const empty = from_seq === null && to_seq === null && to_hash === null;
  if (typeof exported_at !== 'string' || !(empty || (isSeq(from_seq) && isSeq(to_seq) && typeof to_hash === 'string' && from_seq <= to_seq))) {
    throw invalid(line, 'the header\'s exported_at, from_seq, to_seq or to_hash is missing or malformed');
  }
  const keys = typeof jwks === 'object' && jwks !== null ? (jwks as { keys?: unknown }).keys : undefined;
  return {
    type: EXPORT_TYPE,
    version: EXPORT_VERSION,
    chain_version: CHAIN_VERSION,
    exported_at,
    from_seq,
    to_seq,
    to_hash,
    jwks: { keys: Array.isArray(keys) ? (keys as unknown[]) : [] },
  };
}

function parseEntry(record: Record<string, unknown>, line: number): AuditEntryTable {
  onlyKeys(record, ENTRY_KEYS, line);
  if (typeof record['seq'] !== 'number') throw invalid(line, 'an entry\'s seq must be a number');
  for (const key of ENTRY_STRINGS) if (typeof record[key] !== 'string') throw invalid(line, `an entry's ${key} must be a string`);
  for (const key of ENTRY_NULLABLE) if (record[key] !== null && typeof record[key] !== 'string') throw invalid(line, `an entry's ${key} must be a string or null`);
  const entry: Record<string, unknown> = { ...record };
  delete entry['type'];
  return entry as unknown as AuditEntryTable;
}

function parseCheckpoint(record: Record<string, unknown>, line: number): SignedCheckpoint {
  onlyKeys(record, CHECKPOINT_KEYS, line);
  if (typeof record['seq'] !== 'number') throw invalid(line, 'a checkpoint\'s seq must be a number');
  for (const key of CHECKPOINT_STRINGS) if (typeof record[key] !== 'string') throw invalid(line, `a checkpoint's ${key} must be a string`);
  const checkpoint: Record<string, unknown> = { ...record };
  delete checkpoint['type'];
  return checkpoint as unknown as SignedCheckpoint;
}

/** Parses export lines one at a time (blank lines are skipped). Throws audit.export_invalid on anything else. */
export async function* parseExportLines(lines: Iterable<string> | AsyncIterable<string>): AsyncGenerator<ExportLine> {
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      throw invalid(line, 'not valid JSON');
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw invalid(line, 'not a JSON object');
    const fields = record as Record<string, unknown>;
    switch (fields['type']) {
      case EXPORT_TYPE:
        yield { type: 'header', header: parseHeader(fields, line), line };
        break;
      case 'entry':
        yield { type: 'item', item: { type: 'entry', entry: parseEntry(fields, line) }, line };
        break;
      case 'checkpoint':
        yield { type: 'item', item: { type: 'checkpoint', checkpoint: parseCheckpoint(fields, line) }, line };
        break;
      default:
        throw invalid(line, 'not a header, entry or checkpoint');
    }
  }
}
