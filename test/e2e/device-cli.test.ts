import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { referenceClaims, referenceVerify } from '../support/sas-reference.ts';
import { tempDir } from '../support/tmp.ts';

// `rampart device …` as an operator runs it, against a migrated data directory.

describe('rampart device', () => {
  const dir = tempDir('rampart-device-cli');
  const env = { RAMPART_MASTER_KEY: randomBytes(32).toString('base64'), RAMPART_DEVICES_MAX_TOKEN_LIFETIME_SECONDS: '86400' };
  const cli = (...args: string[]) => runCli(args, { cwd: dir.path, env });
  let primary = '';
  let secondary = '';

  before(async () => {
    assert.equal((await cli('migrate', 'up')).code, 0);
  });
  after(() => dir.cleanup());

  test('add prints the keys once; list and show; bad options are refused with a clear message and change nothing', async () => {
    const added = await cli('device', 'add', 'drone-7', '--kind', 'drone', '--name', 'Kestrel 7', '--depot', 'north');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /registered drone-7 \(drone, north\)/);
    primary = /primary: {3}(\S+)/.exec(added.stdout)?.[1] ?? '';
    secondary = /secondary: (\S+)/.exec(added.stdout)?.[1] ?? '';
    assert.equal(Buffer.from(primary, 'base64').length, 32);
    assert.equal(Buffer.from(secondary, 'base64').length, 32);
    assert.equal((await cli('device', 'add', 'truck-1', '--kind', 'truck', '--name', 'Hauler', '--depot', 'south')).code, 0);

    const listBefore = (await cli('device', 'list')).stdout;
    const showBefore = (await cli('device', 'show', 'drone-7')).stdout;
    const refused: Array<[string[], RegExp]> = [
      [['device', 'add', 'drone-8', '--kind', 'boat', '--name', 'x', '--depot', 'north'], /--kind.*expected one of drone, truck/],
      [['device', 'add', 'drone-8', '--kind', 'drone', '--depot', 'north'], /--name/],
      [['device', 'add', '../etc', '--kind', 'drone', '--name', 'x', '--depot', 'north'], /request\.invalid/],
      [['device', 'add', 'drone-7', '--kind', 'drone', '--name', 'x', '--depot', 'north'], /device\.id_taken/],
      [['device', 'disable', 'nobody'], /device\.not_found/],
      [['device', 'rotate-key', 'drone-7', '--key', 'tertiary'], /--key.*expected one of primary, secondary/],
      [['device', 'rotate-key', 'drone-7'], /--key/],
      [['device', 'token', 'drone-7', '--ttl', 'soon'], /--ttl.*expected a duration/],
      [['device', 'token', 'drone-7', '--ttl', '30s'], /--ttl.*at least 60 seconds/],
      [['device', 'token', 'drone-7', '--ttl', '2d'], /request\.invalid.*60 to 86400 seconds/],
      [['device', 'token', 'drone-7', '--ttl', '1h', '--hub', 'Bad_Hub'], /--hub/],
      [['device', 'token', 'drone-7', '--ttl', '1h', '--hub', 'nowhere'], /ingest\.unknown_hub/],
      [['device', 'list', '--limit', '0'], /--limit/],
    ];
    for (const [args, message] of refused) {
      const result = await cli(...args);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stdout.includes('SharedAccessSignature'), false);
    }
    assert.equal((await cli('device', 'list')).stdout, listBefore, 'refused commands changed nothing');
    assert.equal((await cli('device', 'show', 'drone-7')).stdout, showBefore);

    assert.match(listBefore, /^drone-7\s+drone\s+enabled\s+north\s+Kestrel 7$/m);
    const trucks = (await cli('device', 'list', '--kind', 'truck')).stdout;
    assert.match(trucks, /^truck-1\s+truck/);
    assert.doesNotMatch(trucks, /drone-7/);
    assert.match(showBefore, /revision:\s+1/);
  });

  test('token prints only a token the reference implementation verifies; rotate-key, disable and enable; all audited as the shell user', async () => {
    assert.ok(primary !== '', 'the device was added');

    const token = await cli('device', 'token', 'drone-7', '--ttl', '1h');
    assert.equal(token.code, 0, token.stderr);
    const text = token.stdout.trim();
    assert.equal(token.stdout, `${text}\n`, 'only the token is printed');
    assert.equal(await referenceVerify(text, primary, 'utf8'), true, 'the reference implementation recomputes the same signature from the primary key');
    assert.equal(await referenceVerify(text, secondary, 'utf8'), false);
    const claims = referenceClaims(text);
    assert.equal(claims.uri, 'https://localhost/drone-telemetry/publishers/drone-7');
    assert.equal(claims.keyName, 'primary');
    assert.ok(Math.abs(claims.expiry - (Math.floor(Date.now() / 1000) + 3600)) < 60);
    const mqtt = await cli('device', 'token', 'drone-7', '--ttl', '600', '--mqtt');
    assert.equal(referenceClaims(mqtt.stdout.trim()).uri, 'localhost/devices/drone-7');

    const rotated = await cli('device', 'rotate-key', 'drone-7', '--key', 'primary');
    assert.equal(rotated.code, 0, rotated.stderr);
    const newPrimary = /^ {4}(\S+)$/m.exec(rotated.stdout)?.[1] ?? '';
    assert.notEqual(newPrimary, primary);
    const after = (await cli('device', 'token', 'drone-7', '--ttl', '1h')).stdout.trim();
    assert.equal(await referenceVerify(after, newPrimary, 'utf8'), true, 'tokens now come from the new key');
    assert.equal(await referenceVerify(after, primary, 'utf8'), false);

    assert.match((await cli('device', 'disable', 'drone-7')).stdout, /drone-7: disabled/);
    const whileDisabled = await cli('device', 'token', 'drone-7', '--ttl', '1h');
    assert.equal(whileDisabled.code, 1);
    assert.match(whileDisabled.stderr, /disabled/);
    assert.match((await cli('device', 'enable', 'drone-7')).stdout, /drone-7: enabled/);
    assert.match((await cli('device', 'show', 'drone-7')).stdout, /revision:\s+4/);

    const exported = await cli('audit', 'export');
    assert.equal(exported.code, 0, exported.stderr);
    const entries = exported.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; action?: string; actor_type?: string; target_id?: string }).filter((e) => e.type === 'entry');
    assert.deepEqual(
      entries.map((e) => `${e.action} ${e.target_id}`),
      ['device.create drone-7', 'device.create truck-1', 'device.token_issue drone-7', 'device.token_issue drone-7', 'device.rotate_key drone-7', 'device.token_issue drone-7', 'device.disable drone-7', 'device.enable drone-7'],
    );
    assert.ok(entries.every((e) => e.actor_type === 'cli'));
    assert.ok(!exported.stdout.includes(primary) && !exported.stdout.includes(newPrimary), 'no key in the audit trail');
    assert.equal((await cli('audit', 'verify')).code, 0);
  });
});
