// Ingest benchmark (not a test): events/s and acknowledgement latency for
// HTTPS single events, HTTPS batches of 100 and MQTT QoS 1, with 200-byte
// events, against a Rampart server in its own process; then the same MQTT load
// against Mosquitto (persistence on) and the same publish load against NATS
// JetStream (file storage), all on this machine in this run, side by side.
//
//   npm run bench:ingest -- [seconds per load, default 10]
//   BENCH_PROFILE=/tmp/prof npm run bench:ingest -- 5    (also profiles the server)
//   BENCH_LOADS=single,mqtt npm run bench:ingest -- 5      (only some loads; default all of
//     single, batch, mqtt, http-floor, mosquitto, jetstream)
//
// http-floor runs the single-event load against a bare Node HTTP server that
// answers 201 on receipt and does nothing else: what this machine allows that
// load at all, with the load generator on it.
//
// Every Rampart acknowledgement means "durable" (fsync'd with synchronous=full).
// Mosquitto's PUBACK means "in memory"; JetStream's ack means "in the stream"
// (its file store syncs every 2 minutes by default). The table says so.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { createSasToken } from '../src/crypto/sas.ts';
import { DeviceRegistry } from '../src/devices/registry.ts';
import { Keyring } from '../src/crypto/keyring.ts';
import { ENCRYPTED_COLUMNS } from '../src/crypto/encrypted-columns.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { createMemoryLogger } from '../src/kernel/logger.ts';
import { openDatabase, migrateUp } from '../src/storage/database.ts';
import { serve } from '../test/support/cli.ts';
import { testConfig } from '../test/support/config.ts';
import { tempDir } from '../test/support/tmp.ts';

const SECONDS = Number(process.argv[2] ?? 10);
if (!Number.isInteger(SECONDS) || SECONDS < 2 || SECONDS > 600) {
  process.stderr.write('usage: npm run bench:ingest -- [seconds per load, 2..600]\n');
  process.exit(2);
}
// Telemetry that passes the hubs' schemas, at full double precision: about 200 bytes each.
const EVENT = JSON.stringify({ lat: 52.20531234567891, lon: 0.1218123456789123, speed: 11.527777777777779, heading: 187.23456789012346, odometer: 120345.12512345678, timestamp: '2026-06-01T10:00:00.000Z' });
const DRONE_EVENT = JSON.stringify({ lat: 52.20531234567891, lon: 0.1218123456789123, altitude: 101.25, heading: 187.23456789012346, groundSpeed: 14.987654321, battery: 76.5, flightState: 'cruise', timestamp: '2026-06-01T10:00:00.000Z' });
const LOAD_NAMES = ['single', 'batch', 'mqtt', 'http-floor', 'mosquitto', 'jetstream'] as const;
const LOADS = new Set((process.env['BENCH_LOADS'] ?? LOAD_NAMES.join(',')).split(',').map((name) => name.trim()));
for (const name of LOADS) {
  if (!(LOAD_NAMES as readonly string[]).includes(name)) {
    process.stderr.write(`BENCH_LOADS: unknown load ${name} (known: ${LOAD_NAMES.join(', ')})\n`);
    process.exit(2);
  }
}
const HTTP_DEVICES = 32;
const MQTT_CLIENTS = 32;
const MQTT_WINDOW = 16;

interface Result {
  readonly name: string;
  readonly events: number;
  readonly seconds: number;
  readonly latencies: number[];
  readonly note: string;
  /** CPU time (user + system) the server process spent per acknowledged event, µs; undefined where not readable. */
  readonly serverCpuMicros: number | undefined;
  /** CPU time the load generator (this process) spent per acknowledged event, µs. */
  readonly clientCpuMicros: number;
  /** Share of the machine's CPU time left idle during the load, %; undefined where not readable. */
  readonly idlePercent: number | undefined;
}

/** The server process being measured: its CPU time is read from /proc around each load. */
let serverPid: number | undefined;

/** User + system CPU seconds of a process so far (Linux /proc), or undefined. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), counted after the command name: indexes 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
/** Idle and total CPU ticks of the whole machine so far (Linux /proc/stat), or undefined. */
function machineTicks(): { idle: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: idle and iowait are time nobody ran.
    return { idle: (fields[3] ?? 0) + (fields[4] ?? 0), total: fields.slice(0, 8).reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on Linux for every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function timed(name: string, note: string, workers: number, work: (worker: number, record: (events: number, ms: number) => void, until: number) => Promise<void>): Promise<Result> {
  const latencies: number[] = [];
  let events = 0;
  const cpuBefore = cpuSeconds(serverPid);
  const ticksBefore = machineTicks();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(Array.from({ length: workers }, (_, w) => work(w, (n, ms) => {
    events += n;
    latencies.push(ms);
  }, until)));
  const cpuAfter = cpuSeconds(serverPid);
  const ticksAfter = machineTicks();
  const client = process.cpuUsage(clientBefore);
  const serverCpuMicros = cpuBefore === undefined || cpuAfter === undefined || events === 0 ? undefined : ((cpuAfter - cpuBefore) * 1e6) / events;
  const clientCpuMicros = events === 0 ? Number.NaN : (client.user + client.system) / events;
  const idlePercent = ticksBefore === undefined || ticksAfter === undefined || ticksAfter.total === ticksBefore.total ? undefined : (100 * (ticksAfter.idle - ticksBefore.idle)) / (ticksAfter.total - ticksBefore.total);
  return { name, events, seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b), note, serverCpuMicros, clientCpuMicros, idlePercent };
}

function post(agent: Agent, url: URL, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const SINGLE = Buffer.from(EVENT);

/** HTTP_DEVICES clients, one request in flight each, one event per request, each answered 201. */
function singleEventLoad(name: string, note: string, agent: Agent, target: (worker: number) => { url: URL; headers: Record<string, string> }): Promise<Result> {
  return timed(name, note, HTTP_DEVICES, async (w, record, until) => {
    const { url, headers } = target(w);
    while (performance.now() < until) {
      const t = performance.now();
      const status = await post(agent, url, headers, SINGLE);
      if (status !== 201) throw new Error(`${name}: status ${status}`);
      record(1, performance.now() - t);
    }
  });
}

async function mqttLoad(name: string, note: string, url: string, clientFor: (i: number) => { clientId: string; username?: string; password?: string; topic: string }): Promise<Result> {
  const clients: MqttClient[] = [];
  for (let i = 0; i < MQTT_CLIENTS; i++) {
    const c = clientFor(i);
    const client = mqttConnect(url, { clientId: c.clientId, ...(c.username === undefined ? {} : { username: c.username, password: c.password }), protocolVersion: 4, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    clients.push(client);
  }
  const payload = Buffer.from(DRONE_EVENT);
  const result = await timed(name, note, MQTT_CLIENTS * MQTT_WINDOW, async (w, record, until) => {
    const client = clients[w % MQTT_CLIENTS];
    const topic = clientFor(w % MQTT_CLIENTS).topic;
    if (client === undefined) return;
    while (performance.now() < until) {
      const t = performance.now();
      await client.publishAsync(topic, payload, { qos: 1 });
      record(1, performance.now() - t);
    }
  });
  await Promise.all(clients.map((c) => c.endAsync()));
  return result;
}

async function benchRampart(): Promise<Result[]> {
  const dir = tempDir('rampart-bench');
  const masterKey = randomBytes(32).toString('base64');
  const mqttPort = await freePort();
  const config = testConfig(dir.path, { keyring: { masterKey }, mqtt: { port: mqttPort }, log: { level: 'warn' } });
  // Devices are registered before the server starts, as an operator would.
  const database = await openDatabase(config, createMemoryLogger('warn').logger);
  await migrateUp(database);
  const keyring = await Keyring.open({ database, masterKey: Buffer.from(masterKey, 'base64'), clock: systemClock, columns: ENCRYPTED_COLUMNS });
  const registry = new DeviceRegistry({ db: database.db, keyring, clock: systemClock });
  const keys = new Map<string, string>();
  for (let i = 0; i < Math.max(HTTP_DEVICES, MQTT_CLIENTS); i++) {
    for (const kind of ['truck', 'drone'] as const) {
      const id = `bench-${kind}-${i}`;
      keys.set(id, (await registry.add({ id, kind, name: id, depot: 'bench' }, { actor: { type: 'system' } })).primaryKey);
    }
  }
  await database.close();
  writeFileSync(join(dir.path, 'rampart.config.json'), JSON.stringify({ dataDir: dir.path, planes: { app: { port: 0 }, device: { port: 0 }, admin: { port: 0 } }, mqtt: { port: mqttPort }, log: { level: 'warn' } }));
  // BENCH_PROFILE=<dir> writes a CPU profile of the server (open it in Chrome DevTools) to find what limits a figure.
  const profile = process.env['BENCH_PROFILE'];
  const server = await serve({ cwd: dir.path, env: { RAMPART_MASTER_KEY: masterKey, ...(profile === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profile}` }) } });
  serverPid = server.child.pid;
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const httpToken = (id: string) => createSasToken({ resourceUri: `https://localhost/truck-telemetry/publishers/${id}`, key: keys.get(id) ?? '', keyName: 'primary', expiresAt: expiry, keyEncoding: 'utf8' });
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const results: Result[] = [];
  try {
    if (LOADS.has('single')) results.push(await singleEventLoad('Rampart HTTP, 1 event/request', 'durable (fsync)', agent, (w) => {
      const id = `bench-truck-${w}`;
      return { url: new URL(`/truck-telemetry/publishers/${id}/messages`, server.urls.device), headers: { authorization: httpToken(id), 'content-type': 'application/json' } };
    }));
    const batch = Buffer.from(JSON.stringify(Array.from({ length: 100 }, () => ({ Body: EVENT }))));
    if (LOADS.has('batch')) results.push(await timed('Rampart HTTP, batches of 100', 'durable (fsync)', 8, async (w, record, until) => {
      const id = `bench-truck-${w}`;
      const url = new URL(`/truck-telemetry/publishers/${id}/messages`, server.urls.device);
      const headers = { authorization: httpToken(id), 'content-type': 'application/vnd.microsoft.servicebus.json' };
      while (performance.now() < until) {
        const t = performance.now();
        const status = await post(agent, url, headers, batch);
        if (status !== 201) throw new Error(`HTTP batch: status ${status}`);
        record(100, performance.now() - t);
      }
    }));
    if (LOADS.has('mqtt')) results.push(await mqttLoad('Rampart MQTT QoS 1', 'durable (fsync)', `mqtt://127.0.0.1:${mqttPort}`, (i) => {
      const id = `bench-drone-${i}`;
      const password = createSasToken({ resourceUri: `localhost/devices/${id}`, key: keys.get(id) ?? '', expiresAt: expiry, keyEncoding: 'base64' });
      return { clientId: id, username: `localhost/${id}/?api-version=2021-04-12`, password, topic: `devices/${id}/messages/events/` };
    }));
  } finally {
    serverPid = undefined;
    agent.destroy();
    server.child.kill('SIGTERM');
    await server.exited;
    dir.cleanup();
  }
  return results;
}

async function withProcess<T>(command: string, args: string[], ready: () => Promise<void>, body: () => Promise<T>): Promise<T> {
  const child: ChildProcess = spawn(command, args, { stdio: 'ignore' });
  try {
    await ready();
    serverPid = child.pid;
    return await body();
  } finally {
    serverPid = undefined;
    child.kill('SIGTERM');
  }
}

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

// A Node HTTP server that reads each request and answers 201 with nothing stored.
const BARE_HTTP_SERVER = `
const port = Number(process.argv[1]);
require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.statusCode = 201; res.end(); });
}).listen(port, '127.0.0.1');
`;

async function benchHttpFloor(): Promise<Result | string> {
  const port = await freePort();
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  try {
    return await withProcess(process.execPath, ['-e', BARE_HTTP_SERVER, String(port)], () => waitForPort(port), () =>
      singleEventLoad('Node HTTP server that does nothing (peer)', 'nothing (201 on receipt): the most this load can reach here', agent, (w) => {
        // The same request as Rampart's, headers of the same size included; nobody checks the token.
        const id = `bench-truck-${w}`;
        const authorization = createSasToken({ resourceUri: `https://localhost/truck-telemetry/publishers/${id}`, key: randomBytes(32).toString('base64'), keyName: 'primary', expiresAt: Math.floor(Date.now() / 1000) + 3600, keyEncoding: 'utf8' });
        return { url: new URL(`http://127.0.0.1:${port}/truck-telemetry/publishers/${id}/messages`), headers: { authorization, 'content-type': 'application/json' } };
      }),
    );
  } catch (error) {
    return `Bare HTTP server not measured: ${(error as Error).message}`;
  } finally {
    agent.destroy();
  }
}

async function benchMosquitto(): Promise<Result | string> {
  const dir = tempDir('mosquitto-bench');
  const port = await freePort();
  const conf = join(dir.path, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir.path}/\nmax_inflight_messages ${MQTT_WINDOW}\n`);
  try {
    return await withProcess('mosquitto', ['-c', conf], () => waitForPort(port), () =>
      mqttLoad('Mosquitto QoS 1 (peer)', 'in memory (persistence on, saved periodically)', `mqtt://127.0.0.1:${port}`, (i) => ({ clientId: `bench-drone-${i}`, topic: `devices/bench-drone-${i}/messages/events/` })),
    );
  } catch (error) {
    return `Mosquitto not measured: ${(error as Error).message}`;
  } finally {
    dir.cleanup();
  }
}

async function benchJetStream(): Promise<Result | string> {
  const dir = tempDir('nats-bench');
  const port = await freePort();
  try {
    const [{ connect }, { jetstream, jetstreamManager }] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
    return await withProcess('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir.path], () => waitForPort(port), async () => {
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'TELEMETRY', subjects: ['telemetry.>'] });
      const js = jetstream(nc);
      const payload = Buffer.from(DRONE_EVENT);
      const result = await timed('NATS JetStream publish (peer)', 'in the stream (file store, fsync every 2 min by default)', HTTP_DEVICES * 4, async (w, record, until) => {
        while (performance.now() < until) {
          const t = performance.now();
          await js.publish(`telemetry.d${w % HTTP_DEVICES}`, payload);
          record(1, performance.now() - t);
        }
      });
      await nc.close();
      return result;
    });
  } catch (error) {
    return `NATS JetStream not measured: ${(error as Error).message}`;
  } finally {
    dir.cleanup();
  }
}

const results: Array<Result | string> = [
  ...(LOADS.has('single') || LOADS.has('batch') || LOADS.has('mqtt') ? await benchRampart() : []),
  ...(LOADS.has('http-floor') ? [await benchHttpFloor()] : []),
  ...(LOADS.has('mosquitto') ? [await benchMosquitto()] : []),
  ...(LOADS.has('jetstream') ? [await benchJetStream()] : []),
];
const rate = (r: Result) => r.events / r.seconds;
const mqtt = results.find((r): r is Result => typeof r !== 'string' && r.name.startsWith('Rampart MQTT'));
process.stdout.write(`\ningest, ${SECONDS} s per load, ${EVENT.length}-byte (HTTP) and ${DRONE_EVENT.length}-byte (MQTT, JetStream) events, this machine (${(await import('node:os')).cpus().length} cores), server and load generator sharing it\n\n`);
process.stdout.write(`| load | events/s | p50 ms | p99 ms | × Rampart MQTT | server CPU µs/event | load generator CPU µs/event | machine idle % | acknowledgement means |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n`);
for (const r of results) {
  if (typeof r === 'string') {
    process.stdout.write(`| ${r} | | | | | | | | |\n`);
    continue;
  }
  const ratio = mqtt === undefined ? '' : (rate(r) / rate(mqtt)).toFixed(2);
  const cpu = r.serverCpuMicros === undefined ? '' : r.serverCpuMicros.toFixed(1);
  process.stdout.write(`| ${r.name} | ${Math.round(rate(r)).toLocaleString('en')} | ${percentile(r.latencies, 50).toFixed(2)} | ${percentile(r.latencies, 99).toFixed(2)} | ${ratio} | ${cpu} | ${r.clientCpuMicros.toFixed(1)} | ${r.idlePercent === undefined ? '' : r.idlePercent.toFixed(0)} | ${r.note} |\n`);
}
