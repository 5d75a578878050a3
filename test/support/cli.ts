import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { testConfig } from './config.ts';

export const RAMPART_BIN = fileURLToPath(new URL('../../bin/rampart.mjs', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for a child Rampart: nothing inherited but PATH and HOME, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...extra };
}

/** Runs `rampart <args>` on this Node and collects its output. */
export function runCli(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RAMPART_BIN, ...args], { cwd: options.cwd, env: childEnv(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The database a CLI run in `cwd` uses (`<cwd>/data/rampart.db`), open for `body` only: between commands, never while one runs. */
export async function withCliDatabase<T>(cwd: string, body: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(testConfig(join(cwd, 'data')), createMemoryLogger('warn').logger);
  try {
    return await body(database);
  } finally {
    await database.close();
  }
}

export interface ServingRampart {
  readonly child: ChildProcessWithoutNullStreams;
  readonly urls: { app: string; device: string; admin: string };
  /** Everything written so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `rampart serve` and waits until it prints its plane URLs. */
export function serve(options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<ServingRampart> {
  const child = spawn(process.execPath, [RAMPART_BIN, 'serve'], { cwd: options.cwd, env: childEnv(options.env) });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rampart serve did not start in time:\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!stdout.includes('Press Ctrl-C to stop.')) return;
      clearTimeout(timer);
      const url = (plane: string) => new RegExp(`${plane} plane\\s+(\\S+)`).exec(stdout)?.[1] ?? '';
      resolve({ child, urls: { app: url('app'), device: url('device'), admin: url('admin') }, output: () => ({ stdout, stderr }), exited });
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`rampart serve exited (${code}) before it started:\n${stdout}\n${stderr}`));
    });
  });
}
