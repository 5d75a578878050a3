import { Value } from 'typebox/value';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigSchema, type RampartConfig } from '../../src/config/schema.ts';
import { proofLimits, type ProofLimits } from '../../src/delivery/proof/core/limits.ts';
import { proofSettings, type ProofSettings } from '../../src/delivery/proof/settings.ts';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof current === 'object' && current !== null && !Array.isArray(current)
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/**
 * A complete configuration for tests: schema defaults, every plane on a free
 * port, data under `dataDir`, then `patch`. Not frozen, not checked for
 * secure defaults (tests of those go through loadConfig).
 */
export function testConfig(dataDir: string, patch: DeepPartial<RampartConfig> = {}): RampartConfig {
  const base = Value.Default(ConfigSchema, {
    dataDir,
    planes: { app: { port: 0 }, device: { port: 0 }, admin: { port: 0 } },
    mqtt: { port: 0 },
    shutdown: { drainTimeoutMs: 2_000 },
  }) as Record<string, unknown>;
  const config = merge(base, patch);
  if (!Value.Check(ConfigSchema, config)) throw new Error(`test configuration invalid: ${JSON.stringify([...Value.Errors(ConfigSchema, config)][0])}`);
  return config;
}

let loadedDefaults: Readonly<RampartConfig> | undefined;

/** What loadConfig gives with no file and no environment: the schema's defaults, checked and frozen. */
export function defaultConfig(): Readonly<RampartConfig> {
  // A directory that cannot hold a rampart.json, so no file is picked up.
  loadedDefaults ??= loadConfig({ env: {}, cwd: '/nonexistent/rampart-default-config' }).config;
  return loadedDefaults;
}

/** Proof-of-delivery limits from the default configuration. */
export function defaultProofLimits(): ProofLimits {
  return proofLimits(defaultConfig().delivery);
}

/** createDelivery's proof settings from the default configuration. */
export function defaultProofSettings(): ProofSettings {
  return proofSettings(defaultConfig());
}
