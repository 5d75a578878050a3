import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { action, cliActor, loadCliConfig, type GlobalOptions } from './context.ts';

// `rampart simulate`: demo fleets through the real device plane and MQTT
// listener, with real per-device credentials. Devices are created on first use
// (`sim-drone-001`, `sim-truck-001`, …) and reused afterwards.

function parseCount(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 10_000) throw new InvalidArgumentError('expected a whole number from 0 to 10000');
  return Number(text);
}

function parseFirst(text: string): number {
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 9_999) throw new InvalidArgumentError('expected a whole number from 1 to 9999');
  return Number(text);
}

export function parseDuration(text: string): number {
  const match = /^(\d{1,6})(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new InvalidArgumentError('expected a duration such as 90s, 15m or 2h');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(match[1]) * unit;
  if (ms < 1000 || ms > 7 * 86_400_000) throw new InvalidArgumentError('expected between 1 s and 7 days');
  return ms;
}

function parseHz(text: string): number {
  const hz = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || hz < 0.1 || hz > 50) throw new InvalidArgumentError('expected a rate from 0.1 to 50 per second');
  return hz;
}

function parseDepot(text: string): { lat: number; lon: number } {
  const match = /^(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)$/.exec(text.trim());
  const lat = Number(match?.[1]);
  const lon = Number(match?.[2]);
  if (match === null || Math.abs(lat) > 85 || Math.abs(lon) > 180) throw new InvalidArgumentError('expected "lat,lon" in degrees, e.g. 52.205,0.119');
  return { lat, lon };
}

function parseUrl(protocols: readonly string[]) {
  return (text: string): string => {
    if (!URL.canParse(text) || !protocols.includes(new URL(text).protocol)) throw new InvalidArgumentError(`expected a ${protocols.join(' or ')} URL`);
    return text;
  };
}

interface SimulateOptions {
  drones: number;
  trucks: number;
  firstTruck: number;
  duration?: number;
  depot: { lat: number; lon: number };
  droneHz: number;
  deviceUrl?: string;
  mqttUrl?: string;
  ca?: string;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('drive simulated drones (MQTT) and trucks (HTTPS) with real device credentials against a running Rampart')
    .option('--drones <n>', 'simulated drones', parseCount, 5)
    .option('--trucks <n>', 'simulated trucks', parseCount, 5)
    .option('--first-truck <n>', 'number of the first truck (sim-truck-<n>), so runs around different depots drive different trucks', parseFirst, 1)
    .option('--duration <time>', 'stop after this long (default: until Ctrl-C)', parseDuration)
    .option('--depot <lat,lon>', 'where the fleet is based', parseDepot, { lat: 52.205, lon: 0.119 })
    .option('--drone-hz <rate>', 'drone position reports per second (1–5 is typical)', parseHz, 2)
    .option('--device-url <url>', 'device plane (default: from the configuration)', parseUrl(['http:', 'https:']))
    .option('--mqtt-url <url>', 'MQTT listener (default: from the configuration)', parseUrl(['mqtt:', 'mqtts:']))
    .option('--ca <file>', 'CA certificate (PEM) for a TLS device plane or MQTT listener')
    .action(
      action(async (options: SimulateOptions) => {
        if (options.drones + options.trucks === 0) throw new InvalidArgumentError('nothing to simulate: --drones and --trucks are both 0');
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const ca = options.ca === undefined ? undefined : readFileSync(options.ca);
        const [{ openForMaintenance }, { prepareSimulatedFleet }, { runSimulation }] = await Promise.all([import('./maintenance.ts'), import('../simulate/fleet.ts'), import('../simulate/run.ts')]);
        const durationMs = options.duration ?? 7 * 86_400_000;
        const { database, keyring } = await openForMaintenance(config);
        let devices;
        try {
          devices = await prepareSimulatedFleet({ database, keyring, config, actor: await cliActor(), drones: options.drones, trucks: options.trucks, firstTruck: options.firstTruck, tokenSeconds: Math.ceil(durationMs / 1000) + 300 });
        } finally {
          await database.close();
        }
        const device = config.planes.device;
        const deviceUrl = options.deviceUrl ?? `${device.tls === undefined ? 'http' : 'https'}://${device.host}:${device.port}`;
        const mqttUrl = options.mqttUrl ?? `${config.mqtt.tls === undefined ? 'mqtt' : 'mqtts'}://${config.mqtt.host}:${config.mqtt.port}`;
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const timer = setTimeout(stop, durationMs);
        process.stderr.write(`simulating ${options.drones} drones (MQTT ${mqttUrl}) and ${options.trucks} trucks (HTTPS ${deviceUrl}); Ctrl-C stops\n`);
        const stats = await runSimulation({
          devices,
          depot: options.depot,
          deviceUrl,
          mqttUrl,
          sasHost: config.devices.sasHosts[0] ?? 'localhost',
          droneHz: options.droneHz,
          truckIntervalSeconds: 5,
          signal: controller.signal,
          ...(ca === undefined ? {} : { ca }),
          onProgress: (s) => process.stderr.write(`\rsent ${s.sent}  acknowledged ${s.acknowledged}  refused ${s.refused}   `),
        });
        clearTimeout(timer);
        process.stderr.write('\n');
        process.stdout.write(`sent ${stats.sent}, acknowledged ${stats.acknowledged}, refused ${stats.refused}\n`);
        for (const error of stats.errors) process.stdout.write(`  refused: ${error}\n`);
        if (stats.refused > 0) process.exitCode = 1;
      }),
    );
}
