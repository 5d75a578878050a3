import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

// `rampart user …` as an operator runs it, against a migrated data directory.

describe('rampart user', () => {
  test('create, list, disable, enable, reset-mfa and reset-password, each audited; bad input changes nothing', async () => {
    const dir = tempDir('rampart-user-cli');
    const env = { RAMPART_MASTER_KEY: randomBytes(32).toString('base64') };
    const cli = (...args: string[]) => runCli(args, { cwd: dir.path, env });
    try {
      assert.equal((await cli('migrate', 'up')).code, 0);

      const created = await cli('user', 'create', 'Dana', '--role', 'dispatcher');
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /created dana \(dispatcher\) acct_/);
      assert.match(created.stdout, /\n {4}[0-9A-Z]{4}(-[0-9A-Z]{4}){7}\n/, 'a 160-bit setup code is printed once');

      const listBefore = (await cli('user', 'list')).stdout;
      const badRole = await cli('user', 'create', 'eve', '--role', 'root');
      assert.notEqual(badRole.code, 0);
      assert.match(badRole.stderr, /--role.*expected one of admin, dispatcher, driver, auditor/);
      const taken = await cli('user', 'create', 'dana', '--role', 'driver');
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, /identity\.username_taken/);
      const badName = await cli('user', 'create', '../etc', '--role', 'driver');
      assert.equal(badName.code, 1);
      assert.match(badName.stderr, /request\.invalid/);
      const unknown = await cli('user', 'disable', 'nobody');
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /route\.not_found/);
      assert.equal((await cli('user', 'list')).stdout, listBefore, 'refused commands changed nothing');

      assert.match((await cli('user', 'disable', 'dana')).stdout, /dana: disabled/);
      assert.match((await cli('user', 'list', '--search', 'dan')).stdout, /^dana\s+dispatcher\s+disabled/m);
      assert.match((await cli('user', 'enable', 'dana')).stdout, /dana: setup_required/, 'never set up, so back to awaiting setup');
      assert.match((await cli('user', 'reset-mfa', 'dana')).stdout, /second factors removed/);
      const reset = await cli('user', 'reset-password', 'dana');
      assert.equal(reset.code, 0, reset.stderr);
      assert.match(reset.stdout, /One-time setup code for dana/);

      const exported = await cli('audit', 'export');
      assert.equal(exported.code, 0, exported.stderr);
      const actions = exported.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; action?: string; actor_type?: string }).filter((e) => e.type === 'entry');
      assert.deepEqual(actions.map((e) => e.action), ['user.create', 'user.disable', 'user.enable', 'user.mfa_reset', 'user.password_reset']);
      assert.ok(actions.every((e) => e.actor_type === 'cli'));
      assert.equal((await cli('audit', 'verify')).code, 0);
    } finally {
      dir.cleanup();
    }
  });
});
