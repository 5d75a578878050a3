import Type from 'typebox';
import { RampartError } from '../kernel/errors.ts';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { accountOf, auditActor, auditContext } from './access.ts';
import type { Identity } from './identity.ts';
import { can, canSeeAccount, ROLES } from './rbac.ts';
import { createUser, getUser, listUsers, resetMfa, resetPassword, revokeSessions, setDepots, setDisabled, setRole, USERNAME_PATTERN, type Change, type UserDeps } from './users.ts';

// Account administration for the console. Another account's record, when the
// caller may not see it, answers 404 exactly like one that does not exist.

const RoleSchema = Type.Enum(ROLES);
const DepotsSchema = Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100, uniqueItems: true }), Type.Null()]);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 80 }) }, { additionalProperties: false });

const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: RoleSchema,
  status: Type.Union([Type.Literal('setup_required'), Type.Literal('active'), Type.Literal('disabled')]),
  depots: DepotsSchema,
  passwordDisabled: Type.Boolean(),
  sso: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const SetupIssued = Type.Object({ user: UserSchema, setupCode: Type.String({ description: 'One-time code for the user\'s first sign-in; shown only in this response.' }), setupCodeExpiresAt: Type.String() });

const SessionSchema = Type.Object({ id: Type.String(), stage: Type.String(), authMethod: Type.String(), mfaMethod: Type.Union([Type.String(), Type.Null()]), sourceIp: Type.String(), userAgent: Type.String(), createdAt: Type.String(), lastSeenAt: Type.String(), expiresAt: Type.String(), current: Type.Boolean() });

const Errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

export function registerUserRoutes(app: PlaneApp, identity: Identity): void {
  const deps: UserDeps = { db: identity.db, clock: identity.clock, sessions: identity.sessions, setupCodeTtlHours: identity.setupCodeTtlHours };
  const change = (request: Parameters<typeof auditContext>[0]): Change => ({ actor: auditActor(request.actor), context: auditContext(request) });

  app.get(
    '/api/v1/users',
    {
      config: { access: { permission: 'user.read' } },
      schema: {
        tags: ['users'],
        summary: 'List accounts (search, filter, paginate)',
        querystring: Type.Object(
          {
            q: Type.Optional(Type.String({ maxLength: 64, description: 'Part of the username.' })),
            role: Type.Optional(RoleSchema),
            status: Type.Optional(Type.Union([Type.Literal('setup_required'), Type.Literal('active'), Type.Literal('disabled')])),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
            cursor: Type.Optional(Type.String({ pattern: USERNAME_PATTERN })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(UserSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...Errors },
      },
    },
    async (request) => listUsers(identity.db, request.query),
  );

  app.post(
    '/api/v1/users',
    {
      config: { access: { permission: 'user.manage' } },
      schema: {
        tags: ['users'],
        summary: 'Create an account; returns its one-time setup code',
        body: Type.Object({ username: Type.String({ pattern: USERNAME_PATTERN }), role: RoleSchema, depots: Type.Optional(DepotsSchema) }, { additionalProperties: false }),
        response: { 201: SetupIssued, ...Errors },
      },
    },
    async (request, reply) => reply.code(201).send(await createUser(deps, change(request), request.body)),
  );

  app.get(
    '/api/v1/users/:id',
    { config: { access: { permission: 'account.self' } }, schema: { tags: ['users'], summary: 'One account (your own, or any with user.read)', params: IdParams, response: { 200: UserSchema, ...Errors } } },
    async (request) => {
      if (!canSeeAccount(request.actor, request.params.id)) throw new RampartError('route.not_found', 'account not visible to caller');
      return getUser(identity.db, request.params.id);
    },
  );

  app.put(
    '/api/v1/users/:id/role',
    {
      config: { access: { permission: 'user.role.assign' } },
      schema: { tags: ['users'], summary: 'Assign a role (step-up; the account\'s sessions end)', params: IdParams, body: Type.Object({ role: RoleSchema }, { additionalProperties: false }), response: { 200: UserSchema, ...Errors } },
    },
    async (request) => setRole(deps, change(request), request.params.id, request.body.role),
  );

  app.put(
    '/api/v1/users/:id/depots',
    {
      config: { access: { permission: 'user.manage' } },
      schema: { tags: ['users'], summary: 'Limit a dispatcher to depots (null: all)', params: IdParams, body: Type.Object({ depots: DepotsSchema }, { additionalProperties: false }), response: { 200: UserSchema, ...Errors } },
    },
    async (request) => setDepots(deps, change(request), request.params.id, request.body.depots),
  );

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post(
      `/api/v1/users/:id/${verb}`,
      { config: { access: { permission: 'user.manage' } }, schema: { tags: ['users'], summary: verb === 'disable' ? 'Disable an account (its sessions end)' : 'Enable an account', params: IdParams, response: { 200: UserSchema, ...Errors } } },
      async (request) => setDisabled(deps, change(request), request.params.id, disabled),
    );
  }

  app.post(
    '/api/v1/users/:id/reset-mfa',
    { config: { access: { permission: 'user.mfa.reset' } }, schema: { tags: ['users'], summary: 'Remove every second factor (step-up); the user enrols again', params: IdParams, response: { 200: UserSchema, ...Errors } } },
    async (request) => resetMfa(deps, change(request), request.params.id),
  );

  app.post(
    '/api/v1/users/:id/reset-password',
    { config: { access: { permission: 'user.mfa.reset' } }, schema: { tags: ['users'], summary: 'Clear the password (step-up); returns a new one-time setup code', params: IdParams, response: { 200: SetupIssued, ...Errors } } },
    async (request) => resetPassword(deps, change(request), request.params.id),
  );

  const sessionAccess = (request: { actor: Parameters<typeof can>[0]; params: { id: string } }) => {
    const actor = request.actor;
    if (actor?.kind !== 'account' || (actor.id !== request.params.id && !can(actor, 'session.manage'))) throw new RampartError('route.not_found', 'sessions not visible to caller');
  };

  app.get(
    '/api/v1/users/:id/sessions',
    { config: { access: { permission: 'account.self' } }, schema: { tags: ['sessions'], summary: 'Live sessions of an account (your own, or any with session.manage)', params: IdParams, response: { 200: Type.Object({ items: Type.Array(SessionSchema) }), ...Errors } } },
    async (request) => {
      sessionAccess(request);
      const current = accountOf(request).sessionId;
      const rows = await identity.sessions.list(request.params.id);
      return {
        items: rows.map((s) => ({ id: s.id, stage: s.stage, authMethod: s.auth_method, mfaMethod: s.mfa_method, sourceIp: s.source_ip, userAgent: s.user_agent, createdAt: s.created_at, lastSeenAt: s.last_seen_at, expiresAt: s.expires_at, current: s.id === current })),
      };
    },
  );

  app.delete(
    '/api/v1/users/:id/sessions',
    { config: { access: { permission: 'account.self' } }, schema: { tags: ['sessions'], summary: 'End every session of an account', params: IdParams, response: { 200: Type.Object({ ended: Type.Integer() }), ...Errors } } },
    async (request) => {
      sessionAccess(request);
      return { ended: await revokeSessions(deps, change(request), request.params.id) };
    },
  );

  app.delete(
    '/api/v1/users/:id/sessions/:sessionId',
    {
      config: { access: { permission: 'account.self' } },
      schema: { tags: ['sessions'], summary: 'End one session', params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 80 }), sessionId: Type.String({ minLength: 1, maxLength: 80 }) }, { additionalProperties: false }), response: { 200: Type.Object({ ended: Type.Integer() }), ...Errors } },
    },
    async (request) => {
      sessionAccess(request);
      return { ended: await revokeSessions(deps, change(request), request.params.id, request.params.sessionId) };
    },
  );
}
