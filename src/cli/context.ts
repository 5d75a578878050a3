import type { RampartConfig } from '../config/schema.ts';
import { ConfigError, isRampartError } from '../kernel/errors.ts';

// Shared by every command. Heavy modules (server, storage, crypto) are imported
// inside the actions, so `rampart --help` and config checks start instantly.

export interface GlobalOptions {
  readonly config?: string;
}

export async function loadCliConfig(options: GlobalOptions): Promise<Readonly<RampartConfig>> {
  const { loadConfig } = await import('../config/load.ts');
  return loadConfig({ file: options.config, env: process.env }).config;
}

/** Runs a command body: known failures print their code and message; exit status 1. */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      reportFailure(error);
      process.exitCode = 1;
    }
  };
}

export function reportFailure(error: unknown): void {
  if (error instanceof ConfigError) {
    process.stderr.write(`error [${error.code}]:\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  } else if (isRampartError(error)) {
    process.stderr.write(`error [${error.code}]: ${error.message}\n`);
  } else {
    process.stderr.write(`error: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
}

/** Printable without letting stored text drive the terminal. */
export function plain(text: string): string {
  return Array.from(text, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  }).join('');
}

/** Who runs an operator command, for the audit trail: the OS account at the shell. */
export async function cliActor(): Promise<{ type: 'cli'; id: string; authMethod: 'local_shell' }> {
  const { userInfo } = await import('node:os');
  let id = `uid:${process.getuid?.() ?? 'unknown'}`;
  try {
    id = userInfo().username;
  } catch {
    // No passwd entry (containers): the uid is the best name there is.
  }
  return { type: 'cli', id, authMethod: 'local_shell' };
}
