// One error base for the whole product. Domain code throws RampartError with a
// stable code; the HTTP layer maps the code to a status through `errorCatalog`
// and shows only the catalogue's title (plus a detail the thrower marked public).
// docs/ERRORS.md is generated from this table and checked for drift by a test.

export interface ErrorSpec {
  /** HTTP status when the error reaches a client; 500 for errors that never should. */
  readonly status: number;
  /** Short, public, human-readable summary. Never contains internal state. */
  readonly title: string;
  /** What it means and what to do: shown in docs/ERRORS.md. */
  readonly description: string;
}

export const errorCatalog = {
  internal: {
    status: 500,
    title: 'Internal error',
    description: 'An unexpected failure. The response carries only the request id; the log under that id has the cause.',
  },
  'request.invalid': {
    status: 400,
    title: 'Request failed validation',
    description: 'A parameter, header or body field does not match the endpoint\'s schema. `errors` lists each field and the rule it broke.',
  },
  'request.malformed': {
    status: 400,
    title: 'Malformed request',
    description: 'The request could not be parsed (for example, invalid JSON or an empty JSON body).',
  },
  'request.too_large': {
    status: 413,
    title: 'Request body too large',
    description: 'The body is larger than the plane\'s `bodyLimitBytes`.',
  },
  'request.unsupported_media_type': {
    status: 415,
    title: 'Unsupported media type',
    description: 'The endpoint does not accept the request\'s Content-Type.',
  },
  'request.timeout': {
    status: 408,
    title: 'Request timeout',
    description: 'The client took longer than the plane\'s request timeout to send the request.',
  },
  'route.not_found': {
    status: 404,
    title: 'Not found',
    description: 'No such endpoint on this plane, or no such object visible to the caller.',
  },
  'service.unavailable': {
    status: 503,
    title: 'Service unavailable',
    description: 'The plane is shutting down or a dependency (such as the database) is not reachable. Retry later.',
  },
  'config.invalid': {
    status: 500,
    title: 'Invalid configuration',
    description: 'The configuration file or a `RAMPART_*` variable does not match the schema (unknown key, wrong type, out of range). The message names each option; docs/CONFIG.md describes them.',
  },
  'config.insecure': {
    status: 500,
    title: 'Insecure configuration refused',
    description: 'The configuration is valid but unsafe (for example, a plane bound beyond loopback without TLS). The message says what to change.',
  },
  'config.unreadable': {
    status: 500,
    title: 'Configuration file unreadable',
    description: 'The configuration file could not be read or is not valid JSON.',
  },
  'storage.unavailable': {
    status: 503,
    title: 'Database unavailable',
    description: 'The database could not be reached or opened.',
  },
  'storage.conflict': {
    status: 409,
    title: 'Conflict',
    description: 'The change conflicts with existing data (a unique value already taken).',
  },
  'storage.schema_outdated': {
    status: 503,
    title: 'Database schema outdated',
    description: 'Migrations are pending and automatic migration is off. Run `rampart migrate up`.',
  },
  'storage.migration_failed': {
    status: 500,
    title: 'Migration failed',
    description: 'A migration failed and was rolled back where the database allows. The message names the migration.',
  },
  'crypto.ciphertext_malformed': {
    status: 500,
    title: 'Malformed ciphertext',
    description: 'A stored ciphertext is truncated or not in a Rampart format. The stored value was damaged.',
  },
  'crypto.authentication_failed': {
    status: 500,
    title: 'Ciphertext failed authentication',
    description: 'A stored ciphertext was altered, moved to another row or column, or encrypted under another key. The value is refused rather than returned.',
  },
  'crypto.unknown_key': {
    status: 500,
    title: 'Unknown key',
    description: 'A ciphertext or signature names a key this keyring does not hold (never created here, or retired).',
  },
  'crypto.master_key_invalid': {
    status: 500,
    title: 'Master key invalid',
    description: 'The master key is not 32 bytes of base64 (generate one with `openssl rand -base64 32`).',
  },
  'crypto.master_key_missing': {
    status: 500,
    title: 'Master key missing',
    description: 'No master key was supplied. Production needs `RAMPART_MASTER_KEY` or `keyring.masterKeyFile`.',
  },
  'crypto.master_key_mismatch': {
    status: 500,
    title: 'Master key does not match',
    description: 'The supplied master key is not the one that wrapped this database\'s keys. Supply the original key.',
  },
  'crypto.key_file_insecure': {
    status: 500,
    title: 'Key file permissions too open',
    description: 'The master key file is readable or writable by group or others. `chmod 600` it.',
  },
  'backup.invalid': {
    status: 500,
    title: 'Backup invalid',
    description: 'The backup folder has no readable manifest, or the manifest is not a Rampart backup manifest.',
  },
  'backup.mismatch': {
    status: 500,
    title: 'Backup does not match its manifest',
    description: 'A file\'s SHA-256 differs from the manifest, or the manifest\'s authentication code does not verify under this master key. Nothing was restored.',
  },
  'backup.unsupported': {
    status: 500,
    title: 'Backup not supported for this database',
    description: 'Rampart backs up its embedded SQLite database; for PostgreSQL use `pg_dump` (docs/OPERATIONS.md).',
  },
  'backup.target_exists': {
    status: 500,
    title: 'Restore target exists',
    description: 'The database file already exists, or the backup folder is not empty. Pass `--force` to replace the database.',
  },
  'lifecycle.listen_failed': {
    status: 500,
    title: 'Cannot listen',
    description: 'A plane could not bind its address and port (in use, not an address of this machine, or a privileged port). The message names the plane and the option to change.',
  },
  'lifecycle.already_running': {
    status: 500,
    title: 'Rampart is already running',
    description: 'Another Rampart process holds the data directory\'s lock file. Stop it first.',
  },
  'identity.setup_code_invalid': {
    status: 401,
    title: 'Setup code invalid',
    description: 'The one-time setup code is wrong, expired or already used.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;

export interface RampartErrorOptions {
  readonly cause?: unknown;
  /** Text safe to show to the caller. Without it only the catalogue title is shown. */
  readonly publicDetail?: string;
}

export class RampartError extends Error {
  readonly code: ErrorCode;
  readonly publicDetail: string | undefined;

  /** `message` is for logs and operators; clients only see the catalogue title and `publicDetail`. */
  constructor(code: ErrorCode, message: string, options: RampartErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.publicDetail = options.publicDetail;
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

/** Renders docs/ERRORS.md from the catalogue. */
export function renderErrorsDoc(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/kernel/errors.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'Every failure Rampart reports carries one of these stable codes. HTTP responses are',
    '`application/problem+json` (RFC 9457) with `type` `urn:rampart:problem:<code>`, the',
    'status and title below, and the request id; they never include stack traces or',
    'internal messages. The CLI prints `error [<code>]: <message>` and exits non-zero.',
    '',
    '| code | HTTP status | title | meaning |',
    '| --- | --- | --- | --- |',
  ];
  for (const [code, spec] of Object.entries(errorCatalog)) {
    lines.push(`| \`${code}\` | ${spec.status} | ${spec.title} | ${spec.description.replaceAll('|', '\\|')} |`);
  }
  return `${lines.join('\n')}\n`;
}
