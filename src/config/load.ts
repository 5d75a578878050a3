import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value } from 'typebox/value';
import { ConfigError } from '../kernel/errors.ts';
import { findConfigProblems } from './checks.ts';
import { ConfigSchema, configOptions, type ConfigOption, type RampartConfig } from './schema.ts';

export const DEFAULT_CONFIG_FILE = 'rampart.config.json';

// Environment variables with the RAMPART_ prefix that are not options.
const NON_OPTION_ENV = ['RAMPART_CONFIG'];
const NON_OPTION_ENV_PREFIXES = ['RAMPART_TEST_'];

export interface LoadConfigOptions {
  /** `--config`; otherwise RAMPART_CONFIG, otherwise ./rampart.config.json when present. */
  readonly file?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

export interface LoadedConfig {
  readonly config: Readonly<RampartConfig>;
  /** The file read, if any. */
  readonly file: string | undefined;
}

type Json = Record<string, unknown>;

/**
 * Defaults ← file ← RAMPART_* environment, validated against the schema and the
 * secure-default rules, then deep-frozen. Synchronous so it finishes before
 * anything listens. Throws ConfigError listing every problem at once.
 */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const file = pickConfigFile(options, cwd);
  const options_ = configOptions();
  const raw: Json = file === undefined ? {} : readConfigFile(file);
  const problems: string[] = [];

  for (const option of options_) {
    if (option.schema['x-env-only'] === true && getPath(raw, option.path) !== undefined) {
      problems.push(`${option.path}: may not be set in a file; supply it through ${option.env}`);
    }
  }
  const origin = new Map<string, string>();
  applyEnvironment(raw, options.env, options_, problems, origin);
  if (problems.length > 0) throw new ConfigError('config.invalid', problems);

  const candidate = Value.Default(ConfigSchema, raw);
  if (!Value.Check(ConfigSchema, candidate)) {
    throw new ConfigError('config.invalid', describeSchemaErrors(candidate, origin));
  }
  const found = findConfigProblems(candidate);
  if (found.invalid.length > 0) throw new ConfigError('config.invalid', found.invalid);
  if (found.insecure.length > 0) throw new ConfigError('config.insecure', found.insecure);
  return { config: deepFreeze(candidate), file };
}

function pickConfigFile(options: LoadConfigOptions, cwd: string): string | undefined {
  const named = options.file ?? options.env['RAMPART_CONFIG'];
  if (named !== undefined && named !== '') return resolve(cwd, named);
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? fallback : undefined;
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('config.unreadable', [`cannot read configuration file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`], { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('config.unreadable', [`configuration file ${file} is not valid JSON: ${(error as Error).message}`], { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('config.unreadable', [`configuration file ${file} must hold a JSON object`]);
  }
  return parsed as Json;
}

function applyEnvironment(
  target: Json,
  env: LoadConfigOptions['env'],
  options: readonly ConfigOption[],
  problems: string[],
  origin: Map<string, string>,
): void {
  const byEnv = new Map(options.map((o) => [o.env, o]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('RAMPART_') || value === undefined) continue;
    if (NON_OPTION_ENV.includes(name) || NON_OPTION_ENV_PREFIXES.some((p) => name.startsWith(p))) continue;
    const option = byEnv.get(name);
    if (option === undefined) {
      problems.push(`${name}: not a Rampart option (see docs/CONFIG.md for the variable names)`);
      continue;
    }
    const parsed = parseEnvValue(option, value);
    if (parsed.ok) {
      setPath(target, option.path, parsed.value);
      origin.set(option.path, name);
    } else {
      problems.push(`${name}: ${parsed.error}`);
    }
  }
}

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

function parseEnvValue(option: ConfigOption, text: string): Parsed {
  switch (option.schema['type']) {
    case 'integer':
      return /^-?\d+$/.test(text.trim()) ? { ok: true, value: Number(text.trim()) } : { ok: false, error: `expected an integer, got "${text}"` };
    case 'boolean':
      if (text === 'true' || text === '1') return { ok: true, value: true };
      if (text === 'false' || text === '0') return { ok: true, value: false };
      return { ok: false, error: `expected true or false, got "${text}"` };
    case 'array':
      return { ok: true, value: text.split(',').map((s) => s.trim()).filter((s) => s.length > 0) };
    case 'object':
      try {
        return { ok: true, value: JSON.parse(text) as unknown };
      } catch {
        return { ok: false, error: 'expected a JSON object' };
      }
    default:
      return { ok: true, value: text };
  }
}

function describeSchemaErrors(candidate: unknown, origin: ReadonlyMap<string, string>): string[] {
  const out = new Set<string>();
  for (const error of Value.Errors(ConfigSchema, candidate)) {
    const path = error.instancePath.split('/').filter(Boolean).join('.');
    const where = origin.has(path) ? `${path} (from ${origin.get(path)})` : path || '(top level)';
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties') {
      for (const key of (params['additionalProperties'] as string[] | undefined) ?? []) {
        out.add(`${path === '' ? key : `${path}.${key}`}: unknown option`);
      }
    } else if (error.keyword === 'enum') {
      out.add(`${where}: must be one of ${(params['allowedValues'] as unknown[] | undefined)?.map((v) => JSON.stringify(v)).join(', ') ?? 'the listed values'}`);
    } else if (error.keyword !== 'boolean') {
      // `boolean` errors repeat additionalProperties ones ("schema is false").
      out.add(`${where}: ${error.message}`);
    }
  }
  return [...out];
}

function getPath(target: Json, path: string): unknown {
  let node: unknown = target;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

function setPath(target: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Json;
  }
  node[keys.at(-1) as string] = value;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The effective configuration with every secret option replaced by "[redacted]". */
export function redactConfig(config: RampartConfig): Json {
  const copy = structuredClone(config) as Json;
  for (const option of configOptions()) {
    if (option.schema['x-secret'] === true) {
      const value = getPath(copy, option.path);
      if (value !== undefined && value !== '') setPath(copy, option.path, '[redacted]');
    }
  }
  return copy;
}
