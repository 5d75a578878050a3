import cookie from '@fastify/cookie';
import type { PlaneApp } from '../http/plane.ts';
import { installAccessControl } from './access.ts';
import { registerAuthRoutes } from './auth.routes.ts';
import type { Identity } from './identity.ts';
import { registerPasskeyRoutes } from './passkeys.routes.ts';
import { registerSsoRoutes } from './sso.routes.ts';
import { createAccessTokenVerifier } from './tokens/access-tokens.ts';
import { registerOAuthRoutes, registerServicePrincipalRoutes } from './tokens/oauth.routes.ts';
import { ServicePrincipals } from './tokens/principals.ts';
import { registerUserRoutes } from './users.routes.ts';

/**
 * Cookies and the access hook (session or bearer → actor, then each route's
 * declared access). Installed before any guarded route group is registered.
 */
export async function installIdentityAccess(app: PlaneApp, identity: Identity): Promise<void> {
  const { db, keyring, clock } = identity;
  await app.register(cookie);
  installAccessControl(app, {
    db,
    sessions: identity.sessions,
    clock,
    stepUpMinutes: identity.config.stepUpMinutes,
    verifyBearer: createAccessTokenVerifier({ db, keyring, clock, config: identity.config.tokens }),
  });
}

/** Sign-in, SSO, passkeys, users, the OAuth token endpoint and service principals. */
export function registerIdentityRoutes(app: PlaneApp, identity: Identity): void {
  const { db, database, keyring, clock } = identity;
  const principals = new ServicePrincipals({ database, clock });
  registerAuthRoutes(app, identity);
  registerSsoRoutes(app, identity);
  registerPasskeyRoutes(app, identity);
  registerUserRoutes(app, identity);
  registerOAuthRoutes(app, { db, principals, keyring, clock, config: identity.config.tokens });
  registerServicePrincipalRoutes(app, { principals });
}
