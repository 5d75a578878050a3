import type { AuditActor } from '../audit/append.ts';
import type { RampartConfig } from '../config/schema.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { issueDeviceToken } from '../devices/tokens.ts';
import { systemClock } from '../kernel/clock.ts';
import { isRampartError, RampartError } from '../kernel/errors.ts';
import type { Database } from '../storage/database.ts';
import type { SimulatedDevice } from './run.ts';

// The simulated fleet's devices: created on first use, reused afterwards, each
// with a SAS token for its own protocol (issuing one is audited, like any).

export const simulatedId = (kind: 'drone' | 'truck', n: number): string => `sim-${kind}-${String(n).padStart(3, '0')}`;

export async function prepareSimulatedFleet(options: {
  database: Database;
  keyring: Keyring;
  config: RampartConfig;
  actor: AuditActor;
  drones: number;
  trucks: number;
  /** The number of the first simulated truck (`sim-truck-<n>`); 1 when absent. */
  firstTruck?: number;
  tokenSeconds: number;
}): Promise<SimulatedDevice[]> {
  const registry = new DeviceRegistry({ db: options.database.db, keyring: options.keyring, clock: systemClock });
  const change = { actor: options.actor };
  const settings = { devices: options.config.devices, hubs: new Set(Object.keys(options.config.hubs)) };
  const ttlSeconds = Math.min(options.tokenSeconds, options.config.devices.maxTokenLifetimeSeconds);
  const wanted = [
    ...Array.from({ length: options.drones }, (_, i) => ({ id: simulatedId('drone', i + 1), kind: 'drone' as const })),
    ...Array.from({ length: options.trucks }, (_, i) => ({ id: simulatedId('truck', (options.firstTruck ?? 1) + i), kind: 'truck' as const })),
  ];
  const devices: SimulatedDevice[] = [];
  for (const { id, kind } of wanted) {
    try {
      const existing = await registry.get(id);
      if (existing.status === 'disabled') throw new RampartError('device.disabled', `simulated device ${id} is disabled; enable it (rampart device enable ${id}) or remove it from the run`);
    } catch (error) {
      if (!isRampartError(error) || error.code !== 'device.not_found') throw error;
      await registry.add({ id, kind, name: `Simulated ${kind} ${id.slice(-3)}`, depot: 'sim-depot' }, change);
    }
    const issued = await issueDeviceToken(registry, settings, id, { ttlSeconds, scope: kind === 'drone' ? 'mqtt' : 'http' }, change, Date.now());
    devices.push({ id, kind, token: issued.token });
  }
  return devices;
}
