import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { appendAudit, type AuditActor, type JsonValue } from '../../audit/append.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { PlaneApp } from '../../http/plane.ts';
import type { Clock } from '../../kernel/clock.ts';
import { isRampartError, RampartError } from '../../kernel/errors.ts';
import type { Db } from '../../storage/database.ts';
import { auditActor, auditContext } from '../access.ts';
import { SERVICE_SCOPES, type ServiceScope } from '../rbac.ts';
import { issueAccessToken, type TokenConfig } from './access-tokens.ts';
import { MAX_PAGE_SIZE, PRINCIPAL_NAME_PATTERN, type IssuedCredentials, type ServicePrincipal, type ServicePrincipals } from './principals.ts';

// The OAuth 2.0 token endpoint (RFC 6749 §4.4, client credentials) and the
// administration of service principals. The token endpoint answers in the
// RFC 6749 format, not as problem documents, because OAuth clients expect it.

export const TOKEN_PATH = '/api/v1/oauth/token';
const FORM_TYPE = 'application/x-www-form-urlencoded';
const BASIC_REALM = 'Basic realm="rampart"';
/** Longest client_id recorded in an audit entry of a failed request (it is caller-supplied). */
const MAX_AUDITED_CLIENT_ID = 128;

export type TokenErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope';

export interface OAuthRouteDeps {
  readonly db: Db;
  readonly principals: ServicePrincipals;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly config: TokenConfig;
}

export interface ServicePrincipalRouteDeps {
  readonly principals: ServicePrincipals;
}

const TokenResponseSchema = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer(),
    scope: Type.String(),
  },
  { additionalProperties: false },
);

/** A refusal in RFC 6749 §5.2 form. `description` is public: ASCII, no quotes or backslashes. */
class TokenFailure extends Error {
  readonly error: TokenErrorCode;
  readonly description: string;
  /** The principal, when the client authenticated before the request failed. */
  readonly principal: ServicePrincipal | undefined;

  constructor(error: TokenErrorCode, description: string, principal?: ServicePrincipal) {
    super(`${error}: ${description}`);
    this.error = error;
    this.description = description;
    this.principal = principal;
  }
}

type Credentials = { readonly method: 'basic' | 'post'; readonly clientId: string; readonly clientSecret: string };

interface TokenParams {
  readonly grantType: string | undefined;
  readonly scope: string | undefined;
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
}

function mediaType(request: FastifyRequest): string | undefined {
  const header = request.headers['content-type'];
  return header?.split(';')[0]?.trim().toLowerCase();
}

/** RFC 6749 §3.1/§3.2: parameters at most once; an empty value counts as absent. */
function readParams(body: unknown): TokenParams {
  if (typeof body !== 'object' || body === null) throw new TokenFailure('invalid_request', 'the request body must be application/x-www-form-urlencoded');
  const fields = body as Record<string, unknown>;
  const one = (name: string): string | undefined => {
    const value = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new TokenFailure('invalid_request', `parameter ${name} must be given once`);
    return value;
  };
  return { grantType: one('grant_type'), scope: one('scope'), clientId: one('client_id'), clientSecret: one('client_secret') };
}

/** Form-urldecoding of the Basic user-id and password (RFC 6749 §2.3.1). */
function formDecode(value: string): string {
  return decodeURIComponent(value.replaceAll('+', ' '));
}

/** The client's credentials from exactly one method: HTTP Basic or the body. */
function readCredentials(authorization: string | undefined, params: TokenParams): Credentials {
  if (authorization !== undefined) {
    if (params.clientId !== undefined || params.clientSecret !== undefined) {
      throw new TokenFailure('invalid_request', 'use one client authentication method: HTTP Basic or client_id and client_secret in the body, not both');
    }
    const match = /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(authorization.trim());
    const decoded = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new TokenFailure('invalid_client', 'client authentication failed');
    try {
      return { method: 'basic', clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
    } catch {
      throw new TokenFailure('invalid_client', 'client authentication failed');
    }
  }
  if (params.clientId === undefined || params.clientSecret === undefined) throw new TokenFailure('invalid_client', 'client authentication required');
  return { method: 'post', clientId: params.clientId, clientSecret: params.clientSecret };
}

/** The scopes to grant: the requested ones (all within the principal's), or all the principal's. */
function grantedScopes(requested: string | undefined, principal: ServicePrincipal): ServiceScope[] {
  if (requested === undefined) {
    if (principal.scopes.length === 0) throw new TokenFailure('unauthorized_client', 'the client holds no grantable scope', principal);
    return [...principal.scopes];
  }
  const names = requested.split(' ');
  const granted = principal.scopes as readonly string[];
  if (names.some((name) => !granted.includes(name))) throw new TokenFailure('invalid_scope', 'the requested scope exceeds the scope granted to the client', principal);
  return SERVICE_SCOPES.filter((scope) => names.includes(scope));
}

function sendFailure(reply: FastifyReply, failure: TokenFailure, basic: boolean): FastifyReply {
  const status = failure.error === 'invalid_client' && basic ? 401 : 400;
  if (status === 401) void reply.header('www-authenticate', BASIC_REALM);
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .type('application/json; charset=utf-8')
    .send({ error: failure.error, error_description: failure.description });
}

/** POST /api/v1/oauth/token: the client-credentials grant. */
export function registerOAuthRoutes(app: PlaneApp, deps: OAuthRouteDeps): void {
  const audit = async (request: FastifyRequest, actor: AuditActor, outcome: 'success' | 'failure', principal: ServicePrincipal | undefined, details: Record<string, JsonValue>) => {
    await deps.db.transaction().execute(async (trx) => {
      await appendAudit(
        trx,
        {
          action: 'oauth.token',
          outcome,
          actor,
          ...(principal === undefined ? {} : { target: { type: 'service_principal', id: principal.id } }),
          context: auditContext(request),
          details,
        },
        deps.clock,
      );
    });
  };

  /** Validates the request and issues the token; `attempt` learns the client id the caller presented. */
  const issue = async (request: FastifyRequest, attempt: { clientId: string | undefined }): Promise<{ principal: ServicePrincipal; body: { access_token: string; token_type: 'Bearer'; expires_in: number; scope: string }; tokenId: string }> => {
    if (mediaType(request) !== FORM_TYPE) throw new TokenFailure('invalid_request', 'the request body must be application/x-www-form-urlencoded');
    const params = readParams(request.body);
    attempt.clientId = params.clientId;
    const credentials = readCredentials(request.headers.authorization, params);
    attempt.clientId = credentials.clientId;
    if (params.grantType === undefined) throw new TokenFailure('invalid_request', 'grant_type is required');
    if (params.grantType !== 'client_credentials') throw new TokenFailure('unsupported_grant_type', 'only the client_credentials grant is supported');
    // Unknown client, wrong secret and disabled client: one answer.
    const principal = await deps.principals.authenticate(credentials.clientId, credentials.clientSecret);
    if (principal?.status !== 'active') throw new TokenFailure('invalid_client', 'client authentication failed');
    const scopes = grantedScopes(params.scope, principal);
    const token = await issueAccessToken({ keyring: deps.keyring, clock: deps.clock, config: deps.config, principal, scopes });
    return { principal, tokenId: token.tokenId, body: { access_token: token.accessToken, token_type: token.tokenType, expires_in: token.expiresIn, scope: token.scope } };
  };

  void app.register(async (scope) => {
    // Form bodies are parsed for this endpoint only.
    await scope.register(formbody);

    // Body-parsing failures (unsupported type, too large, malformed) answer in the OAuth format too.
    // Errors of our own (access control, draining) keep the plane's problem documents.
    scope.setErrorHandler((error, request, reply) => {
      const status = typeof (error as { statusCode?: unknown }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : 500;
      if (isRampartError(error) || status >= 500 || status < 400) throw error;
      request.log.info({ code: (error as { code?: unknown }).code }, 'token request refused before parsing');
      return sendFailure(reply, new TokenFailure('invalid_request', 'the request body could not be read as application/x-www-form-urlencoded'), false);
    });

    scope.post(
      TOKEN_PATH,
      { config: { access: { public: true } }, schema: { response: { 200: TokenResponseSchema } } },
      async (request, reply) => {
        const basic = request.headers.authorization !== undefined;
        const attempt: { clientId: string | undefined } = { clientId: undefined };
        let result: Awaited<ReturnType<typeof issue>>;
        try {
          result = await issue(request, attempt);
        } catch (error) {
          if (!(error instanceof TokenFailure)) throw error;
          const principal = error.principal;
          const clientId = principal?.clientId ?? attempt.clientId?.slice(0, MAX_AUDITED_CLIENT_ID) ?? null;
          const actor: AuditActor = principal === undefined ? { type: 'anonymous' } : { type: 'service', id: principal.id, authMethod: 'client_credentials' };
          await audit(request, actor, 'failure', principal, { client_id: clientId, error: error.error });
          request.log.info({ error: error.error, clientAuth: basic ? 'basic' : 'post' }, 'token request refused');
          return sendFailure(reply, error, basic);
        }
        const { principal, body, tokenId } = result;
        await audit(request, { type: 'service', id: principal.id, authMethod: 'client_credentials' }, 'success', principal, {
          client_id: principal.clientId,
          scope: body.scope,
          jti: tokenId,
          expires_in: body.expires_in,
        });
        return reply.code(200).header('cache-control', 'no-store').header('pragma', 'no-cache').send(body);
      },
    );
  });
}

const ScopeSchema = Type.Enum([...SERVICE_SCOPES]);

const PrincipalSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    clientId: Type.String(),
    scopes: Type.Array(ScopeSchema),
    status: Type.Enum(['active', 'disabled']),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);

const CredentialsSchema = Type.Object(
  {
    principal: PrincipalSchema,
    clientId: Type.String(),
    /** Shown once. */
    clientSecret: Type.String(),
  },
  { additionalProperties: false },
);

const PageSchema = Type.Object({ items: Type.Array(PrincipalSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false });

const IdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

const ListQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);

const CreateBodySchema = Type.Object(
  {
    name: Type.String({ pattern: PRINCIPAL_NAME_PATTERN }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: SERVICE_SCOPES.length, uniqueItems: true }),
  },
  { additionalProperties: false },
);

const MANAGE = { access: { permission: 'service_principal.manage' } } as const;

function found<T>(value: T | undefined, id: string): T {
  if (value === undefined) throw new RampartError('route.not_found', `no service principal ${id}`);
  return value;
}

function principalView(principal: ServicePrincipal) {
  return { ...principal, scopes: [...principal.scopes] };
}

function credentialsView(credentials: IssuedCredentials) {
  return { principal: principalView(credentials.principal), clientId: credentials.clientId, clientSecret: credentials.clientSecret };
}

/** Administration of service principals; every route needs `service_principal.manage`. */
export function registerServicePrincipalRoutes(app: PlaneApp, deps: ServicePrincipalRouteDeps): void {
  const { principals } = deps;
  const by = (request: FastifyRequest) => ({ actor: auditActor(request.actor), context: auditContext(request) });

  app.post(
    '/api/v1/service-principals',
    { config: MANAGE, schema: { body: CreateBodySchema, response: { 201: CredentialsSchema } } },
    async (request, reply) => {
      const created = await principals.create(request.body, by(request));
      return reply.code(201).send(credentialsView(created));
    },
  );

  app.get('/api/v1/service-principals', { config: MANAGE, schema: { querystring: ListQuerySchema, response: { 200: PageSchema } } }, async (request) => {
    const page = await principals.list({ ...(request.query.limit === undefined ? {} : { limit: request.query.limit }), ...(request.query.cursor === undefined ? {} : { cursor: request.query.cursor }) });
    return { items: page.items.map(principalView), nextCursor: page.nextCursor };
  });

  app.get('/api/v1/service-principals/:id', { config: MANAGE, schema: { params: IdParamsSchema, response: { 200: PrincipalSchema } } }, async (request) => {
    return principalView(found(await principals.get(request.params.id), request.params.id));
  });

  app.post('/api/v1/service-principals/:id/disable', { config: MANAGE, schema: { params: IdParamsSchema, response: { 200: PrincipalSchema } } }, async (request) => {
    return principalView(found(await principals.disable(request.params.id, by(request)), request.params.id));
  });

  app.post('/api/v1/service-principals/:id/enable', { config: MANAGE, schema: { params: IdParamsSchema, response: { 200: PrincipalSchema } } }, async (request) => {
    return principalView(found(await principals.enable(request.params.id, by(request)), request.params.id));
  });

  app.post('/api/v1/service-principals/:id/rotate-secret', { config: MANAGE, schema: { params: IdParamsSchema, response: { 200: CredentialsSchema } } }, async (request) => {
    return credentialsView(found(await principals.rotateSecret(request.params.id, by(request)), request.params.id));
  });
}
