// One error base for the whole product. Domain code throws RampartError with a
// stable code from the catalogue (error-catalog.ts); the HTTP layer maps the
// code to a status and shows only the catalogue's title (plus a detail the
// thrower marked public).

import { errorCatalog, type ErrorCode } from './error-catalog.ts';

export interface RampartErrorOptions {
  readonly cause?: unknown;
  /** Text safe to show to the caller. Without it only the catalogue title is shown. */
  readonly publicDetail?: string;
  /** Seconds the caller should wait before trying again; the plane sends them as `Retry-After`. */
  readonly retryAfterSeconds?: number;
}

export class RampartError extends Error {
  readonly code: ErrorCode;
  readonly publicDetail: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  /** `message` is for logs and operators; clients only see the catalogue title and `publicDetail`. */
  constructor(code: ErrorCode, message: string, options: RampartErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.publicDetail = options.publicDetail;
    this.retryAfterSeconds = options.retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(options.retryAfterSeconds));
  }

  get status(): number {
    return errorCatalog[this.code].status;
  }
}

export class ConfigError extends RampartError {
  /** Each problem found, one line each, naming the option and the fix. */
  readonly problems: readonly string[];

  constructor(code: 'config.invalid' | 'config.insecure' | 'config.unreadable', problems: readonly string[], options: RampartErrorOptions = {}) {
    super(code, problems.join('\n'), options);
    this.problems = problems;
  }
}

export class CryptoError extends RampartError {}

export class StorageError extends RampartError {}

export class BackupError extends RampartError {}

export function isRampartError(value: unknown): value is RampartError {
  return value instanceof RampartError;
}
