import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { createSasToken } from '../../src/crypto/sas.ts';
import { DeviceRegistry } from '../../src/devices/registry.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { SimulatedDrone, SimulatedTruck } from '../../src/simulate/motion.ts';
import { openDatabase, migrateUp } from '../../src/storage/database.ts';
import { serve, type ServingRampart } from '../support/cli.ts';
import { openDataDirEventLog, storedMessageIds } from '../support/event-log.ts';
import { testConfig } from '../support/config.ts';
import { tempDir } from '../support/tmp.ts';
import { within } from '../support/wait.ts';

// The promise behind every acknowledgement: a real `rampart serve` is killed
// with SIGKILL while trucks publish over HTTP and drones over MQTT. After a
// restart, every event that got a 201 or a PUBACK is there, in each device's
// order, and a retry of an acknowledged message is not stored twice.

const DEPOT = { lat: 52.205, lon: 0.119 };

function mqttUrl(server: ServingRampart): string {
  const url = /mqtt\s+(mqtt:\/\/\S+)/.exec(server.output().stdout)?.[1];
  assert.ok(url !== undefined, 'serve prints the MQTT listener');
  return url;
}

function post(agent: Agent, url: URL, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

describe('durable acknowledgement', () => {
  test('after SIGKILL and restart every acknowledged event is present, in order, once', async () => {
    const dir = tempDir('rampart-kill');
    const masterKey = randomBytes(32).toString('base64');
    const config = testConfig(dir.path, { keyring: { masterKey } });
    const env = { RAMPART_MASTER_KEY: masterKey };
    try {
      const database = await openDatabase(config, createMemoryLogger('warn').logger);
      await migrateUp(database);
      const keyring = await Keyring.open({ database, masterKey: Buffer.from(masterKey, 'base64'), clock: systemClock, columns: ENCRYPTED_COLUMNS });
      const registry = new DeviceRegistry({ db: database.db, keyring, clock: systemClock });
      const keys = new Map<string, string>();
      for (const kind of ['truck', 'drone'] as const) {
        for (let i = 0; i < 3; i++) keys.set(`${kind}-${i}`, (await registry.add({ id: `${kind}-${i}`, kind, name: `${kind} ${i}`, depot: 'north' }, { actor: { type: 'system' } })).primaryKey);
      }
      await database.close();
      writeFileSync(join(dir.path, 'rampart.config.json'), JSON.stringify({ dataDir: dir.path, planes: { app: { port: 0 }, device: { port: 0 }, admin: { port: 0 } }, mqtt: { port: 0 }, log: { level: 'warn' } }));

      const server = await serve({ cwd: dir.path, env });
      const expiry = Math.floor(Date.now() / 1000) + 600;
      const acked = new Map<string, number[]>();
      // The kill comes once every publisher has had ten events acknowledged, with all of them still sending.
      let busy: () => void = () => undefined;
      const allBusy = new Promise<void>((resolve) => (busy = resolve));
      const ack = (publisher: string, n: number) => {
        acked.set(publisher, [...(acked.get(publisher) ?? []), n]);
        if (acked.size === keys.size && [...acked.values()].every((list) => list.length >= 10)) busy();
      };
      let stop = false;
      const agent = new Agent({ keepAlive: true });

      const trucks = [0, 1, 2].map(async (i) => {
        const id = `truck-${i}`;
        const truck = new SimulatedTruck(DEPOT, i + 1);
        const url = new URL(`/truck-telemetry/publishers/${id}/messages`, server.urls.device);
        const authorization = createSasToken({ resourceUri: `https://localhost/truck-telemetry/publishers/${id}`, key: keys.get(id) ?? '', keyName: 'primary', expiresAt: expiry, keyEncoding: 'utf8' });
        for (let n = 1; !stop; n++) {
          const status = await post(agent, url, { authorization, 'content-type': 'application/json', brokerproperties: JSON.stringify({ MessageId: `${id}-${n}` }) }, JSON.stringify(truck.step(5, new Date())));
          if (status === 201) ack(id, n);
          else if (status === 0) return;
        }
      });
      const clients: MqttClient[] = [];
      const drones = [0, 1, 2].map(async (i) => {
        const id = `drone-${i}`;
        const drone = new SimulatedDrone(DEPOT, i + 7);
        const password = createSasToken({ resourceUri: `localhost/devices/${id}`, key: keys.get(id) ?? '', expiresAt: expiry, keyEncoding: 'base64' });
        const client = await connectAsync(mqttUrl(server), { clientId: id, username: `localhost/${id}/?api-version=2021-04-12`, password, protocolVersion: 4, reconnectPeriod: 0 });
        clients.push(client);
        client.on('error', () => undefined);
        for (let n = 1; !stop; n++) {
          try {
            await client.publishAsync(`devices/${id}/messages/events/%24.mid=${id}-${n}`, JSON.stringify(drone.step(0.5, new Date())), { qos: 1 });
            ack(id, n);
          } catch {
            return;
          }
        }
      });

      await within(allBusy, 30_000, () => `not every publisher was acknowledged ten times within 30 s: ${JSON.stringify([...acked].map(([id, list]) => [id, list.length]))}`);
      server.child.kill('SIGKILL');
      await server.exited;
      stop = true;
      for (const client of clients) client.end(true);
      await Promise.all([...trucks, ...drones]);
      agent.destroy();
      const total = [...acked.values()].reduce((sum, list) => sum + list.length, 0);
      assert.ok(total > 20, `enough traffic was acknowledged before the kill (${total})`);

      // Restart on the same data directory (the killed server's lock is stale), and retry one acknowledged message.
      const restarted = await serve({ cwd: dir.path, env });
      const retryId = 'truck-0';
      const retryN = acked.get(retryId)?.[0];
      assert.ok(retryN !== undefined);
      const retryToken = createSasToken({ resourceUri: `https://localhost/truck-telemetry/publishers/${retryId}`, key: keys.get(retryId) ?? '', keyName: 'primary', expiresAt: expiry, keyEncoding: 'utf8' });
      const retryAgent = new Agent();
      assert.equal(await post(retryAgent, new URL(`/truck-telemetry/publishers/${retryId}/messages`, restarted.urls.device), { authorization: retryToken, 'content-type': 'application/json', brokerproperties: JSON.stringify({ MessageId: `${retryId}-${retryN}` }) }, JSON.stringify(new SimulatedTruck(DEPOT, 99).step(5, new Date()))), 201);
      retryAgent.destroy();
      restarted.child.kill('SIGTERM');
      await restarted.exited;

      const log = await openDataDirEventLog(dir.path);
      try {
        for (const [hub, prefix] of [['truck-telemetry', 'truck-'], ['drone-telemetry', 'drone-']] as const) {
          const stored = await storedMessageIds(log, hub);
          for (const [publisher, numbers] of acked) {
            if (!publisher.startsWith(prefix)) continue;
            const ids = stored.get(publisher) ?? [];
            const positions = numbers.map((n) => ids.indexOf(`${publisher}-${n}`));
            assert.ok(positions.every((p) => p >= 0), `${publisher}: acknowledged ${numbers.length}, missing ${numbers.filter((_, k) => (positions[k] ?? -1) < 0).join(', ')}`);
            assert.deepEqual([...positions].sort((a, b) => a - b), positions, `${publisher}: stored in the order sent`);
            assert.equal(new Set(ids).size, ids.length, `${publisher}: no message stored twice`);
          }
        }
      } finally {
        await log.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});
