import { pino } from 'pino';
import type { RampartConfig } from '../config/schema.ts';
import { createLogger, type Logger } from '../kernel/logger.ts';

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
