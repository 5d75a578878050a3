import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fetch } from 'undici';
import { runCli, serve } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';
import { until } from '../support/wait.ts';

// `rampart serve` as an operator runs it: a real process, real signals.

const FREE_PORTS = { RAMPART_PLANES_APP_PORT: '0', RAMPART_PLANES_DEVICE_PORT: '0', RAMPART_PLANES_ADMIN_PORT: '0', RAMPART_MQTT_PORT: '0', RAMPART_LOG_FORMAT: 'json' };

describe('rampart serve', () => {
  test('starts on embedded defaults on Node 24, prints each plane and the setup code once, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir('rampart-serve');
    try {
      const first = await serve({ cwd: dir.path, env: FREE_PORTS });
      const { stdout } = first.output();
      assert.match(stdout, /Rampart \d+\.\d+\.\d+ \(development\) on Node v24\./);
      assert.match(stdout, /"node":"v24\./, 'start-up logs the Node version');
      const code = /\n {5}([0-9A-Z]{4}(?:-[0-9A-Z]{4}){7})\n/.exec(stdout)?.[1];
      assert.ok(code !== undefined, 'the setup code is printed');
      assert.equal(stdout.split(code).length - 1, 1, 'exactly once');
      assert.match(stdout, /DEVELOPMENT MASTER KEY/);
      for (const url of Object.values(first.urls)) {
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'every plane is on loopback');
        assert.equal((await fetch(`${url}/readyz`)).status, 200);
      }
      const data = join(dir.path, 'data');
      assert.equal(statSync(join(data, 'master.key')).mode & 0o777, 0o600);
      assert.equal(statSync(join(data, 'rampart.db')).mode & 0o077, 0, 'the database is private to its user');
      assert.equal(statSync(data).mode & 0o077, 0);

      first.child.kill('SIGTERM');
      const exit = await first.exited;
      assert.equal(exit.code, 0);
      assert.match(first.output().stdout, /shutdown complete/);
      assert.equal(existsSync(join(data, 'rampart.lock')), false);

      const second = await serve({ cwd: dir.path, env: FREE_PORTS });
      assert.ok(!second.output().stdout.includes(code), 'the code is not shown again');
      assert.doesNotMatch(second.output().stdout, /One-time setup code/);
      second.child.kill('SIGINT');
      assert.equal((await second.exited).code, 0);
    } finally {
      dir.cleanup();
    }
  });

  test('a second signal exits at once instead of waiting for the drain', async () => {
    const dir = tempDir('rampart-serve');
    try {
      const running = await serve({ cwd: dir.path, env: { ...FREE_PORTS, RAMPART_SHUTDOWN_DRAIN_TIMEOUT_MS: '60000', RAMPART_PLANES_APP_TIMEOUTS_HEADERS_MS: '60000', RAMPART_PLANES_APP_TIMEOUTS_REQUEST_MS: '60000' } });
      // A request whose headers never finish keeps a connection busy, so the drain would wait.
      const { port } = new URL(running.urls.app);
      const socket = connect({ host: '127.0.0.1', port: Number(port) });
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.on('connect', resolve));
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      await new Promise((r) => setTimeout(r, 200));

      running.child.kill('SIGTERM');
      await until(() => Promise.resolve(/shutting down/.test(running.output().stdout) ? true : undefined));
      assert.equal(running.child.exitCode, null, 'still draining after the first signal');
      running.child.kill('SIGTERM');
      const exit = await running.exited;
      // 130 only comes from the second-signal path; a finished drain exits 0.
      assert.equal(exit.code, 130);
      assert.match(running.output().stdout, /second signal received/);
      socket.destroy();
    } finally {
      dir.cleanup();
    }
  });

  test('refuses an insecure configuration before anything is created', async () => {
    const dir = tempDir('rampart-serve');
    try {
      const result = await runCli(['serve'], { cwd: dir.path, env: { ...FREE_PORTS, RAMPART_PLANES_ADMIN_ALLOW: '0.0.0.0/0' } });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /error \[config\.insecure\]/);
      assert.match(result.stderr, /planes\.admin\.allow: a \/0 range admits everyone/);
      assert.equal(existsSync(join(dir.path, 'data')), false, 'nothing was written');

      const production = await runCli(['serve'], { cwd: dir.path, env: { ...FREE_PORTS, RAMPART_ENV: 'production' } });
      assert.equal(production.code, 1);
      assert.match(production.stderr, /production needs a supplied master key/);
      assert.equal(existsSync(join(dir.path, 'data')), false);
    } finally {
      dir.cleanup();
    }
  });

  test('refuses to start beside a running server on the same data directory', async () => {
    const dir = tempDir('rampart-serve');
    try {
      const running = await serve({ cwd: dir.path, env: FREE_PORTS });
      const clash = await runCli(['serve'], { cwd: dir.path, env: FREE_PORTS });
      assert.equal(clash.code, 1);
      assert.match(clash.stderr, /error \[lifecycle\.already_running\]/);
      assert.equal((await fetch(`${running.urls.admin}/healthz`)).status, 200, 'the first server is unaffected');
      running.child.kill('SIGTERM');
      assert.equal((await running.exited).code, 0);
    } finally {
      dir.cleanup();
    }
  });
});
