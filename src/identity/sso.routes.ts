import type { Kysely } from 'kysely';
import Type from 'typebox';
import { appendAudit } from '../audit/append.ts';
import { RampartError } from '../kernel/errors.ts';
import { newId } from '../kernel/ids.ts';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { isLoopbackHost } from '../http/cidr.ts';
import type { SessionStage, Tables } from '../storage/tables.ts';
import { requestContext, setSessionCookie } from './auth.routes.ts';
import type { Identity } from './identity.ts';
import { SsoClient, type SsoIdentity } from './sso/oidc.ts';
import { secondFactorsOf, type RequestContext } from './signin.ts';

// Single sign-on through an external OpenID Connect provider. The provider
// proves who the user is; its groups pick the role (deny when none maps). A
// local account with the same username is never taken over: SSO accounts are
// linked by issuer and subject only. Unless the provider asserted a second
// factor and `requireIdpMfa` says to rely on it, Rampart asks for its own.

export function registerSsoRoutes(app: PlaneApp, identity: Identity): void {
  const config = identity.config.sso;
  let client: Promise<SsoClient> | undefined;
  const ssoClient = (): Promise<SsoClient> => {
    if (!config.enabled) return Promise.reject(new RampartError('sso.disabled', 'single sign-on is not configured'));
    // Plain HTTP only to a provider on this machine, and only in development (a test or local IdP).
    const local = identity.env === 'development' && URL.canParse(config.issuer) && isLoopbackHost(new URL(config.issuer).hostname.replace(/^\[|\]$/g, ''));
    client ??= SsoClient.discover(config, { allowInsecureHttp: local }).catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };

  app.get(
    '/api/v1/auth/sso/start',
    { config: { access: { public: true } }, schema: { tags: ['auth'], summary: 'Begin single sign-on: redirects to the provider', response: { 302: Type.Null(), 404: ProblemSchema, 503: ProblemSchema } } },
    async (_request, reply) => {
      const started = await (await ssoClient()).start(identity.db, identity.clock);
      return reply.redirect(started.authorizationUrl, 302);
    },
  );

  app.get(
    '/api/v1/auth/sso/callback',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['auth'],
        summary: 'Where the provider returns; signs in and redirects to the console',
        querystring: Type.Object({ code: Type.Optional(Type.String({ maxLength: 2048 })), state: Type.Optional(Type.String({ maxLength: 512 })), error: Type.Optional(Type.String({ maxLength: 256 })), error_description: Type.Optional(Type.String({ maxLength: 1024 })), iss: Type.Optional(Type.String({ maxLength: 512 })), session_state: Type.Optional(Type.String({ maxLength: 512 })) }, { additionalProperties: false }),
        response: { 302: Type.Null(), 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request, reply) => {
      const sso = await ssoClient();
      const context = requestContext(request);
      let who: SsoIdentity;
      try {
        who = await sso.finish(identity.db, identity.clock, new URL(request.url, 'http://callback.invalid'));
      } catch (error) {
        await identity.db.transaction().execute((trx) => appendAudit(trx, { action: 'auth.sso', outcome: 'failure', actor: { type: 'anonymous', authMethod: 'sso' }, context, details: { reason: error instanceof RampartError ? error.code : 'error' } }, identity.clock));
        throw error;
      }
      // A refusal is returned, not thrown, so that its audit entry commits.
      const grant = await identity.db.transaction().execute((trx) => ssoSignIn(identity, trx, who, context));
      if (grant instanceof RampartError) throw grant;
      setSessionCookie(reply, grant.token);
      return reply.redirect(grant.stage === 'active' ? '/' : `/?signin=${grant.stage}`, 302);
    },
  );
}

async function ssoSignIn(identity: Identity, trx: Kysely<Tables>, who: SsoIdentity, context: RequestContext): Promise<{ token: string; stage: SessionStage } | RampartError> {
  const { clock, sessions } = identity;
  const now = clock.now().toISOString();
  const link = `${who.issuer} ${who.subject}`;
  let account = await trx.selectFrom('accounts').select(['id', 'role', 'status']).where('sso_subject', '=', link).executeTakeFirst();
  if (account === undefined) {
    const clash = await trx.selectFrom('accounts').select('id').where('username', '=', who.username).executeTakeFirst();
    if (clash !== undefined) {
      await appendAudit(trx, { action: 'auth.sso', outcome: 'denied', actor: { type: 'anonymous', authMethod: 'sso' }, target: { type: 'account', id: clash.id }, context, details: { reason: 'username_belongs_to_another_account', issuer: who.issuer } }, clock);
      return new RampartError('sso.failed', `username ${who.username} belongs to an account not linked to this identity`);
    }
    account = { id: newId('acct'), role: who.role, status: 'active' };
    await trx.insertInto('accounts').values({ id: account.id, username: who.username, role: who.role, status: 'active', sso_subject: link, created_at: now, updated_at: now }).execute();
    await appendAudit(trx, { action: 'user.create', outcome: 'success', actor: { type: 'system', authMethod: 'sso' }, target: { type: 'account', id: account.id }, context, details: { username: who.username, role: who.role, issuer: who.issuer } }, clock);
  } else if (account.status !== 'active') {
    await appendAudit(trx, { action: 'auth.sso', outcome: 'denied', actor: { type: 'account', id: account.id, authMethod: 'sso' }, target: { type: 'account', id: account.id }, context, details: { reason: `account_${account.status}` } }, clock);
    return new RampartError('sso.failed', `account ${account.id} is ${account.status}`);
  } else if (account.role !== who.role) {
    // The provider's groups are the source of truth for an SSO account's role.
    await trx.updateTable('accounts').set({ role: who.role, updated_at: now }).where('id', '=', account.id).execute();
    const ended = await sessions.endAll(trx, account.id, 'role_changed');
    await appendAudit(trx, { action: 'user.role_change', outcome: 'success', actor: { type: 'system', authMethod: 'sso' }, target: { type: 'account', id: account.id }, context, details: { before: account.role, after: who.role, sessions_ended: ended } }, clock);
  }
  const trustIdpMfa = identity.config.sso.requireIdpMfa;
  if (trustIdpMfa && !who.mfaAsserted) {
    await appendAudit(trx, { action: 'auth.sso', outcome: 'denied', actor: { type: 'account', id: account.id, authMethod: 'sso' }, target: { type: 'account', id: account.id }, context, details: { reason: 'idp_mfa_missing', amr: who.amr } }, clock);
    return new RampartError('sso.failed', 'the provider did not assert multi-factor authentication');
  }
  let stage: SessionStage = 'active';
  if (!trustIdpMfa) {
    const factors = await secondFactorsOf(trx, account.id);
    stage = factors.totp || factors.passkeys > 0 ? 'mfa' : 'enrol';
  }
  const created = await sessions.create(trx, { accountId: account.id, stage, authMethod: 'sso', ...(stage === 'active' ? { mfaAt: now, mfaMethod: 'idp' } : {}), context });
  await appendAudit(trx, { action: stage === 'active' ? 'auth.login' : 'auth.sso', outcome: 'success', actor: { type: 'account', id: account.id, authMethod: stage === 'active' ? 'sso+idp' : 'sso' }, target: { type: 'session', id: created.session.id }, context, details: { issuer: who.issuer, amr: who.amr, next: stage } }, clock);
  return { token: created.token, stage };
}
