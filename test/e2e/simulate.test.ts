import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli, serve } from '../support/cli.ts';
import { openDataDirEventLog, storedMessageIds } from '../support/event-log.ts';
import { tempDir } from '../support/tmp.ts';

// `rampart simulate` against a real server: it registers its devices, gets them
// tokens, flies drones over MQTT and drives trucks over HTTPS, and every report
// is accepted by the hubs' schemas and stored.

describe('rampart simulate', () => {
  test('drives drones and trucks through the real front ends; everything sent is acknowledged and stored', async () => {
    const dir = tempDir('rampart-simulate');
    const env = { RAMPART_MASTER_KEY: randomBytes(32).toString('base64') };
    try {
      writeFileSync(join(dir.path, 'rampart.config.json'), JSON.stringify({ dataDir: dir.path, planes: { app: { port: 0 }, device: { port: 0 }, admin: { port: 0 } }, mqtt: { port: 0 }, log: { level: 'warn' } }));
      const server = await serve({ cwd: dir.path, env });
      const mqttUrl = /mqtt\s+(mqtt:\/\/\S+)/.exec(server.output().stdout)?.[1] ?? '';
      try {
        const bad = await runCli(['simulate', '--drones', 'many'], { cwd: dir.path, env });
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /--drones.*expected a whole number/);

        const run = await runCli(['simulate', '--drones', '2', '--trucks', '2', '--duration', '4s', '--drone-hz', '5', '--device-url', server.urls.device, '--mqtt-url', mqttUrl], { cwd: dir.path, env });
        assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
        const [, sent, acknowledged, refused] = /sent (\d+), acknowledged (\d+), refused (\d+)/.exec(run.stdout) ?? [];
        assert.equal(refused, '0', run.stdout);
        assert.ok(Number(acknowledged) >= 20, run.stdout);
        assert.ok(Number(sent) - Number(acknowledged) <= 4, 'only reports in flight at the stop go unacknowledged');

        const badFirst = await runCli(['simulate', '--trucks', '1', '--first-truck', '0'], { cwd: dir.path, env });
        assert.notEqual(badFirst.code, 0);
        assert.match(badFirst.stderr, /--first-truck.*expected a whole number from 1/);
        const offset = await runCli(['simulate', '--drones', '0', '--trucks', '1', '--first-truck', '5', '--duration', '2s', '--device-url', server.urls.device, '--mqtt-url', mqttUrl], { cwd: dir.path, env });
        assert.equal(offset.code, 0, `${offset.stdout}\n${offset.stderr}`);

        const again = await runCli(['device', 'list'], { cwd: dir.path, env });
        assert.match(again.stdout, /sim-drone-001/);
        assert.match(again.stdout, /sim-truck-002/);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
      const log = await openDataDirEventLog(dir.path);
      try {
        const publishers = new Set<string>();
        for (const hub of ['drone-telemetry', 'truck-telemetry']) for (const publisher of (await storedMessageIds(log, hub)).keys()) publishers.add(publisher);
        assert.deepEqual([...publishers].sort(), ['sim-drone-001', 'sim-drone-002', 'sim-truck-001', 'sim-truck-002', 'sim-truck-005']);
      } finally {
        await log.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});
