import Type, { type Static, type TSchema } from 'typebox';

// The one configuration schema. Every option carries a description (rendered
// into docs/CONFIG.md) and a secure default. Annotations:
//   x-secret   the value is redacted wherever configuration is printed
//   x-env      the environment variable, when not derived from the path
//   x-env-only the option may not appear in a file (secrets belong in the environment)

const LOOPBACK_ONLY = ['127.0.0.0/8', '::1/128'];

const Cidrs = (description: string, defaults: string[]) =>
  Type.Array(Type.String({ minLength: 1 }), { default: defaults, description });

const Tls = Type.Object(
  {
    certFile: Type.String({ minLength: 1, description: 'PEM certificate chain file.' }),
    keyFile: Type.String({ minLength: 1, description: 'PEM private key file (keep it 0600).' }),
    minVersion: Type.Enum(['TLSv1.2', 'TLSv1.3'], { default: 'TLSv1.2', description: 'Lowest TLS version accepted.' }),
  },
  { additionalProperties: false, description: 'Serve this plane over TLS. Required when the plane binds beyond loopback, unless a trusted TLS-terminating proxy is declared.' },
);

const Timeouts = Type.Object(
  {
    headersMs: Type.Integer({ minimum: 1000, maximum: 120_000, default: 10_000, description: 'Time a client has to send the complete request headers (slow-header defense).' }),
    requestMs: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000, description: 'Time a client has to send the complete request, body included (slow-body defense).' }),
    keepAliveMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 5_000, description: 'How long an idle keep-alive connection stays open.' }),
    idleMs: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 60_000, description: 'A connection with no traffic for this long is closed.' }),
  },
  { additionalProperties: false, default: {}, description: 'Connection and request timeouts, set against slow clients.' },
);

function planeSchema(name: string, port: number, purpose: string) {
  return Type.Object(
    {
      host: Type.String({ minLength: 1, default: '127.0.0.1', description: `IP address the ${name} plane listens on.` }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: port, description: `TCP port of the ${name} plane (0 picks a free port).` }),
      allow: Cidrs(`CIDR ranges allowed to connect to the ${name} plane; every other connection is closed before any routing.`, LOOPBACK_ONLY),
      trustedProxies: Cidrs(`CIDR ranges of TLS-terminating proxies in front of the ${name} plane; only their X-Forwarded-For is believed.`, []),
      tls: Type.Optional(Tls),
      bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024, description: 'Largest request body accepted.' }),
      timeouts: Timeouts,
    },
    { additionalProperties: false, default: {}, description: purpose },
  );
}

/** One route class's limit: `requests` per source in each fixed window of `windowSeconds`. */
const RateLimit = (route: string, source: string, requests: number, windowSeconds: number) =>
  Type.Object(
    {
      requests: Type.Integer({ minimum: 1, maximum: 100_000, default: requests, description: `${route}: requests allowed per ${source} in one window; the next is refused with 429 and \`Retry-After\`.` }),
      windowSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: windowSeconds, description: `${route}: length of the fixed window, in seconds.` }),
    },
    { additionalProperties: false, default: {}, description: `${route}, per ${source}.` },
  );

/** Hub names: URL-safe, since they appear in device-plane paths and SAS resource URIs. Hubs created through the API follow the same rule. */
export const HUB_NAME_PATTERN = '^[a-z][a-z0-9-]{0,49}$';

/** One hub's settings, in `hubs.<name>` and in the hub administration API. */
export const HubSettingsSchema = Type.Object(
  {
    partitions: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Partitions; a publisher\'s events always go to the same one.' }),
    retentionHours: Type.Integer({ minimum: 1, maximum: 8760, default: 168, description: 'Events older than this are deleted.' }),
    retentionMaxBytes: Type.Integer({ minimum: 1_048_576, maximum: 1_099_511_627_776, default: 1_073_741_824, description: 'Per partition: oldest events are deleted beyond this many body bytes.' }),
    schema: Type.Enum(['drone', 'truck', 'none'], { default: 'none', description: 'Built-in JSON schema events are checked against.' }),
    onInvalid: Type.Enum(['refuse', 'flag'], { default: 'refuse', description: 'An event failing the schema is refused (4xx), or stored with the property `rampart-schema-invalid`.' }),
    allowNonJson: Type.Boolean({ default: false, description: 'Accept bodies that are not JSON (binary telemetry).' }),
  },
  { additionalProperties: false },
);

export type HubSettings = Static<typeof HubSettingsSchema>;

export const ConfigSchema = Type.Object(
  {
    env: Type.Enum(['development', 'production'], {
      default: 'development',
      description: 'Deployment mode. Production refuses to start without a supplied master key.',
    }),
    dataDir: Type.String({ minLength: 1, default: './data', description: 'Directory for the embedded database, lock file and (in development only) the generated master key.' }),
    database: Type.Object(
      {
        driver: Type.Enum(['sqlite', 'postgres'], { default: 'sqlite', description: 'Embedded SQLite (one machine) or PostgreSQL.' }),
        sqlitePath: Type.String({ default: '', description: 'SQLite database file; empty means `<dataDir>/rampart.db`.' }),
        busyTimeoutMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 5_000, description: 'How long SQLite waits for a lock held by another process.' }),
        postgresUrl: Type.String({ default: '', description: 'PostgreSQL connection URL (`postgres://user@host:5432/db`).', 'x-secret': true }),
        postgresSchema: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', default: 'public', description: 'PostgreSQL schema holding Rampart\'s tables.' }),
        poolMax: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'Most PostgreSQL connections held open.' }),
        migrateOnStart: Type.Boolean({ default: true, description: 'Apply pending migrations at start-up; when false, start-up fails if any are pending.' }),
      },
      { additionalProperties: false, default: {}, description: 'Where Rampart keeps its data.' },
    ),
    keyring: Type.Object(
      {
        masterKey: Type.Optional(
          Type.String({
            description: 'Key-encryption key: 32 random bytes, base64 (`openssl rand -base64 32`).',
            'x-secret': true,
            'x-env': 'RAMPART_MASTER_KEY',
            'x-env-only': true,
          }),
        ),
        masterKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the master key (base64); must be mode 0600.' })),
      },
      { additionalProperties: false, default: {}, description: 'The key-encryption key that wraps every data and signing key.' },
    ),
    log: Type.Object(
      {
        level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { default: 'info', description: 'Lowest level written.' }),
        format: Type.Enum(['auto', 'json', 'pretty'], { default: 'auto', description: 'JSON lines, or readable lines; `auto` is readable on a terminal in development, JSON otherwise.' }),
      },
      { additionalProperties: false, default: {}, description: 'Structured logs (secrets and personal data are redacted).' },
    ),
    bootstrap: Type.Object(
      {
        adminUsername: Type.String({ pattern: '^[a-z][a-z0-9._-]{1,63}$', default: 'admin', description: 'Name of the first administrator account, created on first start.' }),
        setupCodeTtlHours: Type.Integer({ minimum: 1, maximum: 72, default: 24, description: 'How long the one-time setup code stays valid.' }),
      },
      { additionalProperties: false, default: {}, description: 'First-start bootstrap.' },
    ),
    identity: Type.Object(
      {
        sessions: Type.Object(
          {
            idleTimeoutMinutes: Type.Integer({ minimum: 1, maximum: 60, default: 60, description: 'A browser session unused for this long ends (NIST SP 800-63B-4 AAL2: at most 1 h).' }),
            absoluteTimeoutHours: Type.Integer({ minimum: 1, maximum: 24, default: 24, description: 'A browser session ends this long after sign-in, used or not (AAL2: at most 24 h).' }),
          },
          { additionalProperties: false, default: {}, description: 'Server-side browser sessions.' },
        ),
        stepUpMinutes: Type.Integer({ minimum: 1, maximum: 15, default: 5, description: 'Sensitive actions need a second factor proven within this many minutes.' }),
        passwords: Type.Object(
          {
            memoryKiB: Type.Integer({ minimum: 19_456, maximum: 1_048_576, default: 19_456, description: 'Argon2id memory cost in KiB (OWASP minimum 19 MiB).' }),
            iterations: Type.Integer({ minimum: 2, maximum: 20, default: 2, description: 'Argon2id time cost.' }),
            parallelism: Type.Integer({ minimum: 1, maximum: 8, default: 1, description: 'Argon2id lanes.' }),
          },
          { additionalProperties: false, default: {}, description: 'Password hashing (Argon2id).' },
        ),
        throttle: Type.Object(
          {
            freeFailures: Type.Integer({ minimum: 1, maximum: 20, default: 5, description: 'Consecutive failures on one account before delays start.' }),
            freeFailuresPerSource: Type.Integer({ minimum: 5, maximum: 10_000, default: 50, description: 'Failures from one source address (any accounts) before delays start; higher than per account because a depot\'s drivers may share one address. A quiet period of maxLockSeconds forgives them.' }),
            baseLockSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'First lockout; each further failure doubles it.' }),
            maxLockSeconds: Type.Integer({ minimum: 60, maximum: 86_400, default: 900, description: 'Longest single lockout.' }),
            disableAfterFailures: Type.Integer({ minimum: 10, maximum: 100, default: 100, description: 'Consecutive failures after which the account\'s password is disabled until an administrator resets it (NIST: at most 100).' }),
          },
          { additionalProperties: false, default: {}, description: 'Brute-force protection for sign-in and second factors.' },
        ),
        webauthn: Type.Object(
          {
            rpId: Type.String({ minLength: 1, default: 'localhost', description: 'WebAuthn relying-party id: the registrable domain the console is served from.' }),
            rpName: Type.String({ minLength: 1, default: 'Rampart', description: 'Name authenticators show.' }),
            origins: Type.Array(Type.String({ pattern: '^https?://' }), { default: ['http://localhost:8080'], description: 'Exact origins (scheme://host[:port]) the console is served from; passkey ceremonies from any other origin are refused.' }),
          },
          { additionalProperties: false, default: {}, description: 'Passkeys (WebAuthn).' },
        ),
        tokens: Type.Object(
          {
            issuer: Type.String({ minLength: 1, default: 'urn:rampart', description: 'The `iss` of access tokens Rampart issues to service principals.' }),
            audience: Type.String({ minLength: 1, default: 'urn:rampart:api', description: 'The `aud` of those tokens.' }),
            ttlSeconds: Type.Integer({ minimum: 30, maximum: 600, default: 300, description: 'Access-token lifetime (at most 10 min).' }),
          },
          { additionalProperties: false, default: {}, description: 'OAuth 2.0 client-credentials tokens for service principals.' },
        ),
        sso: Type.Object(
          {
            enabled: Type.Boolean({ default: false, description: 'Offer sign-in through an external OpenID Connect provider.' }),
            issuer: Type.String({ default: '', description: 'The provider\'s issuer URL (its discovery document is read from `<issuer>/.well-known/openid-configuration`).' }),
            clientId: Type.String({ default: '', description: 'Client id registered at the provider.' }),
            clientSecret: Type.String({ default: '', description: 'Client secret registered at the provider.', 'x-secret': true, 'x-env': 'RAMPART_SSO_CLIENT_SECRET', 'x-env-only': true }),
            redirectUri: Type.String({ default: '', description: 'This Rampart\'s callback, `<app URL>/api/v1/auth/sso/callback`, as registered at the provider.' }),
            scopes: Type.Array(Type.String({ minLength: 1 }), { default: ['openid', 'profile', 'email'], description: 'Scopes requested.' }),
            usernameClaim: Type.String({ minLength: 1, default: 'preferred_username', description: 'ID-token claim that names the Rampart account.' }),
            rolesClaim: Type.String({ minLength: 1, default: 'groups', description: 'ID-token claim (a string or an array) whose values are mapped to roles.' }),
            roleMap: Type.Record(Type.String(), Type.Enum(['admin', 'dispatcher', 'driver', 'auditor']), { default: {}, description: 'Claim value → Rampart role. A user with no mapped value is refused (deny by default); with several, the first listed wins.' }),
            requireIdpMfa: Type.Boolean({ default: false, description: 'Rely on the provider\'s second factor: its ID token must assert one (`amr`/`acr` below) or sign-in is refused. When false, Rampart asks for its own second factor after SSO.' }),
            mfaAmrValues: Type.Array(Type.String({ minLength: 1 }), { default: ['mfa', 'hwk', 'swk', 'otp', 'fido'], description: '`amr` values that count as multi-factor.' }),
            mfaAcrValues: Type.Array(Type.String({ minLength: 1 }), { default: [], description: '`acr` values that count as multi-factor.' }),
          },
          { additionalProperties: false, default: {}, description: 'Single sign-on through OpenID Connect (authorization code + PKCE).' },
        ),
      },
      { additionalProperties: false, default: {}, description: 'Accounts, sign-in, sessions and tokens.' },
    ),
    devices: Type.Object(
      {
        sasHosts: Type.Array(Type.String({ pattern: '^[a-z0-9.-]+$' }), {
          default: ['localhost', '127.0.0.1'],
          description: 'Host names a SAS token\'s resource URI may name (the namespace or hub host devices are configured with). Tokens for any other host are refused.',
        }),
        maxTokenLifetimeSeconds: Type.Integer({ minimum: 60, maximum: 31_536_000, default: 604_800, description: 'Longest accepted SAS token lifetime (expiry minus now); longer-lived tokens are refused.' }),
        clientCaFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA bundle for device client certificates (X.509 authentication on TLS listeners). Without it, certificates are not requested.' })),
      },
      { additionalProperties: false, default: {}, description: 'Device credentials.' },
    ),
    hubs: Type.Record(
      Type.String({ pattern: HUB_NAME_PATTERN }),
      HubSettingsSchema,
      {
        default: {
          'drone-telemetry': { partitions: 4, retentionHours: 168, retentionMaxBytes: 1_073_741_824, schema: 'drone', onInvalid: 'refuse', allowNonJson: false },
          'truck-telemetry': { partitions: 4, retentionHours: 168, retentionMaxBytes: 1_073_741_824, schema: 'truck', onInvalid: 'refuse', allowNonJson: false },
          'security-events': { partitions: 1, retentionHours: 2160, retentionMaxBytes: 1_073_741_824, schema: 'none', onInvalid: 'refuse', allowNonJson: false },
        },
        description: 'Event hubs by name: partitions, retention and content rules.',
      },
    ),
    ingest: Type.Object(
      {
        maxRequestBytes: Type.Integer({ minimum: 1024, maximum: 16_777_216, default: 1_048_576, description: 'Largest HTTPS ingest request (a batch).' }),
        maxEventBytes: Type.Integer({ minimum: 256, maximum: 1_048_576, default: 262_144, description: 'Largest single event body, on every protocol.' }),
        maxBatchEvents: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000, description: 'Most events in one batch.' }),
        failuresPerSource: Type.Integer({ minimum: 1, maximum: 10_000, default: 20, description: 'Authentication failures from one address before it is refused for `throttleSeconds` (429).' }),
        throttleSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'How long a source address that failed too often is refused.' }),
      },
      { additionalProperties: false, default: {}, description: 'Telemetry ingest limits (device plane and MQTT).' },
    ),
    mqtt: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Run the MQTT listener for devices.' }),
        host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'IP address the MQTT listener binds.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8883, description: 'TCP port (8883 is MQTT over TLS; 0 picks a free port).' }),
        allow: Type.Array(Type.String({ minLength: 1 }), { default: ['127.0.0.0/8', '::1/128'], description: 'CIDR ranges allowed to connect; others are closed before any MQTT byte.' }),
        tls: Type.Optional(
          Type.Object(
            {
              certFile: Type.String({ minLength: 1, description: 'PEM certificate chain file.' }),
              keyFile: Type.String({ minLength: 1, description: 'PEM private key file.' }),
              minVersion: Type.Enum(['TLSv1.2', 'TLSv1.3'], { default: 'TLSv1.2', description: 'Lowest TLS version accepted.' }),
            },
            { additionalProperties: false, description: 'Serve MQTT over TLS. Required beyond loopback.' },
          ),
        ),
        connectTimeoutMs: Type.Integer({ minimum: 1000, maximum: 120_000, default: 10_000, description: 'Time a client has to authenticate after connecting.' }),
      },
      { additionalProperties: false, default: {}, description: 'MQTT device listener (3.1.1 and 5).' },
    ),
    eventLog: Type.Object(
      {
        path: Type.String({ default: '', description: 'SQLite file of the embedded event log; empty means `<dataDir>/events.db`.' }),
        synchronous: Type.Enum(['full', 'normal'], { default: 'full', description: '`full`: an acknowledged event survives power loss (one fsync per group commit); `normal`: survives a process crash only.' }),
        maxGroupEvents: Type.Integer({ minimum: 1, maximum: 100_000, default: 5000, description: 'Most events committed in one transaction (group commit).' }),
      },
      { additionalProperties: false, default: {}, description: 'The embedded, durable, partitioned event log.' },
    ),
    delivery: Type.Object(
      {
        proofRadiusMeters: Type.Integer({ minimum: 10, maximum: 5000, default: 150, description: 'A proof of delivery taken farther than this from the destination is recorded with `location_verified: false` (never refused, never silently accepted).' }),
        maxPhotoBytes: Type.Integer({ minimum: 65_536, maximum: 26_214_400, default: 5_242_880, description: 'Largest doorstep photo (JPEG or PNG) accepted with a proof of delivery, in bytes before base64.' }),
        maxSignatureBytes: Type.Integer({ minimum: 4096, maximum: 2_097_152, default: 262_144, description: 'Largest PNG rendering of a signature, in bytes before base64.' }),
        maxImagePixels: Type.Integer({ minimum: 65_536, maximum: 50_000_000, default: 2_000_000, description: 'Most pixels (width × height, read from the image header before decoding) of a proof-of-delivery image. Images are decoded on the server\'s main thread: about 0.2 s for 1600 × 1200, over 1 s for 12 megapixels; have the app downscale photos rather than raise this.' }),
        proofRetentionYears: Type.Integer({ minimum: 1, maximum: 30, default: 7, description: 'Years a proof of delivery\'s personal data (signer name, signature, photo) is kept before it is shredded; the signed receipt and the non-personal facts stay verifiable.' }),
      },
      { additionalProperties: false, default: {}, description: 'Proof of delivery: location check, image limits and retention.' },
    ),
    planning: Type.Object(
      {
        osrmUrl: Type.String({ default: '', description: 'Base URL of an OSRM server (`http://127.0.0.1:5000`) whose `table` service gives road distances and durations for route planning; empty plans with great-circle distances and `averageSpeedKmh`. Plain HTTP beyond loopback is refused in production.' }),
        osrmTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000, description: 'Time one OSRM request may take, body included; then planning fails with `planning.routing_failed`.' }),
        averageSpeedKmh: Type.Integer({ minimum: 1, maximum: 200, default: 40, description: 'Average truck speed turning great-circle distances into driving times: when no OSRM server is configured, or when a caller falls back to great-circle planning.' }),
        serviceMinutes: Type.Integer({ minimum: 0, maximum: 240, default: 5, description: 'Time spent at a stop that does not state its own service time.' }),
        drone: Type.Object(
          {
            cruiseSpeedKmh: Type.Integer({ minimum: 10, maximum: 300, default: 54, description: 'Drone cruise speed, for a mission\'s estimated duration.' }),
            cruiseAltitudeM: Type.Integer({ minimum: 10, maximum: 500, default: 100, description: 'Cruise altitude of drone missions, metres above the take-off point.' }),
            rangeReservePercent: Type.Integer({ minimum: 0, maximum: 90, default: 20, description: 'Share of a drone\'s range kept in reserve: a round trip longer than the rest is refused.' }),
          },
          { additionalProperties: false, default: {}, description: 'Drone missions.' },
        ),
        noFlyZones: Type.Record(
          Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$' }),
          Type.Array(
            Type.Array(Type.Tuple([Type.Number({ minimum: -180, maximum: 180 }), Type.Number({ minimum: -90, maximum: 90 })]), { minItems: 4, maxItems: 10_000 }),
            { minItems: 1, maxItems: 100 },
          ),
          { default: {}, description: 'No-fly zones by name (letters, digits, space, `.`, `_`, `-`): GeoJSON Polygon coordinates (`[[[lon, lat], …]]`, the outer ring then any holes; each ring closed, at least 4 positions). A drone leg may not enter one.' },
        ),
      },
      { additionalProperties: false, default: {}, description: 'Route planning for trucks and drone missions.' },
    ),
    audit: Type.Object(
      {
        checkpointIntervalSeconds: Type.Integer({ minimum: 10, maximum: 86_400, default: 300, description: 'A signed checkpoint of the audit chain\'s head is written at least this often while entries arrive.' }),
        checkpointEveryEntries: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000, description: '…and after this many entries, whichever comes first.' }),
      },
      { additionalProperties: false, default: {}, description: 'The tamper-evident audit trail.' },
    ),
    webhooks: Type.Object(
      {
        allowPrivateCidrs: Cidrs('CIDR ranges webhooks may reach although they are loopback, private (RFC 1918), CGNAT, link-local, unique-local or otherwise non-public; plain `http://` is allowed only to these. Empty: public HTTPS destinations only.', []),
        timeoutMs: Type.Integer({ minimum: 1000, maximum: 60_000, default: 15_000, description: 'Time one delivery attempt may take, from connecting to the end of the response.' }),
        maxAttempts: Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'Attempts per delivery before it is marked failed.' }),
        baseBackoffSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'Wait after the first failed attempt; each further failure doubles it (with random jitter).' }),
        maxBackoffSeconds: Type.Integer({ minimum: 1, maximum: 604_800, default: 21_600, description: 'Longest wait between two attempts.' }),
        pollIntervalMs: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000, description: 'How often the dispatcher looks for deliveries that are due.' }),
        maxResponseBytes: Type.Integer({ minimum: 0, maximum: 1_048_576, default: 65_536, description: 'Most bytes of a receiver\'s response read before the connection is closed (the body is discarded).' }),
      },
      { additionalProperties: false, default: {}, description: 'Outbound webhooks for shipment events (signed, retried, SSRF-guarded).' },
    ),
    shutdown: Type.Object(
      {
        drainTimeoutMs: Type.Integer({ minimum: 0, maximum: 300_000, default: 10_000, description: 'How long shutdown waits for in-flight requests before closing their connections.' }),
      },
      { additionalProperties: false, default: {}, description: 'Graceful shutdown.' },
    ),
    streams: Type.Object(
      {
        heartbeatSeconds: Type.Integer({ minimum: 1, maximum: 300, default: 15, description: 'An idle Server-Sent Events stream sends a comment line this often, so proxies keep it open.' }),
        maxMinutes: Type.Integer({ minimum: 1, maximum: 60, default: 5, description: 'A stream ends after this long and the client reconnects, authenticating again.' }),
        sessionCheckMs: Type.Integer({ minimum: 100, maximum: 300_000, default: 10_000, description: 'How often an open stream checks that its caller\'s session is still signed in; a logout, a logout everywhere or a disabled account ends the stream at the next check.' }),
        fleetBatchMs: Type.Integer({ minimum: 0, maximum: 5_000, default: 250, description: 'The fleet status stream (`GET /api/v1/devices/status/stream`) gathers changes this long and sends them as one message, so a busy fleet costs one write per interval rather than one per reading.' }),
      },
      { additionalProperties: false, default: {}, description: 'Server-Sent Events streams on the app plane (telemetry partitions and the fleet status for the live map).' },
    ),
    console: Type.Object(
      {
        tileUrl: Type.String({ default: '', maxLength: 500, description: 'Map tiles for the console and the driver app, as a URL template with `{z}`, `{x}` and `{y}` (https, or http to loopback). Empty: maps draw depots, areas, routes and positions on a plain background with a scale bar. The tile origin is added to the Content-Security-Policy\'s `img-src`.' }),
        tileAttribution: Type.String({ default: '', maxLength: 300, description: 'Attribution shown under the map for the tiles (plain text).' }),
      },
      { additionalProperties: false, default: {}, description: 'The web console served on the app plane at `/console/`.' },
    ),
    perimeter: Type.Object(
      {
        rateLimits: Type.Object(
          {
            tracking: RateLimit('Public tracking page (`GET /t/{token}`)', 'source address', 30, 60),
            receipts: RateLimit('Public receipt checks (`/r/{receiptId}`)', 'source address', 30, 60),
            driver: RateLimit('Driver-app location pings (`POST /api/v1/driver/location`)', 'driver account', 30, 60),
          },
          { additionalProperties: false, default: {}, description: 'Per-route-class request limits, counted in memory per process.' },
        ),
      },
      { additionalProperties: false, default: {}, description: 'What guards the app plane\'s routes before they do any work. Limits are counted in memory, per process.' },
    ),
    planes: Type.Object(
      {
        app: planeSchema('app', 8080, 'Console, driver app and /api/v1.'),
        device: planeSchema('device', 8081, 'Device telemetry ingest only.'),
        admin: planeSchema('admin', 9400, 'Health, readiness, metrics and operator endpoints.'),
      },
      { additionalProperties: false, default: {}, description: 'The three HTTP listeners.' },
    ),
  },
  { additionalProperties: false },
);

export type RampartConfig = Static<typeof ConfigSchema>;
export type PlaneConfig = RampartConfig['planes']['app'];
export type PlaneName = keyof RampartConfig['planes'];
export const PLANE_NAMES: readonly PlaneName[] = ['app', 'device', 'admin'];

/** A leaf option of the schema with its dotted path. */
export interface ConfigOption {
  readonly path: string;
  readonly schema: TSchema & Record<string, unknown>;
  readonly env: string;
}

function envName(path: string): string {
  return `RAMPART_${path
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replaceAll('.', '_')
    .toUpperCase()}`;
}

/** Every leaf option, in schema order, with its environment variable. */
export function configOptions(schema: TSchema = ConfigSchema, prefix = ''): ConfigOption[] {
  const out: ConfigOption[] = [];
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  for (const [key, child] of Object.entries(props)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const record = child as TSchema & Record<string, unknown>;
    // Objects with named properties are sections; maps (hubs, roleMap) are single options.
    if (record['type'] === 'object' && record['properties'] !== undefined) {
      out.push(...configOptions(child, path));
    } else {
      const explicit = record['x-env'];
      out.push({ path, schema: record, env: typeof explicit === 'string' ? explicit : envName(path) });
    }
  }
  return out;
}
