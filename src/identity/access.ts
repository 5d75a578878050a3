import type {} from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../crypto/compare.ts';
import type { AuditActor, AuditContext } from '../audit/append.ts';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import type { PlaneApp } from '../http/plane.ts';
import type { Db } from '../storage/database.ts';
import type { SessionStage } from '../storage/tables.ts';
import { can, STEP_UP, type AccountActor, type Actor, type Permission, type Role, type ServiceActor } from './rbac.ts';
import { csrfTokenFor, SESSION_COOKIE, CSRF_HEADER, type SessionRow, type Sessions } from './sessions.ts';

// Authentication and authorisation for the app plane, in one onRequest hook
// that runs before any body is parsed. Every /api/ route declares `config.access`;
// one without a declaration is refused (deny by default) and fails the route walk test.

export type Access =
  /** Anyone: sign-in, token endpoint, SSO callback, public receipt check. */
  | { readonly public: true }
  /** A browser session in one of these stages (sign-in steps: `mfa`, `enrol`; step-up and session info also `active`). */
  | { readonly session: readonly SessionStage[] }
  /** A signed-in actor whose role (or scope) grants this permission. */
  | { readonly permission: Permission };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    actor: Actor | undefined;
    session: SessionRow | undefined;
  }
}

export interface AccessDeps {
  readonly db: Db;
  readonly sessions: Sessions;
  readonly clock: Clock;
  readonly stepUpMinutes: number;
  /** Verifies a bearer access token; throws `auth.token_invalid`. */
  readonly verifyBearer?: (token: string) => Promise<ServiceActor>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function readCookie(request: FastifyRequest): string | undefined {
  const value = request.cookies[SESSION_COOKIE];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: Access | undefined;
}

const declaredRoutes = new WeakMap<object, DeclaredRoute[]>();

/** Every route added after access control was installed, with its declaration. */
export function routesOf(app: PlaneApp): readonly DeclaredRoute[] {
  return declaredRoutes.get(app) ?? [];
}

export function installAccessControl(app: PlaneApp, deps: AccessDeps): void {
  app.decorateRequest('actor', undefined);
  app.decorateRequest('session', undefined);

  const routes: DeclaredRoute[] = [];
  declaredRoutes.set(app, routes);
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access });
    // Deny by default, caught at start-up rather than at the first request.
    if (access === undefined && route.url.startsWith('/api/')) throw new Error(`route ${[route.method].flat().join(',')} ${route.url} declares no access rule (config.access)`);
  });

  app.addHook('onRequest', async (request, reply) => {
    const url = request.routeOptions.url;
    if (url === undefined) return;
    const access = request.routeOptions.config.access;
    if (access === undefined) {
      if (!url.startsWith('/api/')) return;
      request.log.error({ route: url }, 'route declares no access rule: refused');
      throw new RampartError('access.denied', `route ${url} declares no access rule`);
    }

    if (!SAFE_METHODS.has(request.method)) checkOrigin(request);
    // Public routes act on no one's authority, so they read no credentials here: a stale
    // cookie cannot block signing in, and the token endpoint reads its own HTTP Basic header.
    if ('public' in access) return;

    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization);
      if (match?.[1] === undefined || deps.verifyBearer === undefined) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"');
        throw new RampartError('auth.token_invalid', 'malformed or unsupported Authorization header');
      }
      try {
        request.actor = await deps.verifyBearer(match[1]);
      } catch (error) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"');
        throw error;
      }
    } else {
      const token = readCookie(request);
      if (token !== undefined) {
        const session = await deps.sessions.resolve(token);
        if (session !== undefined) {
          if (!SAFE_METHODS.has(request.method)) {
            const sent = request.headers[CSRF_HEADER];
            if (typeof sent !== 'string' || !constantTimeEqual(sent, csrfTokenFor(token))) {
              throw new RampartError('auth.csrf_failed', 'missing or wrong CSRF token on a cookie-authenticated request');
            }
          }
          const account = await deps.db.selectFrom('accounts').select(['id', 'username', 'role', 'status', 'depot_scope']).where('id', '=', session.account_id).executeTakeFirst();
          if (account?.status === 'active') {
            request.session = session;
            if (session.stage === 'active') {
              request.actor = {
                kind: 'account',
                id: account.id,
                username: account.username,
                role: account.role,
                depots: account.depot_scope === null ? null : (JSON.parse(account.depot_scope) as string[]),
                sessionId: session.id,
                authMethod: session.mfa_method === null ? session.auth_method : `${session.auth_method}+${session.mfa_method}`,
                mfaAt: session.mfa_at,
              };
            }
          }
        }
      }
    }

    if ('session' in access) {
      if (request.session === undefined || !access.session.includes(request.session.stage)) {
        throw new RampartError('auth.required', `this step needs a session in stage ${access.session.join(' or ')}`);
      }
      return;
    }
    const actor = request.actor;
    if (actor === undefined) {
      if (request.session?.stage === 'mfa') throw new RampartError('auth.mfa_required', 'second factor pending');
      if (request.session?.stage === 'enrol') throw new RampartError('auth.enrolment_required', 'second factor enrolment pending');
      throw new RampartError('auth.required', 'no valid session or token');
    }
    if (!can(actor, access.permission)) {
      request.log.warn({ actor: actor.id, permission: access.permission }, 'access denied');
      throw new RampartError('access.denied', `${actor.kind} ${actor.id} lacks ${access.permission}`);
    }
    if (STEP_UP.has(access.permission) && actor.kind === 'account' && !recentlyProven(actor, deps)) {
      throw new RampartError('auth.step_up_required', `${access.permission} needs a second factor within ${deps.stepUpMinutes} minutes`);
    }
  });
}

function recentlyProven(actor: AccountActor, deps: AccessDeps): boolean {
  return actor.mfaAt !== null && deps.clock.now().getTime() - Date.parse(actor.mfaAt) < deps.stepUpMinutes * 60_000;
}

/** When a browser says where a state-changing request comes from, it must be this origin. */
function checkOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new RampartError('auth.csrf_failed', 'malformed Origin header');
  }
  if (host !== request.host) throw new RampartError('auth.csrf_failed', `cross-origin request from ${origin}`);
}

/** The signed-in account, or `auth.required`. */
export function accountOf(request: FastifyRequest): AccountActor {
  const actor = request.actor;
  if (actor?.kind !== 'account') throw new RampartError('auth.required', 'an account session is required');
  return actor;
}

export function auditActor(actor: Actor | undefined): AuditActor {
  if (actor === undefined) return { type: 'anonymous' };
  if (actor.kind === 'service') return { type: 'service', id: actor.id, authMethod: 'client_credentials' };
  return { type: 'account', id: actor.id, authMethod: actor.authMethod };
}

export function auditContext(request: FastifyRequest): AuditContext {
  const userAgent = request.headers['user-agent'];
  return { sourceIp: request.ip, requestId: request.id, ...(userAgent === undefined ? {} : { userAgent }) };
}

export type { Role };
