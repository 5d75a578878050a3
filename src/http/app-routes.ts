import { registerAuditRoutes } from '../audit/audit.routes.ts';
import type { RampartConfig } from '../config/schema.ts';
import { registerJwksRoute } from '../crypto/jwks.routes.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { registerKeyRoutes } from '../crypto/keys.routes.ts';
import type { Delivery } from '../delivery/delivery.ts';
import { registerDeliveryRoutes } from '../delivery/delivery.routes.ts';
import { registerDriverRoutes } from '../delivery/driver/driver.routes.ts';
import { registerRouteRoutes } from '../delivery/routes/delivery-routes.routes.ts';
import type { Routes } from '../delivery/routes/index.ts';
import { registerWebhookRoutes, type Webhooks } from '../delivery/webhooks/index.ts';
import { registerDeviceRoutes } from '../devices/devices.routes.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Identity } from '../identity/identity.ts';
import { installIdentityAccess, registerIdentityRoutes } from '../identity/register.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Database } from '../storage/database.ts';
import type { EventLog } from '../stream/event-log.ts';
import { registerHubRoutes } from '../telemetry/hubs.routes.ts';
import { HubAdministration } from '../telemetry/hubs.service.ts';
import type { DeviceStatusBoard } from '../telemetry/status.ts';
import { eventStreams } from './event-stream.ts';
import { registerDeviceStatusRoute } from '../telemetry/status.routes.ts';
import { registerTelemetryRoutes } from '../telemetry/telemetry.routes.ts';
import { registerOpenApi } from './openapi.ts';
import type { Plane } from './plane.ts';
import { registerWebAppRoutes } from './web-app.ts';

// The one place the app plane's route groups are put together, in the order
// that matters: the JWKS, then OpenAPI (it describes the routes registered
// after it), then cookies and the access hook, then every guarded group and
// the web console's pages and assets. Each feature
// exposes one register…Routes(app, deps); the parts are built in server.ts.

export interface AppRouteParts {
  readonly config: RampartConfig;
  /** The package version, shown in the OpenAPI document. */
  readonly version: string;
  readonly database: Database;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly identity: Identity;
  readonly eventLog: EventLog;
  /** The registry the device authenticator watches, so devices changed through the API are re-checked at once. */
  readonly deviceRegistry: DeviceRegistry;
  readonly status: DeviceStatusBoard;
  readonly delivery: Delivery;
  readonly routes: Routes;
  readonly webhooks: Webhooks;
}

export async function registerAppRoutes(plane: Plane, parts: AppRouteParts): Promise<void> {
  const { config, database, keyring, clock, identity, eventLog, deviceRegistry, status, delivery, routes, webhooks } = parts;
  const { app } = plane;
  registerJwksRoute(plane, keyring);
  await registerOpenApi(plane, parts.version);
  await installIdentityAccess(app, identity);

  registerIdentityRoutes(app, identity);
  // The event log's live hubs, so a device token may name a hub created through the API.
  registerDeviceRoutes(app, { registry: deviceRegistry, clock, settings: { devices: config.devices, hubs: eventLog.hubs } });
  registerAuditRoutes(app, { database });
  registerHubRoutes(app, { eventLog, administration: new HubAdministration({ db: database.db, eventLog, clock }) });
  // Every stream ends at the caller's logout: a signed-in account's session is checked again as it runs.
  const serveStream = eventStreams(app, {
    maxStreamMs: config.streams.maxMinutes * 60_000,
    recheckMs: config.streams.sessionCheckMs,
    stillAllowed: (request) => (request.actor?.kind === 'account' ? identity.sessions.isLive(request.actor.sessionId) : Promise.resolve(true)),
  });
  const heartbeat = { ms: config.streams.heartbeatSeconds * 1000 };
  registerTelemetryRoutes(app, { eventLog, serveStream, heartbeat });
  registerDeviceStatusRoute(app, { registry: deviceRegistry, status, serveStream, heartbeat, batchMs: config.streams.fleetBatchMs });
  await registerDeliveryRoutes(app, { delivery, rateLimits: config.perimeter.rateLimits });
  registerRouteRoutes(app, routes);
  registerDriverRoutes(app, { routes, eventLog, maxEventBytes: config.ingest.maxEventBytes, rateLimit: config.perimeter.rateLimits.driver });
  registerWebhookRoutes(app, webhooks);
  registerKeyRoutes(app, { database, keyring, clock, logger: parts.logger });
  await registerWebAppRoutes(app, { console: config.console, ssoEnabled: config.identity.sso.enabled, logger: parts.logger });
}
