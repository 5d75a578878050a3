import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { connect, type MqttClient } from 'mqtt';
import { SimulatedDrone, SimulatedTruck, type Point } from './motion.ts';

// Drives simulated devices through the real front ends with real credentials:
// drones over MQTT (QoS 1, IoT Hub conventions), trucks over HTTPS (Event Hubs
// REST). Each device sends on its own schedule; the run reports what was sent,
// acknowledged and refused.

export interface SimulatedDevice {
  readonly id: string;
  readonly kind: 'drone' | 'truck';
  /** SAS token for the device's own resource on the protocol it uses. */
  readonly token: string;
}

export interface SimulationOptions {
  readonly devices: readonly SimulatedDevice[];
  readonly depot: Point;
  /** `http(s)://host:port` of the device plane. */
  readonly deviceUrl: string;
  /** `mqtt(s)://host:port` of the MQTT listener. */
  readonly mqttUrl: string;
  /** Host name the tokens name (one of devices.sasHosts): goes into the MQTT username. */
  readonly sasHost: string;
  /** Drone position reports per second (PX4 telemetry links send 1–5 Hz). */
  readonly droneHz: number;
  /** Seconds between truck reports. */
  readonly truckIntervalSeconds: number;
  /** Extra CA for a TLS device plane or MQTT listener with a private certificate. */
  readonly ca?: Buffer;
  readonly signal: AbortSignal;
  readonly onProgress?: (stats: SimulationStats) => void;
}

export interface SimulationStats {
  sent: number;
  acknowledged: number;
  refused: number;
  /** The first few refusals, for the operator. */
  readonly errors: string[];
}

const API_VERSION = '2021-04-12';

export async function runSimulation(options: SimulationOptions): Promise<SimulationStats> {
  const stats: SimulationStats = { sent: 0, acknowledged: 0, refused: 0, errors: [] };
  const refuse = (what: string) => {
    stats.refused++;
    if (stats.errors.length < 5) stats.errors.push(what);
  };
  const stoppers: Array<() => Promise<void>> = [];
  let seed = 1;
  for (const device of options.devices) {
    seed++;
    stoppers.push(device.kind === 'drone' ? flyDrone(device, seed, options, stats, refuse) : driveTruck(device, seed, options, stats, refuse));
  }
  const progress = setInterval(() => options.onProgress?.(stats), 1000);
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearInterval(progress);
  await Promise.all(stoppers.map((stop) => stop()));
  options.onProgress?.(stats);
  return stats;
}

function flyDrone(device: SimulatedDevice, seed: number, options: SimulationOptions, stats: SimulationStats, refuse: (what: string) => void): () => Promise<void> {
  const drone = new SimulatedDrone(options.depot, seed);
  const client: MqttClient = connect(options.mqttUrl, {
    clientId: device.id,
    username: `${options.sasHost}/${device.id}/?api-version=${API_VERSION}`,
    password: device.token,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 2000,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  });
  // MQTT.js may report a closed stream with a null error; only real errors are refusals.
  client.on('error', (error: Error | null) => {
    if (error !== null) refuse(`${device.id}: ${error.message}`);
  });
  const periodMs = 1000 / options.droneHz;
  const timer = setInterval(() => {
    if (!client.connected) return;
    const sample = drone.step(periodMs / 1000, new Date());
    stats.sent++;
    client.publish(`devices/${device.id}/messages/events/`, JSON.stringify(sample), { qos: 1 }, (error?: Error | null) => {
      if (error === undefined || error === null) stats.acknowledged++;
      else refuse(`${device.id}: ${error.message}`);
    });
  }, periodMs);
  return async () => {
    clearInterval(timer);
    await client.endAsync();
  };
}

function driveTruck(device: SimulatedDevice, seed: number, options: SimulationOptions, stats: SimulationStats, refuse: (what: string) => void): () => Promise<void> {
  const truck = new SimulatedTruck(options.depot, seed);
  const url = new URL(`/truck-telemetry/publishers/${encodeURIComponent(device.id)}/messages`, options.deviceUrl);
  const tls = url.protocol === 'https:';
  const agent = tls ? new HttpsAgent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) }) : new HttpAgent({ keepAlive: true });
  const inFlight = new Set<Promise<void>>();
  const send = () => {
    const body = Buffer.from(JSON.stringify(truck.step(options.truckIntervalSeconds, new Date())));
    stats.sent++;
    const done = new Promise<void>((resolve) => {
      const req = (tls ? httpsRequest : httpRequest)(url, { method: 'POST', agent, headers: { authorization: device.token, 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 201) stats.acknowledged++;
          else refuse(`${device.id}: HTTP ${res.statusCode ?? '?'}`);
          resolve();
        });
      });
      req.on('error', (error) => {
        refuse(`${device.id}: ${error.message}`);
        resolve();
      });
      req.end(body);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  // Trucks do not all report in the same instant.
  const start = setTimeout(() => {
    send();
    timer = setInterval(send, options.truckIntervalSeconds * 1000);
  }, (seed * 397) % (options.truckIntervalSeconds * 1000));
  let timer: NodeJS.Timeout | undefined;
  return async () => {
    clearTimeout(start);
    clearInterval(timer);
    await Promise.all(inFlight);
    agent.destroy();
  };
}
