import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { constantTimeEqual } from '../../crypto/compare.ts';
import { recordChange, type AuditedChange } from '../../audit/append.ts';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId, randomToken } from '../../kernel/ids.ts';
import type { Database } from '../../storage/database.ts';
import { decodeCursor, encodeCursor } from '../../storage/listing.ts';
import type { ServicePrincipalTable, Tables } from '../../storage/tables.ts';
import { SERVICE_SCOPES, type ServiceScope } from '../rbac.ts';

// Service principals: machine clients that obtain short-lived access tokens with
// the OAuth 2.0 client-credentials grant. The client secret is 256 bits from the
// CSPRNG and is shown once; the table keeps only a domain-separated SHA-256 of
// it. A secret of that strength cannot be guessed, so no password-style
// stretching is needed, and a database reader learns nothing usable.
// Every change appends its audit entry in the same transaction.

export const PRINCIPAL_NAME_PATTERN = '^[a-z][a-z0-9._-]{1,63}$';
const NAME = new RegExp(PRINCIPAL_NAME_PATTERN);

/** Client ids are `sp_` + 22 base64url characters; anything longer is not ours and is not looked up. */
const MAX_CLIENT_ID = 64;
/** Secrets are 43 base64url characters; longer input is refused before hashing. */
const MAX_SECRET = 256;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export type PrincipalStatus = ServicePrincipalTable['status'];

/** A service principal as callers see it: never the secret or its hash. */
export interface ServicePrincipal {
  readonly id: string;
  readonly name: string;
  readonly clientId: string;
  readonly scopes: readonly ServiceScope[];
  readonly status: PrincipalStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A principal with its new client secret: show the secret once, never store or log it. */
export interface IssuedCredentials {
  readonly principal: ServicePrincipal;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Who makes a change, for the audit entry. */
export type ChangeBy = AuditedChange;

export interface PrincipalPage {
  readonly items: readonly ServicePrincipal[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface ServicePrincipalsOptions {
  readonly database: Database;
  readonly clock: Clock;
}

export function hashClientSecret(secret: string): Buffer {
  return createHash('sha256').update(`rampart/service-principal-secret/v1\0${secret}`).digest();
}

function isServiceScope(value: unknown): value is ServiceScope {
  return typeof value === 'string' && (SERVICE_SCOPES as readonly string[]).includes(value);
}

/** The stored scopes that are still grantable, in SERVICE_SCOPES order. */
function parseScopes(stored: string): ServiceScope[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return SERVICE_SCOPES.filter((scope) => parsed.includes(scope));
}

function toPrincipal(row: ServicePrincipalTable): ServicePrincipal {
  return { id: row.id, name: row.name, clientId: row.client_id, scopes: parseScopes(row.scopes), status: row.status, createdAt: row.created_at, updatedAt: row.updated_at };
}

function validateName(name: string): void {
  if (!NAME.test(name)) {
    throw new RampartError('request.invalid', `service principal name ${JSON.stringify(name.slice(0, 80))} does not match ${PRINCIPAL_NAME_PATTERN}`, {
      publicDetail: 'name must be 2 to 64 characters: a lower-case letter, then lower-case letters, digits, ".", "_" or "-"',
    });
  }
}

function validateScopes(scopes: readonly string[]): ServiceScope[] {
  if (scopes.length === 0) throw new RampartError('request.invalid', 'a service principal needs at least one scope', { publicDetail: 'scopes must not be empty' });
  const unknown = scopes.filter((s) => !isServiceScope(s));
  if (unknown.length > 0) {
    throw new RampartError('request.invalid', `scopes not grantable to a service principal: ${unknown.join(', ')}`, {
      publicDetail: `scopes must be among: ${SERVICE_SCOPES.join(', ')}`,
    });
  }
  return SERVICE_SCOPES.filter((scope) => scopes.includes(scope));
}

/** The name a page cursor carries: the list is keyed by name. */
function afterName(cursor: string): string {
  return decodeCursor(cursor, ([name, ...rest]) => (typeof name === 'string' && rest.length === 0 && NAME.test(name) ? name : undefined), {
    message: 'malformed service principal cursor',
    detail: 'cursor is not one this endpoint returned',
  });
}

/** An ISO time strictly after `previous`, so every change gives the row a new version (see principalVersion). */
function nextUpdate(now: Date, previous: string): string {
  return new Date(Math.max(now.getTime(), Date.parse(previous) + 1)).toISOString();
}

/**
 * A short fingerprint of the principal's current version. Access tokens carry it,
 * so any change to the principal (disable, enable, secret rotation) ends the
 * tokens issued before it, even if the principal is enabled again.
 */
export function principalVersion(principal: Pick<ServicePrincipal, 'id' | 'updatedAt'>): string {
  return createHash('sha256').update(`rampart/service-principal-version/v1\0${principal.id}\0${principal.updatedAt}`).digest('base64url').slice(0, 22);
}

// Compared against when the client id is unknown, so both paths do the same work.
const NO_SECRET_HASH = hashClientSecret(randomToken(32));

export class ServicePrincipals {
  readonly #database: Database;
  readonly #clock: Clock;

  constructor(options: ServicePrincipalsOptions) {
    this.#database = options.database;
    this.#clock = options.clock;
  }

  /** Creates an active principal and its first secret. Throws `oauth.principal_name_taken` for a taken name. */
  async create(input: { readonly name: string; readonly scopes: readonly string[] }, by: ChangeBy): Promise<IssuedCredentials> {
    validateName(input.name);
    const scopes = validateScopes(input.scopes);
    const now = this.#clock.now().toISOString();
    const clientSecret = randomToken(32);
    const row: ServicePrincipalTable = {
      id: newId('svc'),
      name: input.name,
      client_id: newId('sp'),
      secret_hash: hashClientSecret(clientSecret).toString('base64url'),
      scopes: JSON.stringify(scopes),
      status: 'active',
      created_at: now,
      updated_at: now,
    };
    try {
      await this.#database.db.transaction().execute(async (trx) => {
        const taken = await trx.selectFrom('service_principals').select('id').where('name', '=', input.name).executeTakeFirst();
        if (taken !== undefined) throw nameTaken(input.name);
        await trx.insertInto('service_principals').values(row).execute();
        await this.#audit(trx, 'service_principal.create', row, by);
      });
    } catch (error) {
      if (this.#database.isUniqueViolation(error)) throw nameTaken(input.name, error);
      throw error;
    }
    const principal = toPrincipal(row);
    return { principal, clientId: principal.clientId, clientSecret };
  }

  /** One page, ordered by name. */
  async list(options: { readonly limit?: number; readonly cursor?: string } = {}): Promise<PrincipalPage> {
    const requested = options.limit !== undefined && Number.isFinite(options.limit) ? Math.trunc(options.limit) : DEFAULT_PAGE_SIZE;
    const limit = Math.min(Math.max(requested, 1), MAX_PAGE_SIZE);
    let query = this.#database.db.selectFrom('service_principals').selectAll().orderBy('name').limit(limit + 1);
    if (options.cursor !== undefined) query = query.where('name', '>', afterName(options.cursor));
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(toPrincipal), nextCursor: rows.length > limit && last !== undefined ? encodeCursor([last.name]) : null };
  }

  async get(id: string): Promise<ServicePrincipal | undefined> {
    const row = await this.#database.db.selectFrom('service_principals').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toPrincipal(row);
  }

  /** Disables the principal: its secret and every token issued to it stop working at once. Undefined: no such principal. */
  async disable(id: string, by: ChangeBy): Promise<ServicePrincipal | undefined> {
    return this.#setStatus(id, 'disabled', 'service_principal.disable', by);
  }

  /** Enables the principal again; tokens issued before it was disabled stay invalid. */
  async enable(id: string, by: ChangeBy): Promise<ServicePrincipal | undefined> {
    return this.#setStatus(id, 'active', 'service_principal.enable', by);
  }

  /** Replaces the secret: the old one stops working at once, as do tokens issued with it. Undefined: no such principal. */
  async rotateSecret(id: string, by: ChangeBy): Promise<IssuedCredentials | undefined> {
    const clientSecret = randomToken(32);
    const updated = await this.#change(id, (row) => ({ secret_hash: hashClientSecret(clientSecret).toString('base64url'), updated_at: nextUpdate(this.#clock.now(), row.updated_at) }), 'service_principal.rotate_secret', by);
    if (updated === undefined) return undefined;
    return { principal: updated, clientId: updated.clientId, clientSecret };
  }

  /**
   * The principal whose client id and secret these are (whatever its status), or
   * undefined. Unknown client ids and wrong secrets take the same path and time;
   * the secret is compared by hash, in constant time.
   */
  async authenticate(clientId: string, clientSecret: string): Promise<ServicePrincipal | undefined> {
    const row = clientId.length > 0 && clientId.length <= MAX_CLIENT_ID
      ? await this.#database.db.selectFrom('service_principals').selectAll().where('client_id', '=', clientId).executeTakeFirst()
      : undefined;
    const presented = hashClientSecret(clientSecret.length <= MAX_SECRET ? clientSecret : '');
    const stored = row === undefined ? NO_SECRET_HASH : Buffer.from(row.secret_hash, 'base64url');
    const matches = constantTimeEqual(stored, presented);
    return row !== undefined && matches && clientSecret.length <= MAX_SECRET ? toPrincipal(row) : undefined;
  }

  async #setStatus(id: string, status: PrincipalStatus, action: string, by: ChangeBy): Promise<ServicePrincipal | undefined> {
    return this.#change(id, (row) => (row.status === status ? undefined : { status, updated_at: nextUpdate(this.#clock.now(), row.updated_at) }), action, by);
  }

  /**
   * Applies `patch` to the row and audits it in one transaction. A patch of
   * undefined means nothing to change (e.g. disabling a disabled principal): no entry.
   */
  async #change(
    id: string,
    patch: (row: ServicePrincipalTable) => Partial<Pick<ServicePrincipalTable, 'status' | 'secret_hash' | 'updated_at'>> | undefined,
    action: string,
    by: ChangeBy,
  ): Promise<ServicePrincipal | undefined> {
    return this.#database.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('service_principals').selectAll().where('id', '=', id).executeTakeFirst();
      if (row === undefined) return undefined;
      const changes = patch(row);
      if (changes === undefined) return toPrincipal(row);
      // Only if nobody changed the row since we read it; otherwise the caller retries on fresh state.
      const result = await trx.updateTable('service_principals').set(changes).where('id', '=', id).where('updated_at', '=', row.updated_at).executeTakeFirst();
      if (result.numUpdatedRows !== 1n) throw new RampartError('storage.conflict', `service principal ${id} changed concurrently`);
      const updated = { ...row, ...changes };
      await this.#audit(trx, action, updated, by);
      return toPrincipal(updated);
    });
  }

  async #audit(trx: Kysely<Tables>, action: string, row: ServicePrincipalTable, by: ChangeBy): Promise<void> {
    await recordChange(trx, this.#clock, by, action, { type: 'service_principal', id: row.id }, { name: row.name, client_id: row.client_id, scopes: parseScopes(row.scopes), status: row.status });
  }
}

function nameTaken(name: string, cause?: unknown): RampartError {
  return new RampartError('oauth.principal_name_taken', `a service principal named ${name} already exists`, cause === undefined ? {} : { cause });
}
