import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fetch } from 'undici';
import { masterKey } from '../test/support/keys.ts';
import { testConfig } from '../test/support/config.ts';
import { tempDir } from '../test/support/tmp.ts';
import { createMemoryLogger } from './kernel/logger.ts';
import { startRampart } from './server.ts';
import { hasCode } from '../test/support/errors.ts';
import { until } from '../test/support/wait.ts';

describe('Rampart server', () => {
  test('starts three planes with health, readiness, JWKS on the app plane and metrics on the admin plane only', async () => {
    const dir = tempDir();
    const memory = createMemoryLogger();
    const running = await startRampart(testConfig(dir.path), { logger: memory.logger, announce: () => undefined });
    try {
      for (const url of Object.values(running.urls)) {
        assert.equal((await fetch(`${url}/healthz`)).status, 200);
        assert.equal((await fetch(`${url}/readyz`)).status, 200);
      }
      const jwks = (await (await fetch(`${running.urls.app}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
      assert.equal(jwks.keys.length, 3, 'one signing key per purpose');
      assert.ok(jwks.keys.every((k) => k['crv'] === 'Ed25519' && !('d' in k)));
      assert.equal((await fetch(`${running.urls.device}/.well-known/jwks.json`)).status, 404, 'the device plane has no human endpoints');
      assert.equal((await fetch(`${running.urls.app}/metrics`)).status, 404);
      assert.equal((await fetch(`${running.urls.device}/metrics`)).status, 404);
      const metrics = await (await fetch(`${running.urls.admin}/metrics`)).text();
      assert.match(metrics, /rampart_http_requests_total\{plane="app",method="GET",route="\/healthz",status="200"\} 1/);
      assert.ok(memory.lines().some((l) => l.includes('"node":"v24.')), 'start-up logs the Node version');
    } finally {
      await running.stop();
      dir.cleanup();
    }
  });

  test('creates the bootstrap administrator once and announces the setup code once, outside the log', async () => {
    const dir = tempDir();
    const config = testConfig(dir.path);
    const announced: string[] = [];
    const memory = createMemoryLogger();
    const first = await startRampart(config, { logger: memory.logger, announce: (t) => announced.push(t) });
    const admins = await first.database.db.selectFrom('accounts').selectAll().execute();
    await first.stop();
    const second = await startRampart(config, { logger: memory.logger, announce: (t) => announced.push(t) });
    await second.stop();
    try {
      assert.equal(admins.length, 1);
      assert.equal(admins[0]?.role, 'admin');
      assert.equal(admins[0].status, 'setup_required');
      assert.equal(announced.length, 1, 'announced on first start only');
      const code = /\n {5}([0-9A-Z-]{39})\n/.exec(announced[0] ?? '')?.[1];
      assert.ok(code !== undefined, 'the banner carries the code');
      assert.ok(!memory.lines().some((l) => l.includes(code)), 'the code never reaches the log');
    } finally {
      dir.cleanup();
    }
  });

  test('keeps secrets and credentials out of the log', async () => {
    const dir = tempDir();
    const key = masterKey().toString('base64');
    const memory = createMemoryLogger('trace');
    const running = await startRampart(testConfig(dir.path, { keyring: { masterKey: key } }), { logger: memory.logger, announce: () => undefined });
    try {
      await fetch(`${running.urls.app}/api/v1/anything?sig=QUERYSECRET&se=1`, {
        headers: { authorization: 'SharedAccessSignature sr=x&sig=HEADERSECRET', cookie: '__Host-session=COOKIESECRET' },
      });
      memory.logger.info({ password: 'PASSWORDSECRET', nested: { token: 'TOKENSECRET', email: 'ada@example.com' } }, 'a careless line');
    } finally {
      await running.stop();
      dir.cleanup();
    }
    const log = memory.lines().join('\n');
    for (const secret of [key, 'QUERYSECRET', 'HEADERSECRET', 'COOKIESECRET', 'PASSWORDSECRET', 'TOKENSECRET', 'ada@example.com']) {
      assert.ok(!log.includes(secret), `log contains ${secret}`);
    }
  });

  test('refuses a second server on the same data directory and cleans up after a failed start', async () => {
    const dir = tempDir();
    const config = testConfig(dir.path);
    const first = await startRampart(config, { logger: createMemoryLogger().logger, announce: () => undefined });
    try {
      await assert.rejects(startRampart(config, { logger: createMemoryLogger().logger }), hasCode('lifecycle.already_running'));
    } finally {
      await first.stop();
    }
    assert.equal(existsSync(join(dir.path, 'rampart.lock')), false, 'the lock is released on stop');
    const clash = testConfig(dir.path, { keyring: { masterKey: masterKey().toString('base64') } });
    await assert.rejects(startRampart(clash, { logger: createMemoryLogger().logger }), hasCode('crypto.master_key_mismatch'));
    assert.equal(existsSync(join(dir.path, 'rampart.lock')), false, 'a failed start releases the lock');
    dir.cleanup();
  });

  test('stops gracefully: in-flight requests finish, then listeners and the database close', async () => {
    const dir = tempDir();
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = await startRampart(testConfig(dir.path), {
      logger: createMemoryLogger().logger,
      announce: () => undefined,
      extendPlanes: (planes) =>
        planes.app.app.get('/slow', async () => {
          entered();
          await gate;
          return { done: true };
        }),
    });
    const slow = fetch(`${running.urls.app}/slow`);
    await inHandler;
    let stopped = false;
    const stopping = running.stop().then(() => (stopped = true));
    await until(() => Promise.resolve(running.planes.app.draining ? true : undefined));
    await running.database.ping();
    assert.equal(stopped, false, 'stop waits for the request in flight, with the database still open');
    release();
    assert.equal((await slow).status, 200);
    await stopping;
    await assert.rejects(running.database.ping(), hasCode('storage.unavailable'));
    await assert.rejects(fetch(`${running.urls.admin}/healthz`));
    dir.cleanup();
  });
});
