import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import Type from 'typebox';
import { appendAudit } from '../audit/append.ts';
import { RampartError } from '../kernel/errors.ts';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { accountOf, auditContext } from './access.ts';
import { assertRecentMfa, type Identity } from './identity.ts';
import { issueRecoveryCodes, useRecoveryCode } from './mfa/recovery.ts';
import { burnTotpStep, hasTotp, startTotpEnrolment, verifyTotpCode } from './mfa/totp.ts';
import { checkPasswordPolicy, hashPassword, MAX_PASSWORD, verifyPassword } from './passwords.ts';
import type { Tables } from '../storage/tables.ts';
import { grants, PERMISSIONS } from './rbac.ts';
import { csrfTokenFor, SESSION_COOKIE, type SessionRow } from './sessions.ts';
import { secondFactorsOf, type RequestContext, type SessionGrant } from './signin.ts';

// Sign-in, second factors, enrolment, step-up, logout and password change.
// Routes that continue a sign-in accept a session in a given stage; the rest
// need a fully signed-in account.

const Username = Type.String({ minLength: 1, maxLength: 64 });
// Longer than the policy maximum so that an over-long password gets the policy's message, not a schema error.
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD * 4 });
const OneTimeCode = Type.String({ minLength: 6, maxLength: 64 });

export const SessionStateSchema = Type.Object({
  stage: Type.Union([Type.Literal('mfa'), Type.Literal('enrol'), Type.Literal('active')]),
  csrfToken: Type.String({ description: 'Send as X-CSRF-Token on every state-changing request.' }),
  account: Type.Object({ id: Type.String(), username: Type.String(), role: Type.String() }),
  permissions: Type.Array(Type.Enum(PERMISSIONS), { description: 'What the account\'s role grants (once signed in; empty before). The server still checks every request; clients use this only to leave out what would be refused.' }),
  factors: Type.Object({ totp: Type.Boolean(), passkeys: Type.Integer(), recoveryCodes: Type.Integer() }),
  mfaAt: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.String(),
  idleExpiresAt: Type.String(),
});

const Errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 409: ProblemSchema };

export function requestContext(request: FastifyRequest): RequestContext {
  return { ...auditContext(request), sourceIp: request.ip, userAgent: request.headers['user-agent'] ?? '' };
}

export function setSessionCookie(reply: FastifyReply, token: string): void {
  // Secure even on plain-HTTP loopback: browsers treat localhost as a secure context.
  void reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
}

function clearSessionCookie(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
}

function liveSession(request: FastifyRequest): SessionRow {
  const session = request.session;
  if (session === undefined) throw new RampartError('auth.required', 'no session');
  return session;
}

export async function sessionState(identity: Identity, token: string, session: SessionRow) {
  const account = await identity.db.selectFrom('accounts').select(['id', 'username', 'role']).where('id', '=', session.account_id).executeTakeFirstOrThrow();
  return {
    stage: session.stage,
    csrfToken: csrfTokenFor(token),
    account,
    permissions: session.stage === 'active' ? [...grants(account.role)] : [],
    factors: await secondFactorsOf(identity.db, session.account_id),
    mfaAt: session.mfa_at,
    expiresAt: session.expires_at,
    idleExpiresAt: new Date(Math.min(Date.parse(session.last_seen_at) + identity.sessions.idleMs, Date.parse(session.expires_at))).toISOString(),
  };
}

export async function grantSession(identity: Identity, reply: FastifyReply, grant: SessionGrant) {
  setSessionCookie(reply, grant.token);
  return sessionState(identity, grant.token, grant.session);
}

function cookieToken(request: FastifyRequest): string {
  const token = request.cookies[SESSION_COOKIE];
  if (token === undefined) throw new RampartError('auth.required', 'no session cookie');
  return token;
}

/** After the first factor is enrolled, or a factor changes: signed in, other sessions end (ASVS 7.4.3). */
export async function completeEnrolment(identity: Identity, request: FastifyRequest, reply: FastifyReply, method: string, store: (trx: Kysely<Tables>) => Promise<Record<string, string>>) {
  const session = liveSession(request);
  const context = requestContext(request);
  const result = await identity.db.transaction().execute(async (trx) => {
    const details = await store(trx);
    const token = await identity.sessions.elevate(trx, session.id, { stage: 'active', mfaAt: identity.clock.now().toISOString(), mfaMethod: method });
    const ended = await identity.sessions.endAll(trx, session.account_id, 'factor_changed', session.id);
    const remaining = await trx.selectFrom('recovery_codes').select('id').where('account_id', '=', session.account_id).where('used_at', 'is', null).executeTakeFirst();
    const recoveryCodes = remaining === undefined ? await issueRecoveryCodes(trx, identity.clock, session.account_id) : undefined;
    await appendAudit(trx, { action: 'mfa.enrol', outcome: 'success', actor: { type: 'account', id: session.account_id, authMethod: session.auth_method }, target: { type: 'account', id: session.account_id }, context, details: { method, other_sessions_ended: ended, recovery_codes_issued: recoveryCodes !== undefined, ...details } }, identity.clock);
    return { token, recoveryCodes };
  });
  const state = await grantSession(identity, reply, { token: result.token, session: await identity.sessions.get(session.id) });
  return { ...state, ...(result.recoveryCodes === undefined ? {} : { recoveryCodes: result.recoveryCodes }) };
}

export function registerAuthRoutes(app: PlaneApp, identity: Identity): void {
  const { db, keyring, clock, signIn, sessions } = identity;

  app.post(
    '/api/v1/auth/login',
    {
      config: { access: { public: true } },
      schema: { tags: ['auth'], summary: 'Sign in with username and password (step one)', body: Type.Object({ username: Username, password: Password }, { additionalProperties: false }), response: { 200: SessionStateSchema, ...Errors } },
    },
    async (request, reply) => grantSession(identity, reply, await signIn.password(request.body.username, request.body.password, requestContext(request))),
  );

  app.post(
    '/api/v1/auth/setup',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['auth'],
        summary: 'First sign-in with a one-time setup code: set the password',
        body: Type.Object({ username: Username, setupCode: Type.String({ minLength: 10, maxLength: 80 }), password: Password }, { additionalProperties: false }),
        response: { 200: SessionStateSchema, ...Errors },
      },
    },
    async (request, reply) => grantSession(identity, reply, await signIn.setup(request.body.username, request.body.setupCode, request.body.password, requestContext(request))),
  );

  app.get(
    '/api/v1/auth/session',
    { config: { access: { session: ['mfa', 'enrol', 'active'] } }, schema: { tags: ['auth'], summary: 'The current session, its stage and CSRF token', response: { 200: SessionStateSchema, 401: ProblemSchema } } },
    async (request) => sessionState(identity, cookieToken(request), liveSession(request)),
  );

  app.post(
    '/api/v1/auth/mfa/totp',
    {
      config: { access: { session: ['mfa', 'active'] } },
      schema: { tags: ['auth'], summary: 'Second factor or step-up with an authenticator-app code', body: Type.Object({ code: OneTimeCode }, { additionalProperties: false }), response: { 200: SessionStateSchema, ...Errors } },
    },
    async (request, reply) => {
      const session = liveSession(request);
      const verify = async () => {
        const step = await verifyTotpCode(db, keyring, clock, session.account_id, request.body.code);
        return step === undefined ? undefined : (trx: Kysely<Tables>) => burnTotpStep(trx, clock, session.account_id, step);
      };
      const grant = await signIn.secondFactor(session, 'totp', verify, requestContext(request));
      return grantSession(identity, reply, grant);
    },
  );

  app.post(
    '/api/v1/auth/mfa/recovery',
    {
      config: { access: { session: ['mfa', 'active'] } },
      schema: { tags: ['auth'], summary: 'Second factor with a single-use recovery code', body: Type.Object({ code: OneTimeCode }, { additionalProperties: false }), response: { 200: SessionStateSchema, ...Errors } },
    },
    async (request, reply) => {
      const session = liveSession(request);
      const burn = (trx: Kysely<Tables>) => useRecoveryCode(trx, clock, session.account_id, request.body.code);
      const grant = await signIn.secondFactor(session, 'recovery', () => Promise.resolve(burn), requestContext(request));
      return grantSession(identity, reply, grant);
    },
  );

  app.post(
    '/api/v1/auth/enrol/totp',
    {
      config: { access: { session: ['enrol', 'active'] } },
      schema: { tags: ['auth'], summary: 'Start enrolling an authenticator app', response: { 200: Type.Object({ secret: Type.String(), uri: Type.String() }), ...Errors } },
    },
    async (request) => {
      const session = liveSession(request);
      if (session.stage === 'active') assertRecentMfa(identity, session.mfa_at);
      if (await hasTotp(db, session.account_id)) throw new RampartError('identity.invalid_state', 'an authenticator app is already enrolled', { publicDetail: 'An authenticator app is already enrolled; remove it first.' });
      const account = await db.selectFrom('accounts').select(['id', 'username']).where('id', '=', session.account_id).executeTakeFirstOrThrow();
      return startTotpEnrolment(db, keyring, clock, account);
    },
  );

  app.post(
    '/api/v1/auth/enrol/totp/confirm',
    {
      config: { access: { session: ['enrol', 'active'] } },
      schema: {
        tags: ['auth'],
        summary: 'Finish enrolling an authenticator app with its current code',
        body: Type.Object({ code: OneTimeCode }, { additionalProperties: false }),
        response: { 200: Type.Intersect([SessionStateSchema, Type.Object({ recoveryCodes: Type.Optional(Type.Array(Type.String())) })]), ...Errors },
      },
    },
    async (request, reply) => {
      const session = liveSession(request);
      if (session.stage === 'active') assertRecentMfa(identity, session.mfa_at);
      const step = await verifyTotpCode(db, keyring, clock, session.account_id, request.body.code, true);
      if (step === undefined) throw new RampartError('auth.mfa_failed', 'enrolment code refused');
      return completeEnrolment(identity, request, reply, 'totp', async (trx) => {
        if (!(await burnTotpStep(trx, clock, session.account_id, step, true))) throw new RampartError('auth.mfa_failed', 'enrolment code used concurrently');
        return {};
      });
    },
  );

  app.post(
    '/api/v1/auth/recovery-codes',
    { config: { access: { permission: 'account.self' } }, schema: { tags: ['auth'], summary: 'Replace all recovery codes (needs a recent second factor)', response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }), ...Errors } } },
    async (request) => {
      const actor = accountOf(request);
      assertRecentMfa(identity, actor.mfaAt);
      const recoveryCodes = await db.transaction().execute(async (trx) => {
        const codes = await issueRecoveryCodes(trx, clock, actor.id);
        await appendAudit(trx, { action: 'mfa.recovery_codes_replaced', outcome: 'success', actor: { type: 'account', id: actor.id, authMethod: actor.authMethod }, target: { type: 'account', id: actor.id }, context: auditContext(request) }, clock);
        return codes;
      });
      return { recoveryCodes };
    },
  );

  app.post(
    '/api/v1/auth/password',
    {
      config: { access: { permission: 'account.self' } },
      schema: { tags: ['auth'], summary: 'Change the password; every other session ends', body: Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false }), response: { 204: Type.Null(), ...Errors } },
    },
    async (request, reply) => {
      const actor = accountOf(request);
      const row = await db.selectFrom('accounts').select(['password_hash']).where('id', '=', actor.id).executeTakeFirstOrThrow();
      if (row.password_hash === null || !(await verifyPassword(row.password_hash, request.body.currentPassword))) {
        throw new RampartError('auth.failed', 'current password wrong');
      }
      checkPasswordPolicy(request.body.newPassword, { username: actor.username });
      const passwordHash = await hashPassword(request.body.newPassword, identity.config.passwords);
      await db.transaction().execute(async (trx) => {
        const now = clock.now().toISOString();
        await trx.updateTable('accounts').set({ password_hash: passwordHash, password_changed_at: now, updated_at: now }).where('id', '=', actor.id).execute();
        const ended = await sessions.endAll(trx, actor.id, 'password_changed', actor.sessionId);
        await appendAudit(trx, { action: 'auth.password_change', outcome: 'success', actor: { type: 'account', id: actor.id, authMethod: actor.authMethod }, target: { type: 'account', id: actor.id }, context: auditContext(request), details: { other_sessions_ended: ended } }, clock);
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { config: { access: { session: ['mfa', 'enrol', 'active'] } }, schema: { tags: ['auth'], summary: 'End this session', response: { 204: Type.Null(), 401: ProblemSchema, 403: ProblemSchema } } },
    async (request, reply) => {
      const session = liveSession(request);
      await db.transaction().execute(async (trx) => {
        await sessions.end(trx, session.id, 'logout');
        await appendAudit(trx, { action: 'session.logout', outcome: 'success', actor: { type: 'account', id: session.account_id, authMethod: session.auth_method }, target: { type: 'session', id: session.id }, context: auditContext(request) }, clock);
      });
      clearSessionCookie(reply);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/logout-all',
    { config: { access: { permission: 'account.self' } }, schema: { tags: ['auth'], summary: 'End every session of this account, this one included', response: { 200: Type.Object({ ended: Type.Integer() }), 401: ProblemSchema, 403: ProblemSchema } } },
    async (request, reply) => {
      const actor = accountOf(request);
      const ended = await db.transaction().execute(async (trx) => {
        const count = await sessions.endAll(trx, actor.id, 'logout_everywhere');
        await appendAudit(trx, { action: 'session.logout_all', outcome: 'success', actor: { type: 'account', id: actor.id, authMethod: actor.authMethod }, target: { type: 'account', id: actor.id }, context: auditContext(request), details: { ended: count } }, clock);
        return count;
      });
      clearSessionCookie(reply);
      return { ended };
    },
  );
}
