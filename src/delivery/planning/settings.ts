import type { RampartConfig } from '../../config/schema.ts';
import type { DroneMissionSettings } from './drone-mission.ts';
import { greatCircleMatrixProvider, type MatrixProvider } from './matrix.ts';
import { osrmMatrixProvider } from './osrm.ts';

// From the `planning` configuration section to the module's inputs.

export type PlanningConfig = RampartConfig['planning'];

/** Straight-line distances at `planning.averageSpeedKmh`: the default, and the fallback a caller may choose when OSRM fails. */
export function greatCircleProviderFor(planning: PlanningConfig): MatrixProvider {
  return greatCircleMatrixProvider({ averageSpeedKmh: planning.averageSpeedKmh });
}

/** The configured provider: OSRM when `planning.osrmUrl` is set, great-circle otherwise. */
export function matrixProviderFor(planning: PlanningConfig, options: { readonly fetch?: typeof globalThis.fetch } = {}): MatrixProvider {
  if (planning.osrmUrl === '') return greatCircleProviderFor(planning);
  return osrmMatrixProvider({ baseUrl: planning.osrmUrl, timeoutMs: planning.osrmTimeoutMs, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
}

/** Service time of a stop that gives none. */
export const defaultServiceSecondsFor = (planning: PlanningConfig): number => planning.serviceMinutes * 60;

/** Drone settings with the no-fly zones in name order (so refusals list them in a stable order). */
export function droneMissionSettingsFor(planning: PlanningConfig): DroneMissionSettings {
  return {
    cruiseSpeedKmh: planning.drone.cruiseSpeedKmh,
    cruiseAltitudeM: planning.drone.cruiseAltitudeM,
    rangeReservePercent: planning.drone.rangeReservePercent,
    noFlyZones: Object.entries(planning.noFlyZones)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, polygon]) => ({ name, polygon: polygon.map((ring) => ring.map(([lon, lat]) => [lon, lat] as const)) })),
  };
}
