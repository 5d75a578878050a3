import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { appendAudit } from './audit/append.ts';
import { AuditCheckpointer } from './audit/checkpoint.ts';
import { redactConfig } from './config/load.ts';
import { tileOrigin } from './config/checks.ts';
import { ConfigError } from './kernel/errors.ts';
import { canonicalJson } from './kernel/canonical-json.ts';
import packageJson from '../package.json' with { type: 'json' };
import type { PlaneName, RampartConfig } from './config/schema.ts';
import { ENCRYPTED_COLUMNS } from './crypto/encrypted-columns.ts';
import { Keyring, SIGNING_PURPOSES } from './crypto/keyring.ts';
import { resolveMasterKey } from './crypto/master-key.ts';
import { createDelivery, type Delivery } from './delivery/delivery.ts';
import { createRoutes, routeEtaSource } from './delivery/routes/index.ts';
import { startProofRetention } from './delivery/proof/proofs.service.ts';
import { proofSettings } from './delivery/proof/settings.ts';
import { createWebhooks, webhookSink } from './delivery/webhooks/index.ts';
import { createDeviceAuthenticator, type ClosableDeviceAuthenticator } from './devices/authenticator.ts';
import { DeviceRegistry } from './devices/registry.ts';
import { registerAppRoutes } from './http/app-routes.ts';
import { registerHealthRoutes, registerMetricsRoute } from './http/health.routes.ts';
import { createPlane, type Plane } from './http/plane.ts';
import { ensureBootstrapAdmin } from './identity/bootstrap.ts';
import { createIdentity, startHousekeeping, type Identity } from './identity/identity.ts';
import { commonPasswordCount } from './identity/passwords.ts';
import { createDeviceFailureRecorder } from './ingest/auth-failures.ts';
import { registerIngestRoutes } from './ingest/http/ingest.routes.ts';
import { createLastSeenRecorder } from './ingest/last-seen.ts';
import { SourceThrottle } from './perimeter/source-throttle.ts';
import { startMqttListener, type MqttListener } from './ingest/mqtt/index.ts';
import { systemClock, type Clock } from './kernel/clock.ts';
import { acquireDataDirLock, type DataDirLock } from './kernel/lockfile.ts';
import type { Logger } from './kernel/logger.ts';
import { createMetrics, type Metrics } from './kernel/metrics.ts';
import { openDatabase, prepareSchema, type Database } from './storage/database.ts';
import { openEmbeddedEventLog } from './stream/embedded/index.ts';
import type { EventLog } from './stream/event-log.ts';
import { eventLogPath, hubDefinitions } from './stream/hubs.ts';
import { DeviceStatusBoard } from './telemetry/status.ts';

// The composition root: wires configuration, storage, keyring and the three
// planes together, and takes them down in the reverse order.

export interface RampartDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly metrics?: Metrics;
  /** Where one-time secrets meant for the operator's eyes go (never the log). Default: stdout. */
  readonly announce?: (text: string) => void;
  /** Adds routes before the planes listen (tests use it for probes). */
  readonly extendPlanes?: (planes: Readonly<Record<PlaneName, Plane>>) => void;
}

export interface RunningRampart {
  readonly urls: Readonly<Record<PlaneName, string>>;
  readonly database: Database;
  readonly keyring: Keyring;
  readonly identity: Identity;
  readonly planes: Readonly<Record<PlaneName, Plane>>;
  readonly metrics: Metrics;
  readonly eventLog: EventLog;
  /** Device authentication (SAS tokens, certificates) over the registry. */
  readonly devices: ClosableDeviceAuthenticator;
  /** The registry the authenticator watches: changes made through it are re-checked at once. */
  readonly deviceRegistry: DeviceRegistry;
  /** Depots, fleet and shipments (route planning and proof of delivery change shipments through `delivery.shipments.lifecycle`). */
  readonly delivery: Delivery;
  /** The MQTT device listener, when `mqtt.enabled`. */
  readonly mqtt: MqttListener | undefined;
  /** Graceful stop: planes drain (up to shutdown.drainTimeoutMs), then the event log and the database close. */
  stop(): Promise<void>;
}

export async function startRampart(config: RampartConfig, deps: RampartDeps): Promise<RunningRampart> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  const announce = deps.announce ?? ((text: string) => process.stdout.write(text));
  logger.info({ node: process.version, env: config.env, dataDir: resolve(config.dataDir) }, 'starting Rampart');

  const cleanup: Array<() => Promise<void> | void> = [];
  const unwind = async () => {
    for (const step of cleanup.reverse()) await step();
  };
  try {
    const lock: DataDirLock = acquireDataDirLock(config.dataDir);
    cleanup.push(() => lock.release());

    const masterKey = resolveMasterKey(config);
    if (masterKey.source === 'development') {
      logger.warn(
        { file: masterKey.file, generated: masterKey.generated },
        'DEVELOPMENT MASTER KEY in the data directory: anyone who can read it can decrypt everything. Production must supply RAMPART_MASTER_KEY or keyring.masterKeyFile.',
      );
    }

    const database = await openDatabase(config, logger);
    cleanup.push(() => database.close());
    const applied = await prepareSchema(database, config.database.migrateOnStart);
    logger.info({ database: database.location, applied }, applied.length > 0 ? 'migrations applied' : 'database schema up to date');

    const keyring = await Keyring.open({ database, masterKey: masterKey.key, clock, columns: ENCRYPTED_COLUMNS });
    for (const purpose of SIGNING_PURPOSES) await keyring.signingKey(purpose);

    // Pushed before the planes' close, so it closes after they have drained: every acknowledged event is durable.
    const eventLog = await openEmbeddedEventLog({
      path: eventLogPath(config),
      hubs: hubDefinitions(config),
      clock,
      synchronous: config.eventLog.synchronous,
      maxGroupEvents: config.eventLog.maxGroupEvents,
      logger: logger.child({ component: 'event-log' }),
    });
    cleanup.push(() => eventLog.close());
    cleanup.push(startRetention(eventLog, logger));

    const deviceRegistry = new DeviceRegistry({ db: database.db, keyring, clock });
    const devices = createDeviceAuthenticator({ db: database.db, keyring, clock, config: config.devices, logger: logger.child({ component: 'devices' }), registry: deviceRegistry });
    cleanup.push(() => devices.close());
    const lastSeen = createLastSeenRecorder({ store: deviceRegistry, clock, logger });
    const status = new DeviceStatusBoard();
    logger.debug({ events: await status.seed(eventLog) }, 'device status seeded from the event log');
    cleanup.push(() => lastSeen.settle());

    // Load the common-password list now rather than on the first password change.
    logger.debug({ entries: commonPasswordCount() }, 'common-password list loaded');
    const identity = createIdentity({ database, keyring, clock, config });
    await recordConfiguration(database, config, clock);
    const checkpointer = new AuditCheckpointer({ database, keyring, clock, logger, intervalSeconds: config.audit.checkpointIntervalSeconds, everyEntries: config.audit.checkpointEveryEntries });
    checkpointer.start();
    cleanup.push(() => checkpointer.stop());
    cleanup.push(startHousekeeping(identity, logger));
    const webhooks = createWebhooks({ db: database.db, keyring, clock, logger: logger.child({ component: 'webhooks' }), settings: config.webhooks });
    webhooks.dispatcher.start();
    cleanup.push(() => webhooks.dispatcher.stop());

    const bootstrap = await ensureBootstrapAdmin(database.db, { username: config.bootstrap.adminUsername, ttlHours: config.bootstrap.setupCodeTtlHours, clock });

    const planes = {
      app: await createPlane({ name: 'app', config: config.planes.app, logger, metrics, securityHeaders: { imageSources: [tileOrigin(config)].filter((origin) => origin !== undefined) } }),
      device: await createPlane({ name: 'device', config: config.planes.device, logger, metrics, securityHeaders: false, quietSuccess: true, ...deviceClientCa(config) }),
      admin: await createPlane({ name: 'admin', config: config.planes.admin, logger, metrics, securityHeaders: false }),
    };
    let mqtt: MqttListener | undefined;
    const delivery = createDelivery({ db: database.db, keyring, clock, eventSinks: [webhookSink], proof: proofSettings(config), etaFor: routeEtaSource(database.db) });
    cleanup.push(startProofRetention(delivery.proofs.archive, logger.child({ component: 'proofs' })));
    // Missions go out through the MQTT listener, which starts after the planes: looked up when one is sent.
    const routes = createRoutes({ delivery, planning: config.planning, sendToDevice: (deviceId, payload, properties) => mqtt?.sendToDevice(deviceId, payload, properties) ?? Promise.resolve(false) });

    // Every plane answers health and readiness; the app plane's route groups are put together in http/app-routes.ts.
    for (const plane of Object.values(planes)) registerHealthRoutes(plane, { checkDatabase: () => database.ping() });
    registerMetricsRoute(planes.admin, metrics);
    await registerAppRoutes(planes.app, { config, version: packageJson.version, database, keyring, clock, logger, identity, eventLog, deviceRegistry, status, delivery, routes, webhooks });
    // One throttle and one failure recorder for both protocols: failures on either count against the address.
    const throttle = new SourceThrottle({ clock, failuresPerSource: config.ingest.failuresPerSource, throttleSeconds: config.ingest.throttleSeconds });
    const recordFailure = createDeviceFailureRecorder({ eventLog, metrics, logger: logger.child({ component: 'ingest' }), clock, throttle });
    await registerIngestRoutes(planes.device.app, { eventLog, authenticator: devices, throttle, recordFailure, lastSeen, status, metrics, ingest: config.ingest });
    deps.extendPlanes?.(planes);

    const closePlanes = async () => {
      await Promise.all(Object.values(planes).map((p) => p.close(config.shutdown.drainTimeoutMs)));
    };
    cleanup.push(closePlanes);
    const urls = {
      app: await planes.app.listen(),
      device: await planes.device.listen(),
      admin: await planes.admin.listen(),
    };
    if (config.mqtt.enabled) {
      mqtt = await startMqttListener({
        config: { mqtt: config.mqtt, ingest: config.ingest, devices: config.devices },
        authenticator: devices,
        eventLog,
        logger: logger.child({ component: 'mqtt' }),
        metrics,
        clock,
        throttle,
        recordFailure,
        lastSeen,
        status,
        ...deviceClientCa(config),
      });
      // Before the planes close in the unwind order: devices stop publishing first, then the log drains.
      const listener = mqtt;
      cleanup.push(() => listener.close());
    }
    logger.info({ urls, mqtt: mqtt?.url }, 'Rampart is listening');

    if (bootstrap?.setupCode !== undefined) {
      announce(setupBanner(bootstrap.username, bootstrap.setupCode, bootstrap.expiresAt ?? '', urls.app));
    } else if (bootstrap !== undefined) {
      logger.info({ username: bootstrap.username }, 'administrator setup pending; the setup code was shown when it was issued');
    }

    let stopped: Promise<void> | undefined;
    return {
      urls,
      database,
      keyring,
      identity,
      planes,
      metrics,
      eventLog,
      devices,
      deviceRegistry,
      delivery,
      mqtt,
      stop: () => (stopped ??= unwind()),
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/** Devices may authenticate with client certificates on a TLS device plane when a CA is configured. */
function deviceClientCa(config: RampartConfig): { clientCa?: Buffer } {
  const file = config.devices.clientCaFile;
  if (file === undefined) return {};
  try {
    return { clientCa: readFileSync(file) };
  } catch (error) {
    throw new ConfigError('config.invalid', [`devices.clientCaFile: cannot read ${file}: ${(error as Error).message}`], { cause: error });
  }
}


/** Retention runs every minute; a run still going when the next is due is not doubled. Returns the stop step. */
function startRetention(eventLog: EventLog, logger: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    eventLog
      .enforceRetention()
      .then((report) => {
        if (report.deleted > 0) logger.info({ deleted: report.deleted }, 'event retention enforced');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'event retention failed; retrying in a minute'))
      .finally(() => (running = false));
  }, 60_000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The configuration is a file, changed outside Rampart: each start records a
 * fingerprint of the effective (redacted) configuration in the audit trail, and
 * says whether it differs from the previous start.
 */
async function recordConfiguration(database: Database, config: RampartConfig, clock: Clock): Promise<void> {
  const fingerprint = createHash('sha256').update(canonicalJson(redactConfig(config))).digest('hex');
  const previous = await database.db.selectFrom('audit_entries').select('details').where('action', '=', 'config.start').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const before = previous === undefined ? null : ((JSON.parse(previous.details) as { sha256?: string }).sha256 ?? null);
  await database.db.transaction().execute((trx) =>
    appendAudit(trx, { action: 'config.start', outcome: 'success', actor: { type: 'system' }, target: { type: 'config', id: 'effective' }, details: { sha256: fingerprint, previous: before, changed: before !== null && before !== fingerprint, env: config.env } }, clock),
  );
}

function setupBanner(username: string, code: string, expiresAt: string, appUrl: string): string {
  const rule = '='.repeat(72);
  return [
    '',
    rule,
    ` First start: administrator account "${username}" created.`,
    ` One-time setup code (shown only now, valid until ${expiresAt}):`,
    '',
    `     ${code}`,
    '',
    ` Use it at ${appUrl} to set the password and enrol a second factor.`,
    ' It is stored only as a hash; if lost, restart Rampart after it expires',
    ' to be issued a new one.',
    rule,
    '',
    '',
  ].join('\n');
}
