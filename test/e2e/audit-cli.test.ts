import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { auditPublicJwks } from '../../src/audit/audit.store.ts';
import { appendEvents, tamperField } from '../support/audit.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { runCli, withCliDatabase } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

// `rampart audit …` run as a process against a data directory whose trail was
// written through appendAudit, then tampered with directly in the database.

describe('rampart audit', () => {
  const dir = tempDir('rampart-audit-cli');
  const env = { RAMPART_MASTER_KEY: randomBytes(32).toString('base64') };
  const cli = (...args: string[]) => runCli(args, { cwd: dir.path, env });

  before(async () => {
    const migrated = await cli('migrate', 'up');
    assert.equal(migrated.code, 0, migrated.stderr);
    await withCliDatabase(dir.path, (database) => appendEvents(database, new ManualClock(new Date(Date.now() - 3_600_000)), 6));
  });
  after(() => dir.cleanup());

  test('lists its commands in --help', async () => {
    const help = await cli('audit', '--help');
    assert.equal(help.code, 0);
    for (const command of ['verify', 'export', 'checkpoint']) assert.match(help.stdout, new RegExp(`\\n\\s+${command}\\b`), command);
  });

  test('checkpoint, verify, export and offline verify succeed on an intact trail', async () => {
    const checkpoint = await cli('audit', 'checkpoint');
    assert.equal(checkpoint.code, 0, checkpoint.stderr);
    assert.match(checkpoint.stdout, /checkpoint written: entry 6, hash [0-9a-f]{64}, key sk_\S+/);
    assert.match((await cli('audit', 'checkpoint')).stdout, /already checkpointed: entry 6/);

    const verified = await cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /entries:\s+6/);
    assert.match(verified.stdout, /checkpoints:\s+1 \(newest matching: entry 6/);
    assert.match(verified.stdout, /intact/);

    const out = join(dir.path, 'trail.jsonl');
    const exported = await cli('audit', 'export', '--out', out);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /exported 6 entries \(1–6\) and 1 checkpoints/);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 8);
    assert.ok(!readdirSync(dir.path).some((f) => f.includes('.partial')), 'no partial file left behind');

    const onStdout = await cli('audit', 'export');
    assert.equal(onStdout.code, 0, onStdout.stderr);
    assert.equal(onStdout.stdout.trimEnd().split('\n').length, 8);

    const jwks = join(dir.path, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: await withCliDatabase(dir.path, (database) => auditPublicJwks(database.db)) }));
    const offline = await cli('audit', 'verify', '--export', out, '--jwks', jwks);
    assert.equal(offline.code, 0, offline.stdout + offline.stderr);
    assert.match(offline.stdout, /intact/);

    const tamperedExport = join(dir.path, 'tampered.jsonl');
    writeFileSync(tamperedExport, `${lines.map((l) => l.replace('"request_id":"req_4"', '"request_id":"req_x"')).join('\n')}\n`);
    const refused = await cli('audit', 'verify', '--export', tamperedExport, '--jwks', jwks);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /audit\.verification_failed.*first problem at entry 4 \(modified\)/);

    const unpaired = await cli('audit', 'verify', '--export', out);
    assert.notEqual(unpaired.code, 0);
    assert.match(unpaired.stderr, /--export and --jwks go together/);
  });

  test('export refuses an unreadable --since before writing anything, and reports an unwritable --out', async () => {
    const out = join(dir.path, 'never.jsonl');
    const refused = await cli('audit', 'export', '--since', 'nonsense', '--out', out);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /--since.*expected an ISO 8601 date/);
    assert.equal(refused.stdout, '');
    assert.equal(existsSync(out), false);

    const unwritable = await cli('audit', 'export', '--out', join(dir.path, 'missing', 'trail.jsonl'));
    assert.equal(unwritable.code, 1);
    assert.match(unwritable.stderr, /audit\.export_unwritable/);
    assert.equal(existsSync(join(dir.path, 'missing')), false);

    const sinceDuration = await cli('audit', 'export', '--since', '7d');
    assert.equal(sinceDuration.code, 0, sinceDuration.stderr);
    assert.equal(sinceDuration.stdout.trimEnd().split('\n').length, 8);
  });

  test('verify exits 1 and names the entry after a row is altered with SQL', async () => {
    await withCliDatabase(dir.path, (database) => tamperField(database.db, 3));
    const verified = await cli('audit', 'verify');
    assert.equal(verified.code, 1);
    assert.match(verified.stdout, /ALTERED: 1 problem\b/);
    assert.match(verified.stdout, /entry 3\s+modified/);
    assert.match(verified.stderr, /error \[audit\.verification_failed\]: first problem at entry 3 \(modified\)/);
  });
});
