import cookie from '@fastify/cookie';
import type { Plane } from '../http/plane.ts';
import { installAccessControl } from './access.ts';
import { registerAuthRoutes } from './auth.routes.ts';
import type { Identity } from './identity.ts';
import { registerSsoRoutes } from './sso.routes.ts';
import { createAccessTokenVerifier } from './tokens/access-tokens.ts';
import { registerOAuthRoutes, registerServicePrincipalRoutes } from './tokens/oauth.routes.ts';
import { ServicePrincipals } from './tokens/principals.ts';
import { registerAuditRoutes } from '../audit/audit.routes.ts';
import { registerPasskeyRoutes } from './passkeys.routes.ts';
import { registerUserRoutes } from './users.routes.ts';
import { registerDeviceRoutes } from '../devices/devices.routes.ts';
import { DeviceRegistry } from '../devices/registry.ts';

/** Puts the identity layer on the app plane: cookies, the access hook, and its routes. */
export async function registerIdentity(plane: Plane, identity: Identity): Promise<void> {
  const { db, database, keyring, clock } = identity;
  const principals = new ServicePrincipals({ database, clock });
  await plane.app.register(cookie);
  installAccessControl(plane.app, {
    db,
    sessions: identity.sessions,
    clock,
    stepUpMinutes: identity.config.stepUpMinutes,
    verifyBearer: createAccessTokenVerifier({ db, keyring, clock, config: identity.config.tokens }),
  });
  registerAuthRoutes(plane.app, identity);
  registerSsoRoutes(plane.app, identity);
  registerPasskeyRoutes(plane.app, identity);
  registerUserRoutes(plane.app, identity);
  registerDeviceRoutes(plane.app, { registry: identity.devices.registry ?? new DeviceRegistry({ db, keyring, clock }), clock, settings: { devices: identity.devices.config, hubs: identity.devices.hubs } });
  registerOAuthRoutes(plane.app, { db, principals, keyring, clock, config: identity.config.tokens });
  registerServicePrincipalRoutes(plane.app, { principals });
  registerAuditRoutes(plane.app, { database });
}
