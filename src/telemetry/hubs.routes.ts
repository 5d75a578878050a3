import type { FastifyRequest } from 'fastify';
import { Value } from 'typebox/value';
import { HubSettingsSchema, type HubSettings } from '../config/schema.ts';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { auditActor, auditContext } from '../identity/access.ts';
import type { EventLog } from '../stream/event-log.ts';
import type { HubAdministration, HubChangeActor } from './hubs.service.ts';
import { presentHub } from './present.ts';
import { HubChangeBody, HubCreateBody, HubListSchema, HubParams, HubSchema } from './telemetry.schema.ts';

// The event hubs on the app plane: the list for anyone holding
// `telemetry.read`, and creating and changing hubs for administrators
// (`hub.manage`, with a recent second factor). Hubs named in the configuration
// are listed with origin `config` and change only there.

export interface HubRouteDeps {
  readonly eventLog: EventLog;
  readonly administration: HubAdministration;
}

const Errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };
/** What a created hub has for each setting the request leaves out: the configuration's defaults. */
const DEFAULTS = Value.Default(HubSettingsSchema, {}) as HubSettings;

export function registerHubRoutes(app: PlaneApp, deps: HubRouteDeps): void {
  const { eventLog, administration } = deps;
  const change = (request: FastifyRequest): HubChangeActor => ({ actor: auditActor(request.actor), context: auditContext(request) });

  app.get(
    '/api/v1/hubs',
    {
      config: { access: { permission: 'telemetry.read' } },
      schema: { tags: ['telemetry'], summary: 'The event hubs: origin, partitions, retention and content rules', response: { 200: HubListSchema, ...Errors } },
    },
    () => ({ hubs: [...eventLog.hubs.values()].map(presentHub) }),
  );

  app.post(
    '/api/v1/hubs',
    {
      config: { access: { permission: 'hub.manage' } },
      schema: { tags: ['telemetry'], summary: 'Create an event hub (step-up; audited); devices may publish to it at once', body: HubCreateBody, response: { 201: HubSchema, ...Errors } },
    },
    async (request, reply) => {
      const { name, ...given } = request.body;
      const created = await administration.create({ name, ...DEFAULTS, ...given }, change(request));
      return reply.code(201).send(presentHub(created));
    },
  );

  app.patch(
    '/api/v1/hubs/:hub',
    {
      config: { access: { permission: 'hub.manage' } },
      schema: {
        tags: ['telemetry'],
        summary: 'Change an API-created hub\'s retention or content rules (step-up; audited); configured hubs change only in the configuration',
        params: HubParams,
        body: HubChangeBody,
        response: { 200: HubSchema, ...Errors },
      },
    },
    async (request) => presentHub(await administration.update(request.params.hub, request.body, change(request))),
  );
}
