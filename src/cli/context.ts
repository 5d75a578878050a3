import { pino } from 'pino';
import { loadConfig } from '../config/load.ts';
import type { RampartConfig } from '../config/schema.ts';
import { ConfigError, isRampartError } from '../kernel/errors.ts';
import { createLogger, type Logger } from '../kernel/logger.ts';

export interface GlobalOptions {
  readonly config?: string;
}

export function loadCliConfig(options: GlobalOptions): Readonly<RampartConfig> {
  return loadConfig({ file: options.config, env: process.env }).config;
}

/** Readable lines on a terminal in development, JSON otherwise (what log shippers want). */
export function logFormat(config: RampartConfig, stream: NodeJS.WriteStream): 'json' | 'pretty' {
  if (config.log.format !== 'auto') return config.log.format;
  return stream.isTTY && config.env === 'development' ? 'pretty' : 'json';
}

/** Logger for one-shot commands: stderr, so stdout carries only the command's output. */
export function commandLogger(config: RampartConfig): Logger {
  const format = logFormat(config, process.stderr);
  return format === 'pretty'
    ? createLogger({ level: config.log.level, format })
    : createLogger({ level: config.log.level, format, destination: pino.destination({ fd: 2, sync: true }) });
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
