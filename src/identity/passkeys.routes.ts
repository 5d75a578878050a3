import type { Kysely } from 'kysely';
import Type from 'typebox';
import type { Tables } from '../storage/tables.ts';
import { appendAudit } from '../audit/append.ts';
import { RampartError, isRampartError } from '../kernel/errors.ts';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { accountOf, auditContext } from './access.ts';
import { completeEnrolment, grantSession, requestContext, SessionStateSchema } from './auth.routes.ts';
import { assertRecentMfa, type Identity } from './identity.ts';
import { hasTotp } from './mfa/totp.ts';
import { AuthenticationResponseSchema, authenticationOptions, deletePasskey, listPasskeys, RegistrationResponseSchema, registrationOptions, verifyAuthentication, verifyRegistration } from './mfa/passkeys.ts';
import type { SessionRow } from './sessions.ts';

// Passkeys (WebAuthn): the phishing-resistant second factor. Each ceremony's
// challenge lives on the server-side session, for five minutes, and is taken
// (consumed) by the verification that follows, whatever its outcome.

const CHALLENGE_TTL_MS = 5 * 60_000;
const Errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };
const OptionsSchema = Type.Object({}, { additionalProperties: true, description: 'WebAuthn options JSON for navigator.credentials (PublicKeyCredential*OptionsJSON).' });

function live(session: SessionRow | undefined): SessionRow {
  if (session === undefined) throw new RampartError('auth.required', 'no session');
  return session;
}

export function registerPasskeyRoutes(app: PlaneApp, identity: Identity): void {
  const { db, clock, sessions, signIn } = identity;
  const webauthn = identity.config.webauthn;
  const rp = { id: webauthn.rpId, origins: webauthn.origins };

  app.post(
    '/api/v1/auth/passkey/register/options',
    { config: { access: { session: ['enrol', 'active'] } }, schema: { tags: ['passkeys'], summary: 'Begin registering a passkey', response: { 200: OptionsSchema, ...Errors } } },
    async (request) => {
      const session = live(request.session);
      if (session.stage === 'active') assertRecentMfa(identity, session.mfa_at);
      const account = await db.selectFrom('accounts').select(['id', 'username']).where('id', '=', session.account_id).executeTakeFirstOrThrow();
      const ceremony = await registrationOptions({ rp: { id: webauthn.rpId, name: webauthn.rpName }, account, existing: await listPasskeys(db, account.id) });
      await sessions.setChallenge(session.id, ceremony.challenge, CHALLENGE_TTL_MS);
      return ceremony.options;
    },
  );

  app.post(
    '/api/v1/auth/passkey/register',
    {
      config: { access: { session: ['enrol', 'active'] } },
      schema: {
        tags: ['passkeys'],
        summary: 'Finish registering a passkey; other sessions end',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), response: RegistrationResponseSchema }, { additionalProperties: false }),
        response: { 200: Type.Intersect([SessionStateSchema, Type.Object({ recoveryCodes: Type.Optional(Type.Array(Type.String())) })]), ...Errors },
      },
    },
    async (request, reply) => {
      const session = live(request.session);
      if (session.stage === 'active') assertRecentMfa(identity, session.mfa_at);
      const expectedChallenge = await sessions.takeChallenge(session.id);
      if (expectedChallenge === undefined) throw new RampartError('auth.mfa_failed', 'no live registration challenge');
      return completeEnrolment(identity, request, reply, 'passkey', async (trx) => {
        const row = await verifyRegistration(trx, { rp, account: { id: session.account_id }, expectedChallenge, response: request.body.response, name: request.body.name, now: clock.now() });
        return { passkey: row.id };
      });
    },
  );

  app.post(
    '/api/v1/auth/passkey/authenticate/options',
    { config: { access: { session: ['mfa', 'active'] } }, schema: { tags: ['passkeys'], summary: 'Begin a passkey sign-in or step-up', response: { 200: OptionsSchema, ...Errors } } },
    async (request) => {
      const session = live(request.session);
      const ceremony = await authenticationOptions({ rpId: webauthn.rpId, allow: await listPasskeys(db, session.account_id) });
      await sessions.setChallenge(session.id, ceremony.challenge, CHALLENGE_TTL_MS);
      return ceremony.options;
    },
  );

  app.post(
    '/api/v1/auth/passkey/authenticate',
    {
      config: { access: { session: ['mfa', 'active'] } },
      schema: { tags: ['passkeys'], summary: 'Second factor or step-up with a passkey', body: AuthenticationResponseSchema, response: { 200: SessionStateSchema, ...Errors } },
    },
    async (request, reply) => {
      const session = live(request.session);
      const expectedChallenge = await sessions.takeChallenge(session.id);
      const burn = async (trx: Kysely<Tables>) => {
        if (expectedChallenge === undefined) return false;
        try {
          await verifyAuthentication(trx, { rp, accountId: session.account_id, expectedChallenge, response: request.body, now: clock.now() });
          return true;
        } catch (error) {
          if (isRampartError(error) && error.code === 'auth.mfa_failed') {
            request.log.info({ reason: error.message }, 'passkey assertion refused');
            return false;
          }
          throw error;
        }
      };
      return grantSession(identity, reply, await signIn.secondFactor(session, 'passkey', () => Promise.resolve(burn), requestContext(request)));
    },
  );

  app.get(
    '/api/v1/auth/passkeys',
    {
      config: { access: { permission: 'account.self' } },
      schema: { tags: ['passkeys'], summary: 'Your passkeys', response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String(), lastUsedAt: Type.Union([Type.String(), Type.Null()]), backedUp: Type.Boolean() })) }), ...Errors } },
    },
    async (request) => {
      const rows = await listPasskeys(db, accountOf(request).id);
      return { items: rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, backedUp: r.backed_up === 1 })) };
    },
  );

  app.delete(
    '/api/v1/auth/passkeys/:id',
    { config: { access: { permission: 'account.self' } }, schema: { tags: ['passkeys'], summary: 'Remove one of your passkeys (needs a recent second factor; not your last factor)', params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 1400 }) }, { additionalProperties: false }), response: { 204: Type.Null(), ...Errors } } },
    async (request, reply) => {
      const actor = accountOf(request);
      assertRecentMfa(identity, actor.mfaAt);
      const mine = await listPasskeys(db, actor.id);
      if (!mine.some((p) => p.id === request.params.id)) throw new RampartError('route.not_found', 'no such passkey for this account');
      if (mine.length === 1 && !(await hasTotp(db, actor.id))) throw new RampartError('identity.invalid_state', 'last second factor', { publicDetail: 'This is your only second factor; add another before removing it.' });
      await db.transaction().execute(async (trx) => {
        await deletePasskey(trx, actor.id, request.params.id);
        const ended = await sessions.endAll(trx, actor.id, 'factor_changed', actor.sessionId);
        await appendAudit(trx, { action: 'mfa.remove', outcome: 'success', actor: { type: 'account', id: actor.id, authMethod: actor.authMethod }, target: { type: 'account', id: actor.id }, context: auditContext(request), details: { method: 'passkey', passkey: request.params.id, other_sessions_ended: ended } }, clock);
      });
      return reply.code(204).send(null);
    },
  );
}
