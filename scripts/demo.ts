// `npm run demo`: the Contoso Shipping demo on a data directory of its own.
// Creates ./data-demo (a generated master key in a 0600 file, never printed,
// and a configuration with every listener on loopback) when absent, applies
// migrations, runs `rampart demo seed`, starts `rampart serve` and runs two
// `rampart simulate` processes against it: the drones around the drone base
// over MQTT, the vans around the city depot over the device plane. Ctrl-C
// stops the simulators, then the server; a second Ctrl-C ends them at once.
//
//   npm run demo                      ./data-demo
//   npm run demo -- --dir <path>      another directory (its rampart.config.json is used when present)

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_DISPATCHER, DEMO_DRIVERS, DEMO_DRONES, DEMO_ROUTES, DEMO_TRUCKS, RURAL_DEPOT, URBAN_DEPOT } from '../src/delivery/demo/world.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'rampart.mjs');

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const dataDir = resolve(ROOT, argument('--dir') ?? 'data-demo');
const configFile = join(dataDir, 'rampart.config.json');
const keyFile = join(dataDir, 'master.key');
/** As the configuration names it: relative to the repository when inside it, so the directory can move with it. */
const named = (path: string) => (relative(ROOT, path).startsWith('..') || isAbsolute(relative(ROOT, path)) ? path : relative(ROOT, path));
const shown = named(configFile);

const say = (text: string) => process.stdout.write(`${text}\n`);

/** The server and the simulators, from the moment each is spawned. */
const children: ChildProcess[] = [];

/** Each of the directory, the key and the configuration is created only when absent; nothing existing is overwritten. */
function prepareDataDir(): void {
  if (!existsSync(dataDir)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    say(`created ${named(dataDir)}/`);
  }
  if (!existsSync(keyFile)) {
    // `wx`: never replace a key the data was encrypted under; 0600 from birth.
    writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    say(`generated a master key into ${named(keyFile)} (mode 0600; keep it with the data, never share it)`);
  }
  if (!existsSync(configFile)) {
    const loopback = { host: '127.0.0.1' };
    const config = {
      dataDir: named(dataDir),
      keyring: { masterKeyFile: named(keyFile) },
      planes: { app: loopback, device: loopback, admin: loopback },
      mqtt: loopback,
      log: { level: 'warn' },
    };
    writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    say(`wrote ${shown}`);
  }
}

/** The children see no RAMPART_* variable of this shell: the demo's configuration file alone decides. */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RAMPART_')));
}

function rampart(args: readonly string[], options: { detached: boolean; pipe: boolean }): ChildProcess {
  return spawn(process.execPath, [BIN, '--config', configFile, ...args], { cwd: ROOT, env: childEnv(), detached: options.detached, stdio: options.pipe ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((done) => child.once('exit', (code) => done(code)));
}

async function step(args: readonly string[]): Promise<void> {
  const code = await exited(rampart(args, { detached: false, pipe: false }));
  if (code !== 0) throw new Error(`rampart ${args.join(' ')} failed (exit ${code ?? 'signal'})`);
}

interface Served {
  readonly child: ChildProcess;
  readonly app: string;
  readonly device: string;
  readonly admin: string;
  readonly mqtt: string;
}

/** Starts the server in its own process group (so Ctrl-C reaches only this script) and waits for its URLs. */
function serve(): Promise<Served> {
  const child = rampart(['serve'], { detached: true, pipe: true });
  children.push(child);
  let stdout = '';
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return new Promise((done, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      if (stdout.includes('Press Ctrl-C to stop.')) return;
      stdout += chunk.toString();
      if (!stdout.includes('Press Ctrl-C to stop.')) return;
      const url = (label: string) => new RegExp(`${label}\\s+(\\S+)`).exec(stdout)?.[1] ?? '';
      done({ child, app: url('app plane'), device: url('device plane'), admin: url('admin plane'), mqtt: url('mqtt') });
    });
    void exited(child).then((code) => fail(new Error(`rampart serve exited (${code ?? 'signal'}) before it was listening`)));
  });
}

interface Simulator {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once its devices have their tokens and it is sending. */
  readonly ready: Promise<void>;
  /** The newest progress report: sent, acknowledged, refused. */
  progress: string;
  output: string;
}

function simulate(name: string, served: Served, depot: { lat: number; lon: number }, drones: number, trucks: number, firstTruck: number): Simulator {
  const args = ['simulate', '--drones', String(drones), '--trucks', String(trucks), '--first-truck', String(firstTruck), '--depot', `${depot.lat},${depot.lon}`, '--device-url', served.device, '--mqtt-url', served.mqtt];
  const child = rampart(args, { detached: true, pipe: true });
  children.push(child);
  let sending: () => void = () => undefined;
  const ready = new Promise<void>((done, fail) => {
    sending = done;
    void exited(child).then((code) => fail(new Error(`rampart simulate (${name}) exited (${code ?? 'signal'}) before it was sending`)));
  });
  const simulator: Simulator = { name, child, ready, progress: 'starting', output: '' };
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    if (text.includes('simulating ')) sending();
    const reports = [...text.matchAll(/sent (\d+)\s+acknowledged (\d+)\s+refused (\d+)/g)];
    const last = reports.at(-1);
    if (last !== undefined) simulator.progress = `sent ${last[1] ?? '?'}, acknowledged ${last[2] ?? '?'}, refused ${last[3] ?? '?'}`;
    // Anything else (an error) is shown as it comes.
    for (const line of text.split(/[\r\n]/)) if (line.trim() !== '' && !/^(sent \d+|simulating )/.test(line.trim())) process.stderr.write(`[${name}] ${line}\n`);
  });
  child.stdout?.on('data', (chunk: Buffer) => (simulator.output += chunk.toString()));
  return simulator;
}

/** Stops a detached child with `signal`, then with SIGKILL after `graceMs`. */
async function stop(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

function banner(served: Served): string {
  const drivers = DEMO_DRIVERS.map((d) => d.username).join(', ');
  return [
    '',
    '='.repeat(72),
    ' Contoso Shipping demo is running',
    '',
    `   console       ${served.app}/console/   open this in a browser`,
    `   app plane     ${served.app}   API /api/v1 (OpenAPI: ${served.app}/api/v1/openapi.json)`,
    `   device plane  ${served.device}   the vans post telemetry here`,
    `   mqtt          ${served.mqtt}   the drones publish here`,
    `   admin plane   ${served.admin}/metrics`,
    '',
    ' Sign in with the one-time setup codes printed above (first run only):',
    '   admin (administrator) by the server;',
    `   ${DEMO_DISPATCHER.username} (dispatcher) and ${drivers} (drivers) by the seed.`,
    ' In the console choose "Set up your account with a setup code", pick a',
    ' password and enrol an authenticator app (or a passkey). A lost or expired code:',
    `   npx rampart --config ${shown} user reset-password <username>`,
    '',
    ` Each driver has one planned route (today, or tomorrow for ${DEMO_ROUTES.filter((r) => r.dayOffset > 0).map((r) => r.driver).join(' and ')}):`,
    '   GET /api/v1/driver/route once signed in (?date=YYYY-MM-DD for tomorrow\'s); dispatchers: GET /api/v1/routes.',
    '',
    ` Simulating ${DEMO_DRONES.length} drones and ${DEMO_TRUCKS.filter((v) => v.depotId === RURAL_DEPOT.id).length} vans around ${RURAL_DEPOT.name}, ${DEMO_TRUCKS.filter((v) => v.depotId === URBAN_DEPOT.id).length} vans around ${URBAN_DEPOT.name}.`,
    ' Ctrl-C stops everything.',
    '='.repeat(72),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  // The server and the simulators run in process groups of their own, so Ctrl-C reaches only this
  // script, which stops them in order. Until they all run, Ctrl-C stops what has started.
  let interrupt = () => {
    void Promise.all(children.map((child) => stop(child, 'SIGTERM', 15_000))).then(() => process.exit(130));
  };
  process.on('SIGINT', () => interrupt());
  process.on('SIGTERM', () => interrupt());
  // Should this script end some other way, its children do not outlive it.
  process.on('exit', () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  prepareDataDir();
  // The console is built by `npm ci`; rebuilt here only when web/ changed since.
  const built = await exited(spawn(process.execPath, [join(ROOT, 'scripts', 'build-web.ts')], { cwd: ROOT, stdio: 'inherit' }));
  if (built !== 0) throw new Error(`building the web console failed (exit ${built ?? 'signal'})`);
  await step(['migrate', 'up']);
  await step(['demo', 'seed']);
  const served = await serve();
  // One after the other: each issues its devices' tokens (audited writes) before sending, and two
  // processes doing so at once would contend for the embedded database's write lock.
  const simulators: Simulator[] = [];
  // Each depot's vans drive around that depot: the demo world numbers the city's vans first.
  const cityVans = DEMO_TRUCKS.filter((van) => van.depotId === URBAN_DEPOT.id).length;
  const runs = [
    ['drones', RURAL_DEPOT, DEMO_DRONES.length, 0, 1],
    ['city vans', URBAN_DEPOT, 0, cityVans, 1],
    ['fen vans', RURAL_DEPOT, 0, DEMO_TRUCKS.length - cityVans, cityVans + 1],
  ] as const;
  for (const [name, depot, drones, trucks, firstTruck] of runs) {
    if (drones + trucks === 0) continue;
    const simulator = simulate(name, served, depot.location, drones, trucks, firstTruck);
    simulators.push(simulator);
    await simulator.ready;
  }
  say(banner(served));

  const status = () => simulators.map((s) => `${s.name}: ${s.progress}`).join('  |  ');
  const tty = process.stdout.isTTY;
  const ticker = setInterval(() => (tty ? process.stdout.write(`\r${status()}   `) : say(status())), tty ? 2_000 : 30_000);

  let stopping = false;
  process.exitCode = await new Promise<number>((done) => {
    const shutdown = (code: number) => {
      if (stopping) {
        // A second Ctrl-C: everything ends now.
        for (const child of children) child.kill('SIGKILL');
        process.exit(130);
      }
      stopping = true;
      clearInterval(ticker);
      if (tty) say('');
      say('stopping the simulators, then the server…');
      void (async () => {
        await Promise.all(simulators.map((s) => stop(s.child, 'SIGINT', 10_000)));
        for (const s of simulators) say(`${s.name}: ${s.output.trim() || s.progress}`);
        await stop(served.child, 'SIGTERM', 15_000);
        say('stopped.');
        done(code);
      })();
    };
    interrupt = () => shutdown(0);
    // A child that ends on its own ends the demo.
    for (const child of children) {
      void exited(child).then((code) => {
        if (stopping) return;
        process.stderr.write(`a demo process ended unexpectedly (exit ${code ?? 'signal'}); stopping the others\n`);
        shutdown(1);
      });
    }
  });
}

main().catch(async (error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  await Promise.all(children.map((child) => stop(child, 'SIGTERM', 15_000)));
  process.exitCode = 1;
});
