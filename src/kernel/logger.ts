import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
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
