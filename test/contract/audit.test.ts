import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { appendAudit } from '../../src/audit/append.ts';
import { checkpointPayload, entryHash, GENESIS_HASH } from '../../src/audit/chain.ts';
import { AuditCheckpointer } from '../../src/audit/checkpoint.ts';
import { exportAuditTrail } from '../../src/audit/export.ts';
import { queryAudit } from '../../src/audit/query.ts';
import { appendEvents, auditEvent, deleteEntry, entryAt, insertForged, swapEntries, tamperField } from '../support/audit.ts';
import { verifyAuditExport, verifyAuditTrail, type AuditVerificationReport } from '../../src/audit/verify.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import type { Database } from '../../src/storage/database.ts';
import { DATABASE_TARGETS, serviceSkipReason, type DatabaseTarget } from '../support/databases.ts';
import { hasCode } from '../support/errors.ts';
import { masterKey } from '../support/keys.ts';

// The audit trail's contract, on every storage adapter: appends form one dense
// chain even when concurrent; checkpoints are written when due; every kind of
// tampering done with plain SQL is found and named by its first entry; exports
// verify offline; queries filter and paginate.

interface Trail {
  readonly database: Database;
  readonly keyring: Keyring;
  readonly clock: ManualClock;
  checkpointer(options?: { intervalSeconds?: number; everyEntries?: number }): AuditCheckpointer;
}

async function openTrail(target: DatabaseTarget, t: TestContext): Promise<Trail> {
  const opened = await target.open();
  t.after(() => opened.cleanup());
  // The head's seeded checkpoint time is the migration's real time: start the manual clock there.
  const clock = new ManualClock(new Date());
  const keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: [] });
  const logger = createMemoryLogger('warn').logger;
  return {
    database: opened.database,
    keyring,
    clock,
    checkpointer: (options = {}) =>
      new AuditCheckpointer({ database: opened.database, keyring, clock, intervalSeconds: options.intervalSeconds ?? 300, everyEntries: options.everyEntries ?? 1000, logger }),
  };
}

function firstProblem(report: AuditVerificationReport): { seq: number; kind: string } | undefined {
  return report.firstProblem === undefined ? undefined : { seq: report.firstProblem.seq, kind: report.firstProblem.kind };
}

async function exportLines(database: Database, since?: Date): Promise<string[]> {
  let text = '';
  await exportAuditTrail({ database, write: (line) => void (text += line), ...(since === undefined ? {} : { since }) });
  return text.split('\n').filter((l) => l !== '');
}

for (const target of DATABASE_TARGETS) {
  describe(`audit trail contract: ${target.name}`, { skip: serviceSkipReason(target.skip) }, () => {
    describe('chain', () => {
      test('appends in order: each entry chains to the one before, starting from the genesis hash', async (t) => {
        const { database, clock } = await openTrail(target, t);
        const appended = await appendEvents(database, clock, 5);
        assert.deepEqual(appended.map((a) => a.seq), [1, 2, 3, 4, 5]);
        const rows = await database.db.selectFrom('audit_entries').selectAll().orderBy('seq').execute();
        assert.equal(rows[0]?.prev_hash, GENESIS_HASH);
        for (const [i, row] of rows.entries()) {
          assert.equal(row.hash, entryHash(row), `entry ${row.seq} hashes as stored`);
          if (i > 0) assert.equal(row.prev_hash, rows[i - 1]?.hash, `entry ${row.seq} chains to ${row.seq - 1}`);
        }
        const head = await database.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
        assert.equal(head.seq, 5);
        assert.equal(head.hash, rows[4]?.hash);
        assert.ok(rows.every((r, i) => i === 0 || r.at >= (rows[i - 1]?.at ?? '')), 'times follow seq order');
      });

      test('concurrent appends in separate transactions form one dense, valid chain', async (t) => {
        const { database, clock } = await openTrail(target, t);
        await Promise.all(
          Array.from({ length: 24 }, (_, n) =>
            database.db.transaction().execute((trx) => appendAudit(trx, auditEvent(n), clock)),
          ),
        );
        const seqs = (await database.db.selectFrom('audit_entries').select('seq').orderBy('seq').execute()).map((r) => r.seq);
        assert.deepEqual(seqs, Array.from({ length: 24 }, (_, i) => i + 1));
        const report = await verifyAuditTrail({ database });
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        assert.equal(report.entries, 24);
      });

      test('an append rolled back with its transaction leaves no entry and no gap', async (t) => {
        const { database, clock } = await openTrail(target, t);
        await appendEvents(database, clock, 2);
        await assert.rejects(
          database.db.transaction().execute(async (trx) => {
            await appendAudit(trx, auditEvent(3), clock);
            throw new Error('the change failed');
          }),
          /the change failed/,
        );
        await appendEvents(database, clock, 1, 4);
        const report = await verifyAuditTrail({ database });
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        assert.equal(report.entries, 3);
      });
    });

    describe('checkpoints', () => {
      test('are written once enough entries accumulate, or enough time has passed, and only when the head moved', async (t) => {
        const trail = await openTrail(target, t);
        const { database, clock } = trail;
        const checkpointer = trail.checkpointer({ intervalSeconds: 60, everyEntries: 5 });
        assert.equal(await checkpointer.maybeCheckpoint(), false, 'empty trail');
        await appendEvents(database, { now: () => clock.now() }, 4);
        assert.equal(await checkpointer.maybeCheckpoint(), false, '4 entries, 0 s');
        await appendEvents(database, { now: () => clock.now() }, 1, 5);
        assert.equal(await checkpointer.maybeCheckpoint(), true, '5 entries');
        assert.equal(await checkpointer.maybeCheckpoint(), false, 'head unchanged');
        await appendEvents(database, { now: () => clock.now() }, 1, 6);
        clock.advance(59_000);
        assert.equal(await checkpointer.maybeCheckpoint(), false, '1 entry, 59 s');
        clock.advance(1_000);
        assert.equal(await checkpointer.maybeCheckpoint(), true, '1 entry, 60 s');
        clock.advance(600_000);
        assert.equal(await checkpointer.maybeCheckpoint(), false, 'time passed but the head did not move');

        const rows = await database.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute();
        assert.deepEqual(rows.map((r) => r.seq), [5, 6]);
        const head = await database.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
        assert.equal(head.checkpoint_seq, 6);
        assert.equal(head.checkpoint_at, rows[1]?.at);
        const signingKey = await trail.keyring.signingKey('audit');
        for (const row of rows) {
          assert.equal(row.kid, signingKey.kid);
          assert.equal(row.head_hash, (await entryAt(database.db, row.seq)).hash);
          assert.equal(await trail.keyring.verify(row.kid, checkpointPayload(row.seq, row.head_hash, row.at), Buffer.from(row.signature, 'base64url')), true);
        }
        const report = await verifyAuditTrail({ database });
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        assert.equal(report.checkpoints, 2);
        assert.deepEqual(report.lastCheckpoint, { seq: 6, at: rows[1]?.at });
      });

      test('checkpointing the same head twice, even at once, keeps one checkpoint', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 3);
        const results = await Promise.all([trail.checkpointer().checkpointNow(), trail.checkpointer().checkpointNow()]);
        assert.deepEqual(results.map((r) => r?.seq), [3, 3]);
        assert.equal(results.filter((r) => r?.created === true).length, 1);
        const again = await trail.checkpointer().checkpointNow();
        assert.equal(again?.created, false);
        assert.equal((await trail.database.db.selectFrom('audit_checkpoints').selectAll().execute()).length, 1);
      });
    });

    describe('verification names the first tampered entry', () => {
      async function tampered(t: TestContext, tamper: (database: Database) => Promise<void>, count = 10): Promise<AuditVerificationReport> {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, count);
        const before = await verifyAuditTrail({ database: trail.database });
        assert.equal(before.ok, true, JSON.stringify(before.problems));
        await tamper(trail.database);
        return verifyAuditTrail({ database: trail.database, pageSize: 3 });
      }

      test('reports an untouched trail as intact', async (t) => {
        const report = await tampered(t, () => Promise.resolve());
        assert.equal(report.ok, true);
        assert.deepEqual(report.problems, []);
        assert.equal(report.entries, 10);
        assert.deepEqual(report.head?.seq, 10);
      });

      test('a changed field: modified', async (t) => {
        const report = await tampered(t, (d) => tamperField(d.db, 5));
        assert.deepEqual(firstProblem(report), { seq: 5, kind: 'modified' });
        assert.equal(report.problemCount, 1);
      });

      test('a changed field with its own hash recomputed: modified, at that entry', async (t) => {
        const report = await tampered(t, (d) => tamperField(d.db, 5, true));
        assert.deepEqual(firstProblem(report), { seq: 5, kind: 'modified' });
        assert.equal(report.problemCount, 1);
      });

      test('the last entry changed with its hash recomputed: modified', async (t) => {
        const report = await tampered(t, (d) => tamperField(d.db, 10, true));
        assert.deepEqual(firstProblem(report), { seq: 10, kind: 'modified' });
      });

      test('a deleted entry: deleted', async (t) => {
        const report = await tampered(t, (d) => deleteEntry(d.db, 5));
        assert.deepEqual(firstProblem(report), { seq: 5, kind: 'deleted' });
        assert.equal(report.problemCount, 1);
      });

      test('a deleted entry with the later ones renumbered to close the gap: deleted', async (t) => {
        const report = await tampered(t, (d) => deleteEntry(d.db, 5, true));
        assert.deepEqual(firstProblem(report), { seq: 5, kind: 'deleted' });
      });

      test('the first entry deleted: deleted', async (t) => {
        const report = await tampered(t, (d) => deleteEntry(d.db, 1));
        assert.deepEqual(firstProblem(report), { seq: 1, kind: 'deleted' });
      });

      test('two neighbouring entries swapped: reordered', async (t) => {
        const report = await tampered(t, (d) => swapEntries(d.db, 5, 6));
        assert.deepEqual(firstProblem(report), { seq: 5, kind: 'reordered' });
        assert.ok(report.problems.every((p) => p.kind === 'reordered'), JSON.stringify(report.problems));
      });

      test('two distant entries swapped: reordered, at the earlier one', async (t) => {
        const report = await tampered(t, (d) => swapEntries(d.db, 3, 8));
        assert.deepEqual(firstProblem(report), { seq: 3, kind: 'reordered' });
        assert.deepEqual(report.problems.map((p) => p.seq), [3, 8]);
      });

      test('a forged entry inserted with the later ones renumbered: inserted', async (t) => {
        const report = await tampered(t, (d) => insertForged(d.db, 5, { renumber: true, wellFormed: true }));
        assert.deepEqual(firstProblem(report), { seq: 5, kind: 'inserted' });
        assert.equal(report.problemCount, 1, JSON.stringify(report.problems));
      });

      test('a crudely forged entry inserted with the later ones renumbered: inserted', async (t) => {
        const report = await tampered(t, (d) => insertForged(d.db, 5, { renumber: true, wellFormed: false }));
        assert.deepEqual(firstProblem(report), { seq: 5, kind: 'inserted' });
        assert.equal(report.problemCount, 1, JSON.stringify(report.problems));
      });

      test('a forged entry with a fabricated seq beyond the head: inserted', async (t) => {
        const report = await tampered(t, (d) => insertForged(d.db, 11, { renumber: false, wellFormed: true }));
        assert.deepEqual(firstProblem(report), { seq: 11, kind: 'inserted' });
      });

      test('a forged entry with a fabricated seq of zero: inserted', async (t) => {
        const report = await tampered(t, (d) => insertForged(d.db, 0, { renumber: false, wellFormed: true }));
        assert.deepEqual(firstProblem(report), { seq: 0, kind: 'inserted' });
        assert.equal(report.problemCount, 1);
      });

      test('the last entries deleted: truncated', async (t) => {
        const report = await tampered(t, (d) => d.db.deleteFrom('audit_entries').where('seq', '>', 7).execute().then(() => undefined));
        assert.deepEqual(firstProblem(report), { seq: 8, kind: 'truncated' });
      });

      test('the last entries deleted and the head wound back: truncated, caught by a checkpoint', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 10);
        await trail.checkpointer().checkpointNow();
        const db = trail.database.db;
        await db.deleteFrom('audit_entries').where('seq', '>', 7).execute();
        await db.updateTable('audit_head').set({ seq: 7, hash: (await entryAt(db, 7)).hash }).execute();
        const report = await verifyAuditTrail({ database: trail.database });
        assert.deepEqual(firstProblem(report), { seq: 8, kind: 'truncated' });
      });

      test('a rewritten history with every later hash recomputed: caught by the checkpoint', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 10);
        await trail.checkpointer().checkpointNow();
        const db = trail.database.db;
        let prevHash = (await entryAt(db, 3)).hash;
        for (let seq = 4; seq <= 10; seq++) {
          const row = await entryAt(db, seq);
          const changed = { ...row, prev_hash: prevHash, action: seq === 4 ? 'auth.logout' : row.action };
          prevHash = entryHash(changed);
          await db.updateTable('audit_entries').set({ action: changed.action, prev_hash: changed.prev_hash, hash: prevHash }).where('seq', '=', seq).execute();
        }
        await db.updateTable('audit_head').set({ hash: prevHash }).execute();
        const report = await verifyAuditTrail({ database: trail.database });
        assert.deepEqual(firstProblem(report), { seq: 10, kind: 'checkpoint_mismatch' });
        assert.equal(report.problemCount, 1, JSON.stringify(report.problems));
      });

      test('a checkpoint with a forged signature: checkpoint_invalid', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 4);
        const written = await trail.checkpointer().checkpointNow();
        assert.ok(written !== undefined);
        const row = await trail.database.db.selectFrom('audit_checkpoints').selectAll().executeTakeFirstOrThrow();
        // Signed by a key the attacker made, under the real key's id.
        const attacker = generateKeyPairSync('ed25519');
        const forged = sign(null, checkpointPayload(row.seq, row.head_hash, row.at), attacker.privateKey).toString('base64url');
        await trail.database.db.updateTable('audit_checkpoints').set({ signature: forged }).where('seq', '=', row.seq).execute();
        const report = await verifyAuditTrail({ database: trail.database });
        assert.deepEqual(firstProblem(report), { seq: 4, kind: 'checkpoint_invalid' });
        assert.equal(report.lastCheckpoint, undefined);
      });

      test('a forged checkpoint row for an altered head: checkpoint_invalid', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 4);
        const row = { seq: 2, head_hash: 'a'.repeat(64), at: trail.clock.now().toISOString(), kid: (await trail.keyring.signingKey('audit')).kid, signature: Buffer.alloc(64, 7).toString('base64url') };
        await trail.database.db.insertInto('audit_checkpoints').values(row).execute();
        const report = await verifyAuditTrail({ database: trail.database });
        assert.deepEqual(firstProblem(report), { seq: 2, kind: 'checkpoint_invalid' });
      });

      test('a checkpoint signed by a key of another purpose: checkpoint_invalid', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 4);
        const head = await entryAt(trail.database.db, 4);
        const at = trail.clock.now().toISOString();
        const { kid, signature } = await trail.keyring.sign('receipt', checkpointPayload(4, head.hash, at));
        await trail.database.db.insertInto('audit_checkpoints').values({ seq: 4, head_hash: head.hash, at, kid, signature: signature.toString('base64url') }).execute();
        const report = await verifyAuditTrail({ database: trail.database });
        assert.deepEqual(firstProblem(report), { seq: 4, kind: 'checkpoint_invalid' });
      });

      test('reports progress while walking', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 3);
        const seen: Array<{ done: number; total: number }> = [];
        await verifyAuditTrail({ database: trail.database, onProgress: (p) => seen.push(p) });
        assert.deepEqual(seen.at(0), { done: 0, total: 3 });
        assert.deepEqual(seen.at(-1), { done: 3, total: 3 });
      });
    });

    describe('export', () => {
      test('verifies offline against the published keys; a changed line is found and named', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 6);
        await trail.checkpointer().checkpointNow();
        await appendEvents(trail.database, trail.clock, 2, 7);
        const jwks = await trail.keyring.publicJwks();
        const lines = await exportLines(trail.database);
        const header = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
        assert.equal(header['type'], 'rampart.audit.export');
        assert.equal(header['from_seq'], 1);
        assert.equal(header['to_seq'], 8);
        assert.deepEqual(lines.slice(1).map((l) => (JSON.parse(l) as { type: string; seq: number }).seq), [1, 2, 3, 4, 5, 6, 6, 7, 8]);
        assert.equal((JSON.parse(lines[7] ?? '{}') as { type: string }).type, 'checkpoint');

        const intact = await verifyAuditExport(lines, jwks);
        assert.equal(intact.ok, true, JSON.stringify(intact.problems));
        assert.equal(intact.entries, 8);
        assert.deepEqual(intact.lastCheckpoint?.seq, 6);

        const changed = lines.map((l, i) => (i === 3 ? l.replace('"action":"auth.login"', '"action":"auth.logout"') : l));
        assert.notDeepEqual(changed, lines);
        assert.deepEqual(firstProblem(await verifyAuditExport(changed, jwks)), { seq: 3, kind: 'modified' });

        const dropped = lines.filter((_, i) => i !== 5);
        assert.deepEqual(firstProblem(await verifyAuditExport(dropped, jwks)), { seq: 5, kind: 'deleted' });

        const cut = lines.slice(0, -2);
        assert.deepEqual(firstProblem(await verifyAuditExport(cut, jwks)), { seq: 7, kind: 'truncated' });
      });

      test('refuses checkpoints re-signed with keys from the file itself when verified against the real keys', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 3);
        await trail.checkpointer().checkpointNow();
        const lines = await exportLines(trail.database);
        const attacker = generateKeyPairSync('ed25519');
        const kid = 'sk_attacker';
        const rewritten = lines.map((line) => {
          const record = JSON.parse(line) as Record<string, unknown>;
          if (record['type'] === 'rampart.audit.export') return JSON.stringify({ ...record, jwks: { keys: [{ ...attacker.publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }] } });
          if (record['type'] !== 'checkpoint') return line;
          const payload = checkpointPayload(record['seq'] as number, record['head_hash'] as string, record['at'] as string);
          return JSON.stringify({ ...record, kid, signature: sign(null, payload, attacker.privateKey).toString('base64url') });
        });
        const report = await verifyAuditExport(rewritten, await trail.keyring.publicJwks());
        assert.deepEqual(firstProblem(report), { seq: 3, kind: 'checkpoint_invalid' });
      });

      test('--since starts with the entry before the first one requested, so its link is checked', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 8);
        const since = new Date((await entryAt(trail.database.db, 6)).at);
        const lines = await exportLines(trail.database, since);
        const header = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
        assert.equal(header['from_seq'], 5);
        assert.deepEqual(lines.slice(1).map((l) => (JSON.parse(l) as { seq: number }).seq), [5, 6, 7, 8]);
        const report = await verifyAuditExport(lines, await trail.keyring.publicJwks());
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        assert.equal(report.entries, 4);

        const later = await exportLines(trail.database, new Date(trail.clock.now().getTime() + 60_000));
        assert.equal(later.length, 1, 'nothing after --since: the header only');
        assert.equal((await verifyAuditExport(later, { keys: [] })).ok, true);
      });

      test('escapes control characters in stored fields: one entry, one line', async (t) => {
        const trail = await openTrail(target, t);
        await trail.database.db.transaction().execute((trx) =>
          appendAudit(trx, auditEvent(1, { context: { userAgent: 'evil\n{"type":"entry","seq":99}\r\u001b[2J\u2028' } }), trail.clock),
        );
        const lines = await exportLines(trail.database);
        assert.equal(lines.length, 2);
        // eslint-disable-next-line no-control-regex -- looking for raw control characters
        assert.ok(!/[\u0000-\u001f\u2028]/.test(lines[1] ?? ''), 'no raw control characters');
        assert.equal((await verifyAuditExport(lines, await trail.keyring.publicJwks())).ok, true);
      });
    });

    describe('query', () => {
      test('filters by actor, action, target and time, newest first', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 12);
        const db = trail.database.db;
        const byActor = await queryAudit(db, { actor: 'acct_1' });
        assert.deepEqual(byActor.items.map((i) => i.seq), [10, 7, 4, 1]);
        assert.ok(byActor.items.every((i) => i.actor.id === 'acct_1'));
        assert.deepEqual((await queryAudit(db, { action: 'auth.login', limit: 200 })).items.map((i) => i.seq), [11, 9, 7, 5, 3, 1]);
        assert.deepEqual((await queryAudit(db, { target: 'acct_target_4' })).items.map((i) => i.seq), [4]);
        const from = new Date((await entryAt(db, 3)).at);
        const to = new Date((await entryAt(db, 5)).at);
        assert.deepEqual((await queryAudit(db, { from, to })).items.map((i) => i.seq), [5, 4, 3]);
        assert.deepEqual((await queryAudit(db, { action: 'auth.login', from, to })).items.map((i) => i.seq), [5, 3]);
        const item = (await queryAudit(db, { limit: 1 })).items[0];
        assert.ok(item !== undefined);
        assert.deepEqual(item.details, { n: 12, role: 'dispatcher' });
        assert.deepEqual(item.context, { sourceIp: '10.0.0.7', userAgent: 'test-agent/1.0', requestId: 'req_12' });
      });

      test('paginates with an opaque cursor without skipping or repeating, even as entries arrive', async (t) => {
        const trail = await openTrail(target, t);
        await appendEvents(trail.database, trail.clock, 10);
        const db = trail.database.db;
        const seen: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: Awaited<ReturnType<typeof queryAudit>> = await queryAudit(db, { limit: 3, ...(cursor === null ? {} : { cursor }) });
          seen.push(...page.items.map((i) => i.seq));
          cursor = page.nextCursor;
          if (pages++ === 0) await appendEvents(trail.database, trail.clock, 2, 11);
          if (cursor !== null) assert.match(cursor, /^[A-Za-z0-9_-]+$/);
        } while (cursor !== null);
        assert.equal(pages, 4);
        assert.deepEqual(seen, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      });

      test('refuses a bad cursor, a bad limit and from after to, with a clear request.invalid', async (t) => {
        const trail = await openTrail(target, t);
        const db = trail.database.db;
        await assert.rejects(queryAudit(db, { cursor: 'not-a-cursor' }), hasCode('request.invalid', /cursor/));
        await assert.rejects(queryAudit(db, { cursor: Buffer.from('{"v":1,"before":-4}').toString('base64url') }), hasCode('request.invalid', /cursor/));
        await assert.rejects(queryAudit(db, { limit: 201 }), hasCode('request.invalid', /limit/));
        await assert.rejects(queryAudit(db, { from: new Date('2026-02-01T00:00:00Z'), to: new Date('2026-01-01T00:00:00Z') }), hasCode('request.invalid', /from after to/));
      });
    });
  });
}
