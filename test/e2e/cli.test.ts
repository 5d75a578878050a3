import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

// Every operator command, run as a process.

describe('rampart CLI', () => {
  test('has --help for every command', async () => {
    const dir = tempDir('rampart-cli');
    try {
      const top = await runCli(['--help'], { cwd: dir.path });
      assert.equal(top.code, 0);
      for (const command of ['serve', 'migrate', 'config', 'keys', 'backup', 'restore']) assert.match(top.stdout, new RegExp(`\\n\\s+${command}\\b`), command);
      for (const args of [['serve'], ['migrate', 'up'], ['migrate', 'status'], ['config', 'check'], ['keys', 'rotate'], ['keys', 'list'], ['backup'], ['restore']]) {
        const help = await runCli([...args, '--help'], { cwd: dir.path });
        assert.equal(help.code, 0, args.join(' '));
        assert.match(help.stdout, /^Usage: rampart /, args.join(' '));
      }
    } finally {
      dir.cleanup();
    }
  });

  test('config check prints the effective configuration with secrets redacted, and fails on problems', async () => {
    const dir = tempDir('rampart-cli');
    const key = randomBytes(32).toString('base64');
    try {
      writeFileSync(join(dir.path, 'rampart.config.json'), JSON.stringify({ planes: { admin: { port: 9500 } } }));
      const ok = await runCli(['config', 'check'], { cwd: dir.path, env: { RAMPART_MASTER_KEY: key, RAMPART_DATABASE_POSTGRES_URL: 'postgres://u:hunter2@127.0.0.1/db' } });
      assert.equal(ok.code, 0, ok.stderr);
      const printed = JSON.parse(ok.stdout) as { planes: { admin: { port: number } }; keyring: { masterKey: string }; database: { postgresUrl: string } };
      assert.equal(printed.planes.admin.port, 9500);
      assert.equal(printed.keyring.masterKey, '[redacted]');
      assert.equal(printed.database.postgresUrl, '[redacted]');
      assert.ok(!ok.stdout.includes(key) && !ok.stdout.includes('hunter2'));

      const bad = await runCli(['config', 'check'], { cwd: dir.path, env: { RAMPART_PLANES_APP_HOST: '0.0.0.0' } });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /config\.insecure/);
      const unknown = await runCli(['--config', join(dir.path, 'missing.json'), 'config', 'check'], { cwd: dir.path });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /config\.unreadable/);
    } finally {
      dir.cleanup();
    }
  });

  test('migrate status reports pending migrations, migrate up applies them once', async () => {
    const dir = tempDir('rampart-cli');
    try {
      const pending = await runCli(['migrate', 'status'], { cwd: dir.path });
      assert.equal(pending.code, 2);
      assert.match(pending.stdout, /pending\s+0001_foundation/);
      const up = await runCli(['migrate', 'up'], { cwd: dir.path });
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stdout, /applied 0001_foundation/);
      const again = await runCli(['migrate', 'up'], { cwd: dir.path });
      assert.match(again.stdout, /already up to date/);
      const status = await runCli(['migrate', 'status'], { cwd: dir.path });
      assert.equal(status.code, 0);
      assert.match(status.stdout, /applied\s+0001_foundation/);
    } finally {
      dir.cleanup();
    }
  });

  test('keys rotate replaces data and signing keys with a progress report; keys list shows status but never material', async () => {
    const dir = tempDir('rampart-cli');
    const key = randomBytes(32).toString('base64');
    const env = { RAMPART_MASTER_KEY: key };
    try {
      assert.equal((await runCli(['keys', 'rotate'], { cwd: dir.path, env })).code, 1, 'no database yet: refused');
      assert.equal((await runCli(['migrate', 'up'], { cwd: dir.path, env })).code, 0);
      const keysBefore = (await runCli(['keys', 'list'], { cwd: dir.path, env })).stdout;
      const badWait = await runCli(['keys', 'rotate', '--settle-ms', 'soon'], { cwd: dir.path, env });
      assert.notEqual(badWait.code, 0);
      assert.match(badWait.stderr, /--settle-ms.*expected a whole number of milliseconds/);
      assert.equal((await runCli(['keys', 'list'], { cwd: dir.path, env })).stdout, keysBefore, 'nothing was rotated');
      const rotated = await runCli(['keys', 'rotate', '--settle-ms', '0'], { cwd: dir.path, env });
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /new signing keys: sk_\S+, sk_\S+, sk_\S+/);
      assert.match(rotated.stderr, /re-encrypting|retiring/, 'progress is shown');
      const listed = await runCli(['keys', 'list'], { cwd: dir.path, env });
      assert.equal(listed.code, 0);
      assert.match(listed.stdout, /active/);
      assert.ok(!listed.stdout.includes('w1.'), 'no wrapped material is printed');

      const wrongKey = await runCli(['keys', 'rotate', '--settle-ms', '0'], { cwd: dir.path, env: { RAMPART_MASTER_KEY: randomBytes(32).toString('base64') } });
      assert.equal(wrongKey.code, 1);
      assert.match(wrongKey.stderr, /crypto\.master_key_mismatch/);
    } finally {
      dir.cleanup();
    }
  });

  test('backup then restore round-trips; a corrupted backup is refused', async () => {
    const dir = tempDir('rampart-cli');
    const env = { RAMPART_MASTER_KEY: randomBytes(32).toString('base64') };
    try {
      assert.equal((await runCli(['migrate', 'up'], { cwd: dir.path, env })).code, 0);
      const backup = await runCli(['backup', join(dir.path, 'b1')], { cwd: dir.path, env });
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stdout, /rampart\.db\s+\d+ bytes\s+sha256 [0-9a-f]{64}/);
      const manifest = JSON.parse(readFileSync(join(dir.path, 'b1', 'manifest.json'), 'utf8')) as { files: Array<{ sha256: string }> };
      assert.match(manifest.files[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);

      const refused = await runCli(['restore', join(dir.path, 'b1')], { cwd: dir.path, env });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /backup\.target_exists/);
      const restored = await runCli(['restore', '--force', join(dir.path, 'b1')], { cwd: dir.path, env });
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stdout, /restored backup of/);

      const db = join(dir.path, 'b1', 'rampart.db');
      const bytes = readFileSync(db);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      writeFileSync(db, bytes);
      const corrupted = await runCli(['restore', '--force', join(dir.path, 'b1')], { cwd: dir.path, env });
      assert.equal(corrupted.code, 1);
      assert.match(corrupted.stderr, /backup\.mismatch/);

      const pg = await runCli(['backup', join(dir.path, 'b2')], { cwd: dir.path, env: { ...env, RAMPART_DATABASE_DRIVER: 'postgres', RAMPART_DATABASE_POSTGRES_URL: 'postgres://x@127.0.0.1/db' } });
      assert.equal(pg.code, 1);
      assert.match(pg.stderr, /pg_dump/);
    } finally {
      dir.cleanup();
    }
  });
});
