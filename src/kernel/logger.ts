import { pino, type BaseLogger, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;

// Field names whose values never reach a log line, wherever they appear (top
// level or one object down). Secrets first, then personal data.
export const SECRET_FIELDS = [
  'password',
  'passcode',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'apiKey',
  'key',
  'privateKey',
  'masterKey',
  'setupCode',
  'sig',
  'signature',
  'authorization',
  'cookie',
  'connectionString',
  'postgresUrl',
] as const;

export const PERSONAL_FIELDS = [
  'email',
  'phone',
  'recipientName',
  'signerName',
  'address',
  'recipientAddress',
] as const;

const HEADER_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

export function redactionPaths(): string[] {
  const fields = [...SECRET_FIELDS, ...PERSONAL_FIELDS];
  return [...HEADER_PATHS, ...fields, ...fields.map((f) => `*.${f}`)];
}

export interface LoggerOptions {
  readonly level: string;
  readonly format: 'json' | 'pretty';
  /** Where lines go; stdout when absent. Tests pass a collecting stream. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    redact: { paths: redactionPaths(), censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: pino.stdSerializers.err },
  };
  const destination =
    options.format === 'pretty'
      ? pretty({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid', destination: 1 })
      : (options.destination ?? pino.destination({ sync: true }));
  return pino(base, destination);
}

/** A logger that keeps every line in memory, for tests that inspect what was logged. */
export function createMemoryLogger(level = 'debug'): { logger: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const destination: DestinationStream = {
    write(chunk: string) {
      chunks.push(chunk);
    },
  };
  return {
    logger: createLogger({ level, format: 'json', destination }),
    lines: () => chunks.join('').split('\n').filter((l) => l.length > 0),
  };
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** What a request handler's logger offers (a pino logger's level methods, child and level). */
export type RequestLogger = BaseLogger & Pick<Logger, 'child' | 'isLevelEnabled' | 'bindings'>;
type LogFn = (...args: unknown[]) => void;

/**
 * A per-request logger that becomes a real pino child only when a line at an
 * enabled level is written. Building a child applies redaction to its
 * bindings, which on the device plane (thousands of requests a second, almost
 * none of them logged) cost more than the rest of the logging put together.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): RequestLogger {
  let child: Logger | undefined;
  const real = (): Logger => (child ??= parent.child(bindings));
  const method = (level: Level): LogFn =>
    function log(...args: unknown[]): void {
      if (!parent.isLevelEnabled(level)) return;
      real()[level](...(args as [string]));
    };
  const lazy = {
    fatal: method('fatal'),
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    trace: method('trace'),
    silent: () => undefined,
    child: (more: Record<string, unknown>, options?: object) => real().child(more, options),
    isLevelEnabled: (level: string) => parent.isLevelEnabled(level),
    bindings: () => real().bindings(),
    get level() {
      return child?.level ?? parent.level;
    },
    set level(value: string) {
      real().level = value;
    },
  };
  return lazy as unknown as RequestLogger;
}
