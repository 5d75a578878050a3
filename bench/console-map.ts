// Console live-map benchmark (not a test): the dispatcher's map in headless
// Chromium while 500 devices report once a second (250 drones over MQTT, 250
// vans over HTTP), each through the real device plane with its own SAS token.
//
//   node bench/console-map.ts [seconds per phase, default 30]
//   BENCH_PROFILE=/tmp/map.cpuprofile node bench/console-map.ts   (also profiles the page in the map phase)
//   (needs the console built: npm run build:web; and /usr/bin/chromium)
//
// Three processes share the two cores: the server (this process, which also
// drives Chromium over CDP), the fleet (a child process running the
// simulator) and Chromium. Three phases of the same length, with the same fleet:
//   idle   the fleet reports, no console is open;
//   map    a dispatcher has the live map open (loaded, then following the
//          fleet status stream);
//   idle   the console closed again (so warm-up cannot pass for a cost).
// Reported: the server's CPU per reading in each phase and the map's ratio to
// the idle phases' mean (what the open map costs the server), and in the browser the time to first render
// (all 500 markers drawn), the main thread's long tasks after it (goal: none
// over 50 ms), frame intervals (requestAnimationFrame), the renderer's busy
// share (CDP Performance.TaskDuration) and how many markers moved.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareSimulatedFleet } from '../src/simulate/fleet.ts';
import { runSimulation, type SimulatedDevice, type SimulationStats } from '../src/simulate/run.ts';
import { launchChromium } from '../test/support/chromium.ts';
import { createSignedInUser, signInAdmin, startTestRampart } from '../test/support/identity.ts';
import { tempDir } from '../test/support/tmp.ts';

const DEPOT = { lat: 52.205, lon: 0.119 };
const DRONES = 250;
const VANS = 250;
const UNITS = DRONES + VANS;

// --- the fleet, in its own process ---------------------------------------
if (process.argv[2] === '--fleet') {
  const [, , , file, deviceUrl, mqttUrl, sasHost] = process.argv;
  const { readFileSync } = await import('node:fs');
  const devices = JSON.parse(readFileSync(file ?? '', 'utf8')) as SimulatedDevice[];
  const controller = new AbortController();
  process.once('SIGTERM', () => controller.abort());
  const stats = await runSimulation({
    devices,
    depot: DEPOT,
    deviceUrl: deviceUrl ?? '',
    mqttUrl: mqttUrl ?? '',
    sasHost: sasHost ?? 'localhost',
    droneHz: 1,
    truckIntervalSeconds: 1,
    signal: controller.signal,
    onProgress: (s) => process.stdout.write(`${JSON.stringify({ acknowledged: s.acknowledged, refused: s.refused })}\n`),
  });
  process.stdout.write(`${JSON.stringify({ final: stats })}\n`);
  process.exit(0);
}

// --- the bench ----------------------------------------------------------------
const SECONDS = Number(process.argv[2] ?? 30);
if (!Number.isInteger(SECONDS) || SECONDS < 5 || SECONDS > 600) {
  process.stderr.write('usage: node bench/console-map.ts [seconds per phase, 5..600]\n');
  process.exit(2);
}
const say = (text: string) => process.stdout.write(`${text}\n`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// What the page records, from before its first script runs: long tasks and the interval between animation frames.
const PAGE_PROBE = `
  window.__bench = { long: [], frames: [] };
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__bench.long.push([e.startTime, e.duration]); }).observe({ type: 'longtask', buffered: true });
  let last = 0;
  const tick = (t) => { if (last !== 0) window.__bench.frames.push([t, t - last]); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
`;
const MARKERS = "[...document.querySelectorAll('.leaflet-marker-icon[data-unit]')]";

const rampart = await startTestRampart();
// The server's clock follows real time, so "last seen" and staleness read as they would in use.
const follow = setInterval(() => rampart.clock.advance(Math.max(0, Date.now() - rampart.clock.now().getTime())), 250);
const work = tempDir('rampart-bench-map');
const chromium = await launchChromium();
let fleet: ReturnType<typeof spawn> | undefined;
try {
  const { running } = rampart;
  const admin = await signInAdmin(rampart);
  const dispatcher = await createSignedInUser(rampart, admin, 'dora', 'dispatcher');
  say(`registering ${UNITS} devices…`);
  const devices = await prepareSimulatedFleet({ database: running.database, keyring: running.keyring, config: rampart.config, actor: { type: 'cli', id: 'bench', authMethod: 'local_shell' }, drones: DRONES, trucks: VANS, tokenSeconds: 3600 });
  const file = join(work.path, 'fleet.json');
  writeFileSync(file, JSON.stringify(devices), { mode: 0o600 });

  let acknowledged = 0;
  let refused = 0;
  fleet = spawn(process.execPath, [fileURLToPath(import.meta.url), '--fleet', file, running.urls.device, running.mqtt?.url ?? '', rampart.config.devices.sasHosts[0] ?? 'localhost'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  fleet.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const parsed = JSON.parse(line) as Partial<{ acknowledged: number; refused: number; final: SimulationStats }>;
      acknowledged = parsed.acknowledged ?? parsed.final?.acknowledged ?? acknowledged;
      refused = parsed.refused ?? parsed.final?.refused ?? refused;
    }
  });
  // Warm-up: 40 s of the fleet, so every unit has reported and the drones (grounded for their first 20 s, then climbing) are cruising.
  while (acknowledged < UNITS * 40) await pause(200);
  say(`fleet reporting: ${acknowledged} readings acknowledged, ${refused} refused`);

  /** Server CPU (this process) per acknowledged reading over `seconds`, and the readings' rate. */
  const phase = async (seconds: number) => {
    const cpu = process.cpuUsage();
    const from = acknowledged;
    const started = performance.now();
    await pause(seconds * 1000);
    const used = process.cpuUsage(cpu);
    const readings = acknowledged - from;
    const wall = (performance.now() - started) / 1000;
    return { readings, perSecond: readings / wall, cpuMsPerReading: (used.user + used.system) / 1000 / readings, cpuShare: (used.user + used.system) / 1e6 / wall };
  };

  say(`phase idle (${SECONDS} s): no console open`);
  const idle = await phase(SECONDS);

  say(`phase map (${SECONDS} s): the dispatcher's live map open`);
  const person = await chromium.person();
  await person.context.addInitScript({ content: PAGE_PROBE });
  await person.enterAs(rampart.url, dispatcher);
  const cdp = await person.context.newCDPSession(person.page);
  await cdp.send('Performance.enable');
  await person.page.goto(`${rampart.url}/console/map`);
  let firstRender = 0;
  for (;;) {
    // First render: every marker drawn and the side list counting every unit.
    const [count, listed, at] = await person.page.evaluate<[number, string, number]>(`[${MARKERS}.length, document.querySelector('.fleet-counts')?.textContent ?? '', performance.now()]`);
    if (count >= UNITS && listed.startsWith(`${UNITS} units`)) {
      firstRender = at;
      break;
    }
    if (at > 60_000) throw new Error(`only ${count} of ${UNITS} markers after 60 s`);
    await pause(50);
  }
  const places = async () => await person.page.evaluate<string[]>(`${MARKERS}.map((m) => m.dataset.unit + ' ' + m.style.transform)`);
  const before = new Map((await places()).map((p) => p.split(' ', 2) as [string, string]));
  const taskBefore = await cdp.send('Performance.getMetrics');
  const t0 = await person.page.evaluate<number>('performance.now()');
  const profile = process.env['BENCH_PROFILE'];
  if (profile !== undefined) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  const map = await phase(SECONDS);
  if (profile !== undefined) {
    writeFileSync(profile, JSON.stringify((await cdp.send('Profiler.stop')).profile));
    say(`renderer profile of the map phase: ${profile}`);
  }
  const taskAfter = await cdp.send('Performance.getMetrics');
  const t1 = await person.page.evaluate<number>('performance.now()');
  const after = new Map((await places()).map((p) => p.split(' ', 2) as [string, string]));
  const movedIds = [...after].filter(([unit, place]) => before.has(unit) && before.get(unit) !== place).map(([unit]) => unit);
  const moved = movedIds.length;
  const movedDrones = movedIds.filter((id) => id.startsWith('sim-drone')).length;
  const recorded = await person.page.evaluate<{ long: Array<[number, number]>; frames: Array<[number, number]> }>('window.__bench');
  const busy = (metrics: { metrics: Array<{ name: string; value: number }> }) => metrics.metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
  person.assertClean();
  await person.context.close();
  say(`phase idle again (${SECONDS} s): the console closed`);
  const idleAgain = await phase(SECONDS);

  const longAfter = recorded.long.filter(([start]) => start > firstRender).map(([, duration]) => duration);
  const longBefore = recorded.long.filter(([start]) => start <= firstRender).map(([, duration]) => duration);
  const frames = recorded.frames.filter(([t]) => t > t0 && t <= t1).map(([, interval]) => interval).sort((a, b) => a - b);
  const at = (q: number) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))] ?? Number.NaN;
  const ms = (value: number) => `${value.toFixed(1)} ms`;

  say('');
  say(`| phase | readings/s | server CPU per reading | server CPU share |`);
  say(`| --- | --- | --- | --- |`);
  for (const [name, p] of [['idle (no console)', idle], ['map open', map], ['idle again', idleAgain]] as const) say(`| ${name} | ${p.perSecond.toFixed(0)} | ${p.cpuMsPerReading.toFixed(3)} ms | ${(p.cpuShare * 100).toFixed(0)} % |`);
  const mean = (f: (p: typeof idle) => number) => (f(idle) + f(idleAgain)) / 2;
  say(`| ratio map / idle mean | ${(map.perSecond / mean((p) => p.perSecond)).toFixed(2)} | ${(map.cpuMsPerReading / mean((p) => p.cpuMsPerReading)).toFixed(2)} | |`);
  say('');
  say(`browser: first render (all ${UNITS} markers and the list) ${(firstRender / 1000).toFixed(2)} s after navigation; long tasks before it ${longBefore.length} (longest ${ms(Math.max(0, ...longBefore))})`);
  say(`browser, ${SECONDS} s following the fleet: long tasks ${longAfter.length} (over 50 ms: ${longAfter.filter((d) => d > 50).length}; longest ${ms(Math.max(0, ...longAfter))})`);
  say(`browser frames: ${frames.length} (${(frames.length / ((t1 - t0) / 1000)).toFixed(1)}/s), interval p50 ${ms(at(0.5))}, p95 ${ms(at(0.95))}, p99 ${ms(at(0.99))}, max ${ms(frames.at(-1) ?? Number.NaN)}`);
  say(`browser main thread busy ${(((busy(taskAfter) - busy(taskBefore)) / ((t1 - t0) / 1000)) * 100).toFixed(1)} % of the time; markers moved ${moved}/${after.size} (drones ${movedDrones}/${DRONES}; a marker moves when its unit crosses a screen pixel)`);
  say(`fleet: ${acknowledged} acknowledged, ${refused} refused`);
  if (process.env['BENCH_VERBOSE'] !== undefined) say(`long tasks after first render (start ms, duration ms): ${JSON.stringify(recorded.long.filter(([start]) => start > firstRender).map(([start, d]) => [Math.round(start - firstRender), Math.round(d)]))}`);
} finally {
  fleet?.kill('SIGTERM');
  clearInterval(follow);
  await chromium.close();
  await rampart.stop();
  work.cleanup();
}
