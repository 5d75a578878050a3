import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as ed25519Sign, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { ManualClock } from '../kernel/clock.ts';
import { sqliteTarget, type OpenedDatabase } from '../../test/support/databases.ts';
import { hasCode } from '../../test/support/errors.ts';
import { checkpointPayload } from './chain.ts';
import { exportAuditTrail } from './export.ts';
import { CheckpointKeys } from './signatures.ts';
import { appendEvents, deleteEntry, shiftSeqs, swapEntries, tamperField } from '../../test/support/audit.ts';
import { verifyAuditExport, verifyAuditTrail, type AuditVerificationReport } from './verify.ts';

// The cases the contract suite does not repeat on both databases: tamperings
// only SQLite allows, the limits of the look-ahead, the strictness of the export
// parser and of the key set.

const first = (report: AuditVerificationReport) => (report.firstProblem === undefined ? undefined : [report.firstProblem.seq, report.firstProblem.kind]);

async function exportOf(opened: OpenedDatabase): Promise<string[]> {
  const lines: string[] = [];
  await exportAuditTrail({ database: opened.database, write: (line) => void lines.push(line.trimEnd()) });
  return lines;
}

async function withTrail(count: number, body: (opened: OpenedDatabase) => Promise<void>): Promise<void> {
  const opened = await sqliteTarget.open();
  try {
    await appendEvents(opened.database, new ManualClock(), count);
    await body(opened);
  } finally {
    await opened.cleanup();
  }
}

describe('verifying the stored trail', () => {
  test('finds entries SQLite let in with a non-integer or missing seq', async () => {
    await withTrail(4, async ({ database }) => {
      const copy = (seq: string, id: string) =>
        sql`insert into audit_entries select ${sql.raw(seq)}, ${id}, at, actor_type, actor_id, auth_method, action, target_type, target_id, outcome, source_ip, user_agent, request_id, details, prev_hash, hash from audit_entries where seq = 2`.execute(database.db);
      await copy('2.5', 'aud_fractional');
      assert.deepEqual(first(await verifyAuditTrail({ database })), [2.5, 'inserted']);
      await database.db.deleteFrom('audit_entries').where('id', '=', 'aud_fractional').execute();
      await copy('null', 'aud_unnumbered');
      const report = await verifyAuditTrail({ database });
      assert.equal(report.ok, false);
      assert.equal(report.problemCount, 1);
      assert.equal(report.firstProblem?.kind, 'inserted');
      assert.ok(Number.isNaN(report.firstProblem.seq));
    });
  });

  test('names a swap of distant entries beyond the look-ahead, in the database and in an export', async () => {
    await withTrail(400, async (opened) => {
      await swapEntries(opened.database.db, 3, 350);
      const stored = await verifyAuditTrail({ database: opened.database, pageSize: 50 });
      assert.deepEqual(stored.problems.map((p) => [p.seq, p.kind]), [[3, 'reordered'], [350, 'reordered']]);
      const exported = await verifyAuditExport(await exportOf(opened), { keys: [] });
      assert.deepEqual(exported.problems.map((p) => [p.seq, p.kind]), [[3, 'reordered'], [350, 'reordered']]);
    });
  });

  test('names a run of deleted entries once, by its first', async () => {
    await withTrail(12, async ({ database }) => {
      await database.db.deleteFrom('audit_entries').where('seq', 'in', [5, 6, 7]).execute();
      await shiftSeqs(database.db, 8, -3);
      const report = await verifyAuditTrail({ database });
      assert.deepEqual(report.problems.map((p) => [p.seq, p.kind]), [[5, 'deleted']]);
      assert.match(report.problems[0]?.message ?? '', /entries 5–7 are missing.*renumbered/);
    });
  });

  test('finds separate tamperings separately', async () => {
    await withTrail(12, async ({ database }) => {
      await tamperField(database.db, 3);
      await deleteEntry(database.db, 9);
      const report = await verifyAuditTrail({ database });
      assert.deepEqual(report.problems.map((p) => [p.seq, p.kind]), [[3, 'modified'], [9, 'deleted']]);
    });
  });

  test('finds a head record altered to claim more entries than there are', async () => {
    await withTrail(5, async ({ database }) => {
      await database.db.updateTable('audit_head').set({ seq: 7 }).execute();
      assert.deepEqual(first(await verifyAuditTrail({ database })), [7, 'modified']);
    });
  });

  test('keeps the earliest problems when there are too many to list', async () => {
    await withTrail(150, async ({ database }) => {
      await database.db.updateTable('audit_entries').set({ details: '{}' }).execute();
      const report = await verifyAuditTrail({ database });
      assert.equal(report.problemCount, 150);
      assert.equal(report.problems.length, 100);
      assert.deepEqual(first(report), [1, 'modified']);
      assert.equal(report.problems.at(-1)?.seq, 100);
    });
  });
});

describe('verifying an export', () => {
  let opened: OpenedDatabase;
  let lines: string[];
  before(async () => {
    opened = await sqliteTarget.open();
    await appendEvents(opened.database, new ManualClock(), 3);
    lines = await exportOf(opened);
  });
  after(() => opened.cleanup());

  test('accepts CRLF line ends and blank lines', async () => {
    const report = await verifyAuditExport([...lines.map((l) => `${l}\r`), ''], { keys: [] });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  });

  test('refuses a file that is not an export, naming the line', async () => {
    await assert.rejects(verifyAuditExport([], { keys: [] }), hasCode('audit.export_invalid', /empty/));
    await assert.rejects(verifyAuditExport(lines.slice(1), { keys: [] }), hasCode('audit.export_invalid', /header/));
    await assert.rejects(verifyAuditExport([lines[0] ?? '', '{"type":"entry"', ...lines.slice(1)], { keys: [] }), hasCode('audit.export_invalid', /line 2: not valid JSON/));
    await assert.rejects(verifyAuditExport([lines[0] ?? '', lines[0] ?? ''], { keys: [] }), hasCode('audit.export_invalid', /second export header/));
    const future = lines[0]?.replace('"version":1', '"version":2') ?? '';
    await assert.rejects(verifyAuditExport([future, ...lines.slice(1)], { keys: [] }), hasCode('audit.export_invalid', /version 2 is not supported/));
  });

  test('refuses fields the hash does not cover, which could say anything', async () => {
    const annotated = lines.map((l, i) => (i === 2 ? l.replace('{"type":"entry",', '{"type":"entry","approved_by":"ceo",') : l));
    await assert.rejects(verifyAuditExport(annotated, { keys: [] }), hasCode('audit.export_invalid', /line 3: unexpected field "approved_by"/));
  });
});

describe('checkpoint keys', () => {
  const audit = generateKeyPairSync('ed25519');
  const jwk = { ...audit.publicKey.export({ format: 'jwk' }), kid: 'sk_audit', alg: 'EdDSA', use: 'sig' };
  const checkpoint = (signature: string, kid = 'sk_audit') => ({ seq: 4, head_hash: 'a'.repeat(64), at: '2026-01-01T00:00:00.000Z', kid, signature });
  const sign = (key: KeyObject = audit.privateKey) => ed25519Sign(null, checkpointPayload(4, 'a'.repeat(64), '2026-01-01T00:00:00.000Z'), key).toString('base64url');

  test('verifies Ed25519 signatures and refuses altered, truncated and unknown-key ones', () => {
    const keys = CheckpointKeys.fromJwks({ keys: [jwk] });
    assert.equal(keys.verify(checkpoint(sign())), 'valid');
    assert.equal(keys.verify({ ...checkpoint(sign()), seq: 5 }), 'invalid');
    assert.equal(keys.verify(checkpoint(sign(generateKeyPairSync('ed25519').privateKey))), 'invalid');
    assert.equal(keys.verify(checkpoint(sign().slice(0, 40))), 'malformed');
    assert.equal(keys.verify(checkpoint(`${sign()}!`)), 'malformed');
    assert.equal(keys.verify(checkpoint(sign(), 'sk_other')), 'unknown_key');
  });

  test('ignores keys of any other type or algorithm, so a JWKS cannot switch the algorithm', () => {
    const ec = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'sk_audit' };
    const relabelled = { ...jwk, alg: 'ES256' };
    assert.equal(CheckpointKeys.fromJwks({ keys: [ec, relabelled, { kty: 'oct', k: 'c2VjcmV0', kid: 'sk_audit' }] }).size, 0);
    assert.equal(CheckpointKeys.fromJwks({ keys: [ec] }).verify(checkpoint(sign())), 'unknown_key');
  });

  test('refuses a JWKS that is not one, or that holds a private key', () => {
    assert.throws(() => CheckpointKeys.fromJwks([jwk]), hasCode('audit.jwks_invalid', /"keys" array/));
    const privateJwk = { ...audit.privateKey.export({ format: 'jwk' }), kid: 'sk_audit' };
    assert.throws(() => CheckpointKeys.fromJwks({ keys: [privateJwk] }), hasCode('audit.jwks_invalid', /private key/));
  });
});
