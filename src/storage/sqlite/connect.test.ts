import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { verifyAuditTrail } from '../../audit/verify.ts';
import { createMemoryLogger } from '../../kernel/logger.ts';
import { testConfig } from '../../../test/support/config.ts';
import { tempDir } from '../../../test/support/tmp.ts';
import { migrateUp, openDatabase } from '../database.ts';

const WRITER = new URL('../../../test/support/audit-writer-child.ts', import.meta.url).pathname;

function runWriter(dataDir: string, count: number, first: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WRITER, dataDir, String(count), String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('processes writing to one SQLite database at once wait for each other instead of failing with "database is locked", and every write lands', { timeout: 60_000 }, async () => {
  const dir = tempDir('rampart-sqlite-writers');
  try {
    const config = testConfig(dir.path);
    const database = await openDatabase(config, createMemoryLogger('warn').logger);
    await migrateUp(database);
    const before = await database.db.selectFrom('audit_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await database.close();

    // Each transaction reads and then writes: the pattern a deferred transaction cannot upgrade under contention.
    const writers = await Promise.all([runWriter(dir.path, 150, 1), runWriter(dir.path, 150, 1_001), runWriter(dir.path, 150, 2_001)]);
    for (const writer of writers) assert.equal(writer.code, 0, writer.stderr);

    const reopened = await openDatabase(config, createMemoryLogger('warn').logger);
    try {
      const after = await reopened.db.selectFrom('audit_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(after.n - before.n, 450, 'every committed append is stored');
      const report = await verifyAuditTrail({ database: reopened });
      assert.deepEqual(report.problems, [], 'one unbroken chain: no two writers linked to the same head');
    } finally {
      await reopened.close();
    }
  } finally {
    dir.cleanup();
  }
});
