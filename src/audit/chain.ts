import { createHash } from 'node:crypto';
import { canonicalJson } from '../kernel/canonical-json.ts';
import type { AuditEntryTable } from '../storage/tables.ts';

// The hash chain. Rampart's own code (not a library): each entry's hash covers
// a canonical encoding of every stored field plus the previous entry's hash, so
// changing, removing, inserting or reordering any entry breaks every later link
// (the construction of a CloudTrail digest chain / an RFC 6962 log's leaves,
// without the Merkle tree: the trail is verified by walking it in full).

export const GENESIS_HASH = '0'.repeat(64);
export const CHAIN_VERSION = 1;

/** The fields an entry's hash covers: everything stored except the hash itself. */
export type ChainedFields = Omit<AuditEntryTable, 'hash'>;

export function entryHash(entry: ChainedFields): string {
  const encoded = canonicalJson({
    v: CHAIN_VERSION,
    seq: entry.seq,
    id: entry.id,
    at: entry.at,
    actor_type: entry.actor_type,
    actor_id: entry.actor_id,
    auth_method: entry.auth_method,
    action: entry.action,
    target_type: entry.target_type,
    target_id: entry.target_id,
    outcome: entry.outcome,
    source_ip: entry.source_ip,
    user_agent: entry.user_agent,
    request_id: entry.request_id,
    details: entry.details,
    prev_hash: entry.prev_hash,
  });
  return createHash('sha256').update(encoded).digest('hex');
}

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(seq: number, headHash: string, at: string): Buffer {
  return Buffer.from(canonicalJson({ v: CHAIN_VERSION, type: 'rampart.audit.checkpoint', seq, head_hash: headHash, at }));
}
