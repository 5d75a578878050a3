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
  'audit.export_invalid': {
    status: 500,
    title: 'Audit export unreadable',
    description: 'The file given to `rampart audit verify --export` is not a Rampart audit export (no header, an unsupported version, a line that is not JSON, or a field the format does not have). The message names the line.',
  },
  'audit.export_unwritable': {
    status: 500,
    title: 'Audit export not written',
    description: 'The file given to `rampart audit export --out` could not be written (missing directory, no permission, disk full). No partial file is left behind.',
  },
  'audit.jwks_invalid': {
    status: 500,
    title: 'Audit verification keys unreadable',
    description: 'The file given to `rampart audit verify --jwks` is not a JWKS (`{"keys": [...]}`), holds a private key, or holds a malformed Ed25519 key. Save the public keys from `/.well-known/jwks.json`.',
  },
  'audit.verification_failed': {
    status: 500,
    title: 'Audit trail failed verification',
    description: 'The audit trail (or export) has been altered: an entry changed, deleted, inserted or moved, its end removed, or a checkpoint forged. The message names the first affected entry; `rampart audit verify` lists every finding. Investigate before trusting the trail.',
  },
  'identity.setup_code_invalid': {
    status: 401,
    title: 'Setup code invalid',
    description: 'The one-time setup code is wrong, expired or already used.',
  },
  'identity.password_rejected': {
    status: 400,
    title: 'Password not accepted',
    description: 'Passwords must be 8 to 128 characters and must not appear in the list of common and breached passwords. Any characters are allowed; there are no composition rules.',
  },
  'identity.username_taken': {
    status: 409,
    title: 'Username taken',
    description: 'Another account already has this username.',
  },
  'identity.invalid_state': {
    status: 409,
    title: 'Not possible in the current state',
    description: 'The account or session is not in a state that allows this (for example, enrolling a second factor that is already enrolled, or disabling the last active administrator).',
  },
  'identity.password_disabled': {
    status: 409,
    title: 'Password disabled',
    description: 'Too many consecutive failed sign-ins disabled this account\'s password. An administrator must reset it (`rampart user reset-password`).',
  },
  'auth.required': {
    status: 401,
    title: 'Authentication required',
    description: 'Sign in (or present a valid access token) and retry. Also returned when a session has expired or was ended.',
  },
  'auth.failed': {
    status: 401,
    title: 'Sign-in failed',
    description: 'The username or password is wrong, or sign-in is temporarily locked. The answer is the same in every case so that it reveals nothing about accounts.',
  },
  'auth.mfa_failed': {
    status: 401,
    title: 'Second factor not accepted',
    description: 'The code or passkey assertion was wrong, already used, or the factor is temporarily locked after repeated failures.',
  },
  'auth.mfa_required': {
    status: 401,
    title: 'Second factor required',
    description: 'The password was accepted; complete sign-in with a second factor (`/api/v1/auth/mfa/…`).',
  },
  'auth.enrolment_required': {
    status: 401,
    title: 'Second factor enrolment required',
    description: 'Every account must enrol a second factor (passkey or authenticator app) before it can do anything else.',
  },
  'auth.step_up_required': {
    status: 401,
    title: 'Recent second factor required',
    description: 'This is a sensitive action: prove a second factor again (`POST /api/v1/auth/step-up`) and retry within the step-up window.',
  },
  'auth.token_invalid': {
    status: 401,
    title: 'Invalid access token',
    description: 'The bearer token is malformed, expired, revoked, or not issued by this Rampart for this API.',
  },
  'auth.csrf_failed': {
    status: 403,
    title: 'Cross-site request refused',
    description: 'A state-changing request with a session cookie must carry the session\'s CSRF token in `X-CSRF-Token` and, when the browser sends one, a same-origin `Origin`.',
  },
  'oauth.principal_name_taken': {
    status: 409,
    title: 'Service principal name taken',
    description: 'Another service principal already has this name. Names are unique; pick another or manage the existing one.',
  },
  'device.not_found': {
    status: 404,
    title: 'Device not found',
    description: 'No device with this id is registered.',
  },
  'device.id_taken': {
    status: 409,
    title: 'Device id taken',
    description: 'Another device already has this id. Device ids are unique and never reused.',
  },
  'device.unauthorized': {
    status: 401,
    title: 'Device not authenticated',
    description: 'The SAS token or client certificate is missing, malformed, expired, too long-lived, for another resource, signed with a wrong or rotated key, or the device is disabled. The answer does not say which; the security-events hub and the log do.',
  },
  'device.forbidden': {
    status: 403,
    title: 'Not allowed for this device',
    description: 'Publisher policy: a device sends only as itself, only to hubs its token names, and only with its own id as partition key.',
  },
  'ingest.unknown_hub': {
    status: 404,
    title: 'Unknown hub',
    description: 'No event hub with this name is configured (see `hubs` in docs/CONFIG.md).',
  },
  'ingest.invalid_event': {
    status: 400,
    title: 'Event refused',
    description: 'An event is not valid for its hub: malformed JSON or batch, invalid UTF-8, too large, not matching the hub\'s telemetry schema, or a bad property. `detail` names the first problem; nothing from the request was stored.',
  },
  'ingest.throttled': {
    status: 429,
    title: 'Too many failed attempts',
    description: 'This source address failed authentication too often and is refused for a while (`Retry-After`).',
  },
  'access.denied': {
    status: 403,
    title: 'Forbidden',
    description: 'The caller\'s role does not grant this action. (Objects the caller may not see answer 404 instead.)',
  },
  'sso.disabled': {
    status: 404,
    title: 'Single sign-on not enabled',
    description: 'This Rampart does not offer sign-in through an external OpenID Connect provider (`identity.sso.enabled` is false).',
  },
  'sso.unavailable': {
    status: 503,
    title: 'Single sign-on provider unavailable',
    description: 'The OpenID Connect provider\'s discovery document could not be read or is not valid for `identity.sso.issuer`. Retry later; the log names the cause.',
  },
  'sso.failed': {
    status: 401,
    title: 'Single sign-on failed',
    description: 'The sign-in through the OpenID Connect provider could not be completed: the request is unknown, expired (10 minutes) or already used, the provider returned an error, or its ID token failed validation. Start sign-in again. The answer is the same in every case; the log has the reason.',
  },
  'sso.unmapped': {
    status: 403,
    title: 'No Rampart role for this identity',
    description: 'The provider vouched for the user, but none of the values of their `identity.sso.rolesClaim` claim is listed in `identity.sso.roleMap` (deny by default). An administrator must map one of the user\'s groups to a role.',
  },
  'sso.username_invalid': {
    status: 403,
    title: 'No usable username for this identity',
    description: 'The provider\'s ID token lacks the `identity.sso.usernameClaim` claim, or its value (lower-cased) is not a valid Rampart username: 2 to 64 characters, a letter first, then letters, digits, `.`, `_` or `-`.',
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
