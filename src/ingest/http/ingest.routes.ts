import type { DeviceStatusBoard } from '../../telemetry/status.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RampartConfig } from '../../config/schema.ts';
import type { AuthenticatedDevice, DeviceAuthenticator } from '../../devices/auth.ts';
import { clientCertificateOf } from '../../http/listen.ts';
import type { PlaneApp } from '../../http/plane.ts';
import { ProblemSchema } from '../../http/problem.ts';
import { isRampartError, RampartError } from '../../kernel/errors.ts';
import type { Metrics } from '../../kernel/metrics.ts';
import type { EventLog } from '../../stream/event-log.ts';
import { authFailureReason, type DeviceFailureReason, type DeviceFailureRecorder } from '../auth-failures.ts';
import { prepareEvent, type HubRules, type PreparedEvent } from '../events.ts';
import type { LastSeenRecorder } from '../last-seen.ts';
import type { SourceThrottle } from '../../perimeter/source-throttle.ts';
import { headerProperties, isBatch, parseBatch, parseBrokerPropertiesHeader } from './envelope.ts';

// Event Hubs-style publishing on the device plane:
//
//   POST /<hub>/publishers/<deviceId>/messages
//   Authorization: SharedAccessSignature sr=…&sig=…&se=…&skn=primary|secondary
//
// The pipeline, in order, all before the body is read:
//   1. the source address is not throttled (429 + Retry-After),
//   2. the SAS token names its key (skn, as Event Hubs requires) and verifies
//      for `<hub>/publishers/<deviceId>/messages` (401),
//   3. publisher policy: the token's device is the path's device, and a
//      partition key, if any, is that device (403),
//   4. the hub exists (404) — only now, so strangers cannot probe hub names;
// then the body is read (at most ingest.maxRequestBytes, 413), every event is
// checked (400/415), and the events are appended together. 201 means durable.

export const PUBLISH_PATH = '/:hub/publishers/:deviceId/messages';

export interface IngestHttpDeps {
  readonly eventLog: EventLog;
  readonly authenticator: DeviceAuthenticator;
  readonly throttle: SourceThrottle;
  readonly recordFailure: DeviceFailureRecorder;
  readonly lastSeen: LastSeenRecorder;
  /** The live view of devices for the console's map (optional). */
  readonly status?: DeviceStatusBoard;
  readonly metrics: Metrics;
  readonly ingest: RampartConfig['ingest'];
}

interface Admitted {
  readonly device: AuthenticatedDevice;
  readonly hub: string;
  readonly rules: HubRules;
  readonly messageId: string | undefined;
}

const ParamsSchema = Type.Object({
  hub: Type.String({ maxLength: 50, description: 'Event hub name.' }),
  deviceId: Type.String({ maxLength: 128, description: 'The publisher: the sending device\'s id.' }),
});

const SAS_SCHEME = /^SharedAccessSignature\s+/i;
const PROTOCOL = 'https';

export async function registerIngestRoutes(app: PlaneApp, deps: IngestHttpDeps): Promise<void> {
  const { eventLog, authenticator, throttle, metrics } = deps;
  const admitted = new WeakMap<FastifyRequest, Admitted>();

  async function refuse(request: FastifyRequest, reply: FastifyReply, reason: DeviceFailureReason, deviceId: string): Promise<never> {
    await deps.recordFailure({ reason, deviceId, sourceIp: request.ip, protocol: PROTOCOL });
    if (reason === 'publisher_policy') throw new RampartError('device.forbidden', `device may publish only as itself (path ${deviceId.slice(0, 128)})`, { publicDetail: 'a device publishes only as itself, with its own id as partition key' });
    reply.header('www-authenticate', 'SharedAccessSignature');
    throw new RampartError('device.unauthorized', `device authentication refused: ${reason}`);
  }

  async function admit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const wait = throttle.retryAfter(request.ip);
    if (wait > 0) throw new RampartError('ingest.throttled', `source ${request.ip} throttled after repeated authentication failures`, { retryAfterSeconds: wait });
    const { hub, deviceId } = request.params as { hub: string; deviceId: string };
    const authorization = request.headers.authorization;
    const certificate = authorization === undefined ? clientCertificateOf(request.raw.socket) : undefined;
    if (certificate === undefined && (authorization === undefined || !SAS_SCHEME.test(authorization))) return refuse(request, reply, authorization === undefined ? 'missing' : 'malformed', deviceId);

    let device: AuthenticatedDevice;
    try {
      device =
        certificate !== undefined
          ? await authenticator.verifyCertificate(deviceId, certificate.thumbprint, certificate.notAfter)
          : await authenticator.verifySas(`SharedAccessSignature ${(authorization ?? '').replace(SAS_SCHEME, '')}`, `${hub}/publishers/${deviceId}/messages`, { deviceId, keyEncodings: ['utf8'], requireKeyName: true });
    } catch (error) {
      const reason = authFailureReason(error);
      if (reason === undefined) throw error;
      return refuse(request, reply, reason, deviceId);
    }
    if (device.id !== deviceId) return refuse(request, reply, 'publisher_policy', deviceId);
    const broker = parseBrokerPropertiesHeader(request.headers['brokerproperties']);
    if (broker.partitionKey !== undefined && broker.partitionKey !== deviceId) return refuse(request, reply, 'publisher_policy', deviceId);

    // The live definitions: a hub created or changed through the API applies from the next request.
    const rules = eventLog.hubs.get(hub);
    if (rules === undefined) throw new RampartError('ingest.unknown_hub', `no hub ${hub.slice(0, 50)}`, { publicDetail: 'no such event hub' });
    // Bodies are stored as sent; a compressed one would be stored compressed and fail every check.
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new RampartError('request.unsupported_media_type', `content-encoding ${encoding.slice(0, 40)} refused`, { publicDetail: 'send bodies uncompressed (no Content-Encoding)' });
    }
    admitted.set(request, { device, hub, rules, messageId: broker.messageId });
  }

  await app.register((scope, _options, registered) => {
    // Event bodies are bytes of any type: read every body raw and let the checks decide.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.ingest.maxRequestBytes }, (_request, body, done) => done(null, body));
    scope.addHook('onError', (_request, _reply, error, done) => {
      const reason = isRampartError(error) ? error.code : typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'error';
      // Authentication refusals are counted by the failure recorder.
      if (reason !== 'device.unauthorized' && reason !== 'device.forbidden') metrics.ingestRefused.inc({ protocol: PROTOCOL, reason });
      done();
    });

    scope.post(
      PUBLISH_PATH,
      {
        bodyLimit: deps.ingest.maxRequestBytes,
        onRequest: admit,
        schema: {
          tags: ['ingest'],
          summary: 'Publish one event (the body) or a batch (application/vnd.microsoft.servicebus.json) as a device',
          params: ParamsSchema,
          response: { 201: Type.Null(), 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 413: ProblemSchema, 415: ProblemSchema, 429: ProblemSchema },
        },
      },
      async (request, reply) => {
        const state = admitted.get(request);
        if (state === undefined) throw new RampartError('internal', 'ingest request reached the handler without admission');
        // The device may have been disabled or its key rotated while the body arrived.
        if (!authenticator.stillValid(state.device)) return refuse(request, reply, 'disabled', state.device.id);

        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const limits = { maxEventBytes: deps.ingest.maxEventBytes };
        const publisher = state.device.id;
        let events: PreparedEvent[];
        if (isBatch(request.headers['content-type'])) {
          const batch = parseBatch(body, deps.ingest.maxBatchEvents);
          const foreign = batch.findIndex((event) => event.partitionKey !== undefined && event.partitionKey !== publisher);
          if (foreign >= 0) return refuse(request, reply, 'publisher_policy', publisher);
          events = batch.map((event, index) => prepareEvent(publisher, event, state.rules, limits, index));
        } else {
          const candidate = { body, contentType: request.headers['content-type'], properties: headerProperties(request.headers), messageId: state.messageId };
          events = [prepareEvent(publisher, candidate, state.rules, limits)];
        }

        await eventLog.append(state.hub, events);
        metrics.ingestEvents.inc({ hub: state.hub, protocol: PROTOCOL }, events.length);
        deps.lastSeen.seen(publisher);
        deps.status?.record(publisher, state.hub, events, new Date());
        return reply.code(201).send();
      },
    );
    registered();
  });
}
