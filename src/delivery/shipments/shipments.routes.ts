import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { PlaneApp } from '../../http/plane.ts';
import { can, listScope, type Permission, type Resource } from '../../identity/rbac.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Delivery } from '../delivery.ts';
import { changeOf, defined, Errors } from '../schemas.ts';
import { listShipments, shipmentHistory } from './shipments.query.ts';
import { AssignBody, CreateBody, DetailSchema, HistorySchema, IdParams, ListQuery, ListResponse, PatchBody, StatusBody, SummarySchema, TokenIssued } from './shipments.schema.ts';
import type { ShipmentSummary } from './shipments.store.ts';
import { checkTransition } from './status.ts';
import { trackingPath } from './tracking-token.ts';

// Shipments on the app plane, for the console and the driver app. A shipment
// the caller may not see (another depot, another driver's) answers 404 exactly
// like a missing one. Recipient data appears only in a shipment's detail and
// only for callers with shipment.recipient.read; lists never carry it.

export function shipmentResource(s: ShipmentSummary): Resource {
  return { type: 'shipment', id: s.id, depotId: s.depotId, ...(s.assignedDriverId === null ? {} : { ownerId: s.assignedDriverId }) };
}

export function toUtc(time: string | undefined): string | undefined {
  return time === undefined ? undefined : new Date(time).toISOString();
}

export function registerShipmentRoutes(app: PlaneApp, delivery: Delivery): void {
  const { shipments } = delivery;

  const visible = async (request: FastifyRequest, id: string, permission: Permission = 'shipment.read'): Promise<ShipmentSummary> => {
    const shipment = await shipments.get(id);
    // Seeing it at all needs shipment.read on the object; a further permission is checked on top.
    if (!can(request.actor, 'shipment.read', shipmentResource(shipment))) throw new RampartError('shipment.not_found', `shipment ${id} not visible to caller`);
    if (permission !== 'shipment.read' && !can(request.actor, permission, shipmentResource(shipment))) throw new RampartError('access.denied', `${permission} refused on shipment ${id}`);
    return shipment;
  };

  app.get(
    '/api/v1/shipments',
    {
      config: { access: { permission: 'shipment.read' } },
      schema: { tags: ['shipments'], summary: 'List shipments: filter, search by tracking number or reference, sort, paginate (no recipient data)', querystring: ListQuery, response: { 200: ListResponse, ...Errors } },
    },
    async (request) => {
      const q = request.query;
      return listShipments(delivery.db, {
        limit: q.limit,
        ...listScope(request.actor, 'shipment'),
        ...defined({ depot: q.depot, status: q.status, mode: q.mode, driver: q.driver, windowFrom: toUtc(q.windowFrom), windowTo: toUtc(q.windowTo), q: q.q, sort: q.sort, order: q.order, cursor: q.cursor }),
      });
    },
  );

  app.post(
    '/api/v1/shipments',
    {
      config: { access: { permission: 'shipment.manage' } },
      schema: {
        tags: ['shipments'],
        summary: 'Create a shipment; returns its tracking token once',
        body: CreateBody,
        response: { 201: Type.Object({ shipment: DetailSchema, ...TokenIssued.properties }), ...Errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!can(request.actor, 'shipment.manage', { type: 'depot', depotId: body.depotId })) throw new RampartError('depot.not_found', `depot ${body.depotId} not visible to caller`);
      const created = await shipments.create(
        {
          depotId: body.depotId,
          reference: body.reference ?? null,
          recipient: { name: body.recipient.name, phone: body.recipient.phone ?? null, address: body.recipient.address },
          destination: body.destination,
          parcel: { weightKg: body.parcel.weightKg, lengthCm: body.parcel.lengthCm ?? null, widthCm: body.parcel.widthCm ?? null, heightCm: body.parcel.heightCm ?? null },
          mode: body.mode,
          window: body.window,
          requiredProof: body.requiredProof ?? ['signature'],
        },
        changeOf(request),
      );
      return reply.code(201).send({ shipment: created.shipment, trackingToken: created.trackingToken, trackingPath: trackingPath(created.trackingToken) });
    },
  );

  app.get(
    '/api/v1/shipments/:id',
    { config: { access: { permission: 'shipment.read' } }, schema: { tags: ['shipments'], summary: 'One shipment; recipient data for callers allowed to see it', params: IdParams, response: { 200: DetailSchema, ...Errors } } },
    async (request) => {
      const shipment = await visible(request, request.params.id);
      const withRecipient = can(request.actor, 'shipment.recipient.read', shipmentResource(shipment));
      return { ...shipment, recipient: withRecipient ? await shipments.recipient(shipment.id) : null };
    },
  );

  app.patch(
    '/api/v1/shipments/:id',
    {
      config: { access: { permission: 'shipment.manage' } },
      schema: { tags: ['shipments'], summary: 'Edit a shipment that is not yet out for delivery (mode only before assignment)', params: IdParams, body: PatchBody, response: { 200: SummarySchema, ...Errors } },
    },
    async (request) => {
      await visible(request, request.params.id, 'shipment.manage');
      return shipments.update(request.params.id, request.body, changeOf(request));
    },
  );

  app.get(
    '/api/v1/shipments/:id/history',
    { config: { access: { permission: 'shipment.read' } }, schema: { tags: ['shipments'], summary: 'Status history, oldest first (notes only for callers who see recipient data)', params: IdParams, response: { 200: HistorySchema, ...Errors } } },
    async (request) => {
      const shipment = await visible(request, request.params.id);
      return { items: await shipmentHistory(delivery.db, delivery.keyring, shipment.id, can(request.actor, 'shipment.recipient.read', shipmentResource(shipment))) };
    },
  );

  app.post(
    '/api/v1/shipments/:id/status',
    {
      config: { access: { permission: 'shipment.progress' } },
      schema: {
        tags: ['shipments'],
        summary: 'Change the status: out_for_delivery, failed (with a reason), returned; delivered only with proof of delivery',
        params: IdParams,
        body: StatusBody,
        response: { 200: SummarySchema, ...Errors },
      },
    },
    async (request) => {
      const { status, reason, note } = request.body;
      const shipment = await visible(request, request.params.id, status === 'returned' ? 'shipment.manage' : 'shipment.progress');
      if (status === 'delivered') {
        // An illegal change is reported as such; a legal one still needs its proof.
        checkTransition(shipment.status, { to: 'delivered' });
        throw new RampartError('shipment.proof_required', `shipment ${shipment.id}: delivered without proof`);
      }
      return shipments.transition(shipment.id, { to: status, reason, note }, changeOf(request));
    },
  );

  app.put(
    '/api/v1/shipments/:id/assignment',
    {
      config: { access: { permission: 'shipment.manage' } },
      schema: { tags: ['shipments'], summary: 'Assign to a driver of the shipment\'s depot (also after a failed attempt, or to another driver)', params: IdParams, body: AssignBody, response: { 200: SummarySchema, ...Errors } },
    },
    async (request) => {
      await visible(request, request.params.id, 'shipment.manage');
      return shipments.assign(request.params.id, request.body.driverId, changeOf(request));
    },
  );

  app.delete(
    '/api/v1/shipments/:id/assignment',
    { config: { access: { permission: 'shipment.manage' } }, schema: { tags: ['shipments'], summary: 'Unassign: an assigned shipment goes back to created', params: IdParams, response: { 200: SummarySchema, ...Errors } } },
    async (request) => {
      await visible(request, request.params.id, 'shipment.manage');
      return shipments.unassign(request.params.id, changeOf(request));
    },
  );

  app.post(
    '/api/v1/shipments/:id/tracking-token',
    { config: { access: { permission: 'shipment.manage' } }, schema: { tags: ['shipments'], summary: 'Replace the public tracking token; the old link stops working', params: IdParams, response: { 200: TokenIssued, ...Errors } } },
    async (request) => {
      await visible(request, request.params.id, 'shipment.manage');
      const token = await shipments.rotateTrackingToken(request.params.id, changeOf(request));
      return { trackingToken: token, trackingPath: trackingPath(token) };
    },
  );
}
