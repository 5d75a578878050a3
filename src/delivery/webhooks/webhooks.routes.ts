import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { PlaneApp } from '../../http/plane.ts';
import { auditActor, auditContext } from '../../identity/access.ts';
import { DeliveryPage, DeliveryQuery, DeliveryRetryParams, DeliverySchema, EndpointCreated, EndpointIdParams, EndpointPage, EndpointPatch, EndpointQuery, EndpointSchema, Errors, NewEndpoint } from './webhooks.schema.ts';
import type { WebhookChange, WebhookEndpoints } from './endpoints.ts';

// Webhook administration on the app plane (administrators). Creating an
// endpoint and rotating its secret issue a signing secret, shown once in that
// response: they need a recently proven second factor (`webhook.secret.issue`).

export interface WebhookRouteDeps {
  readonly endpoints: WebhookEndpoints;
}

export function registerWebhookRoutes(app: PlaneApp, deps: WebhookRouteDeps): void {
  const { endpoints } = deps;
  const change = (request: FastifyRequest): WebhookChange => ({ actor: auditActor(request.actor), context: auditContext(request) });
  const tags = ['webhooks'];

  app.post(
    '/api/v1/webhooks',
    {
      config: { access: { permission: 'webhook.secret.issue' } },
      schema: { tags, summary: 'Add a webhook endpoint (step-up); returns its signing secret once', body: NewEndpoint, response: { 201: EndpointCreated, ...Errors } },
    },
    async (request, reply) => reply.code(201).send(await endpoints.create(request.body, change(request))),
  );

  app.get(
    '/api/v1/webhooks',
    { config: { access: { permission: 'webhook.manage' } }, schema: { tags, summary: 'List webhook endpoints', querystring: EndpointQuery, response: { 200: EndpointPage, ...Errors } } },
    async (request) => endpoints.list({ limit: request.query.limit, ...(request.query.cursor === undefined ? {} : { cursor: request.query.cursor }) }),
  );

  app.get(
    '/api/v1/webhooks/:id',
    { config: { access: { permission: 'webhook.manage' } }, schema: { tags, summary: 'One webhook endpoint', params: EndpointIdParams, response: { 200: EndpointSchema, ...Errors } } },
    async (request) => endpoints.get(request.params.id),
  );

  app.patch(
    '/api/v1/webhooks/:id',
    {
      config: { access: { permission: 'webhook.manage' } },
      schema: { tags, summary: 'Change an endpoint\'s name, URL or events, or enable or disable it', params: EndpointIdParams, body: EndpointPatch, response: { 200: EndpointSchema, ...Errors } },
    },
    async (request) => {
      const body = request.body;
      return endpoints.update(
        request.params.id,
        {
          ...(body.name === undefined ? {} : { name: body.name }),
          ...(body.url === undefined ? {} : { url: body.url }),
          ...(body.events === undefined ? {} : { events: body.events }),
          ...(body.status === undefined ? {} : { status: body.status }),
        },
        change(request),
      );
    },
  );

  app.post(
    '/api/v1/webhooks/:id/rotate-secret',
    {
      config: { access: { permission: 'webhook.secret.issue' } },
      schema: { tags, summary: 'Replace the signing secret (step-up); returns the new secret once', params: EndpointIdParams, response: { 200: EndpointCreated, ...Errors } },
    },
    async (request) => endpoints.rotateSecret(request.params.id, change(request)),
  );

  app.delete(
    '/api/v1/webhooks/:id',
    { config: { access: { permission: 'webhook.manage' } }, schema: { tags, summary: 'Delete an endpoint and its delivery log', params: EndpointIdParams, response: { 204: Type.Null(), ...Errors } } },
    async (request, reply) => {
      await endpoints.remove(request.params.id, change(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      config: { access: { permission: 'webhook.manage' } },
      schema: { tags, summary: 'The endpoint\'s delivery log, newest first', params: EndpointIdParams, querystring: DeliveryQuery, response: { 200: DeliveryPage, ...Errors } },
    },
    async (request) => {
      const q = request.query;
      return endpoints.deliveries(request.params.id, { limit: q.limit, ...(q.status === undefined ? {} : { status: q.status }), ...(q.cursor === undefined ? {} : { cursor: q.cursor }) });
    },
  );

  app.post(
    '/api/v1/webhooks/:id/deliveries/:deliveryId/retry',
    {
      config: { access: { permission: 'webhook.manage' } },
      schema: { tags, summary: 'Send a delivered or failed delivery again, now', params: DeliveryRetryParams, response: { 200: DeliverySchema, ...Errors } },
    },
    async (request) => endpoints.retryDelivery(request.params.id, request.params.deliveryId, change(request)),
  );
}
