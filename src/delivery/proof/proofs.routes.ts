import type { FastifyRequest } from 'fastify';
import type { PlaneApp } from '../../http/plane.ts';
import { can, type Permission } from '../../identity/rbac.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Delivery } from '../delivery.ts';
import { proofBodyLimitBytes, proofSubmissionSchema } from './core/index.ts';
import { changeOf } from '../schemas.ts';
import { IdParams } from '../shipments/shipments.schema.ts';
import { shipmentResource } from '../shipments/shipments.routes.ts';
import type { ShipmentSummary } from '../shipments/shipments.store.ts';
import { loadProof, loadProofForShipment, notFound, type ProofRow } from './proofs.store.ts';
import { DriverShipmentParams, ImageParams, PinIssuedSchema, ProofErrors, ProofIdParams, ProofViewSchema, ShredResultSchema, SubmittedSchema } from './proofs.schema.ts';

// Proof of delivery on the app plane: the driver app submits it, the console
// reads it (each read audited), exports it signed (step-up) and shreds it
// (administrators, step-up); dispatchers issue delivery PINs. A shipment or
// proof the caller may not see — another driver's, another depot's — answers
// 404 exactly like a missing one.

const EXTENSION = { 'image/png': 'png', 'image/jpeg': 'jpg' } as const;

export function registerProofRoutes(app: PlaneApp, delivery: Delivery): void {
  const { shipments, proofs } = delivery;

  /** The shipment when the caller may see it and act on it with `permission`; otherwise not found. */
  const visibleShipment = async (request: FastifyRequest, id: string, permission: Permission): Promise<ShipmentSummary> => {
    const shipment = await shipments.get(id);
    const resource = shipmentResource(shipment);
    if (!can(request.actor, 'shipment.read', resource)) throw new RampartError('shipment.not_found', `shipment ${id} not visible to caller`);
    if (!can(request.actor, permission, resource)) throw new RampartError('access.denied', `${permission} refused on shipment ${id}`);
    return shipment;
  };

  /** A proof and its shipment, when the caller may see the shipment and act with `permission`; otherwise the proof is not found. */
  const visibleProof = async (request: FastifyRequest, id: string, permission: Permission): Promise<{ row: ProofRow; shipment: ShipmentSummary }> => {
    const row = await loadProof(delivery.db, id);
    const shipment = await shipments.get(row.shipment_id);
    const resource = shipmentResource(shipment);
    if (!can(request.actor, 'shipment.read', resource) || !can(request.actor, permission, resource)) throw notFound(id);
    return { row, shipment };
  };

  const limits = proofs.settings.limits;
  app.post(
    '/api/v1/driver/shipments/:shipmentId/proof',
    {
      bodyLimit: proofBodyLimitBytes(limits),
      config: { access: { permission: 'pod.create' } },
      schema: {
        tags: ['proof of delivery'],
        summary: 'Submit the proof of delivery of one of the driver\'s shipments out for delivery; it becomes delivered',
        description: 'Idempotent per idempotencyKey: an identical retry answers 200 with the original receipt; other content under the same key is refused with 409.',
        params: DriverShipmentParams,
        body: proofSubmissionSchema(limits),
        response: { 200: SubmittedSchema, 201: SubmittedSchema, ...ProofErrors },
      },
    },
    async (request, reply) => {
      const { shipmentId } = request.params;
      const shipment = await shipments.get(shipmentId);
      // The assigned driver only: anyone else's shipment is not found.
      if (!can(request.actor, 'pod.create', shipmentResource(shipment)) || request.actor?.kind !== 'account') throw new RampartError('shipment.not_found', `shipment ${shipmentId} not visible to caller`);
      const outcome = await proofs.intake.submit(shipment, request.actor.id, request.body, changeOf(request));
      return reply.code(outcome.created ? 201 : 200).send(outcome.proof);
    },
  );

  app.post(
    '/api/v1/shipments/:id/pin',
    {
      config: { access: { permission: 'shipment.manage' } },
      schema: {
        tags: ['proof of delivery'],
        summary: 'Issue a new six-digit delivery PIN for the recipient (returned once; replaces an earlier one)',
        params: IdParams,
        response: { 200: PinIssuedSchema, ...ProofErrors },
      },
    },
    async (request) => {
      const shipment = await visibleShipment(request, request.params.id, 'shipment.manage');
      return { shipmentId: shipment.id, pin: await proofs.intake.issuePin(shipment.id, changeOf(request)) };
    },
  );

  app.get(
    '/api/v1/shipments/:id/proof',
    {
      config: { access: { permission: 'pod.read' } },
      schema: { tags: ['proof of delivery'], summary: 'The shipment\'s proof of delivery: facts, receipt and signer (audited)', params: IdParams, response: { 200: ProofViewSchema, ...ProofErrors } },
    },
    async (request) => {
      const shipment = await visibleShipment(request, request.params.id, 'pod.read');
      const row = await loadProofForShipment(delivery.db, shipment.id);
      return proofs.archive.read(row, shipment.trackingNumber, changeOf(request));
    },
  );

  app.get(
    '/api/v1/proofs/:id/images/:role',
    {
      config: { access: { permission: 'pod.read' } },
      schema: {
        tags: ['proof of delivery'],
        summary: 'One image of a proof (the signature rendering or the photo) as a download (audited)',
        params: ImageParams,
        response: { 200: { description: 'The image bytes (image/png or image/jpeg).', type: 'string' }, ...ProofErrors },
      },
    },
    async (request, reply) => {
      const { row, shipment } = await visibleProof(request, request.params.id, 'pod.read');
      const image = await proofs.archive.image(row, request.params.role, shipment.trackingNumber, changeOf(request));
      return reply
        .type(image.contentType)
        .header('x-content-type-options', 'nosniff')
        .header('content-disposition', `attachment; filename="${row.id}-${request.params.role}.${EXTENSION[image.contentType]}"`)
        .header('cache-control', 'no-store')
        .send(image.bytes as unknown as string);
    },
  );

  app.post(
    '/api/v1/proofs/:id/export',
    {
      config: { access: { permission: 'pod.export' } },
      schema: {
        tags: ['proof of delivery'],
        summary: 'The proof as a signed export bundle for offline verification (step-up; audited)',
        description: 'Verify with `rampart receipt verify <file> --jwks <keys>`; docs/SECURITY.md ("Export bundles") describes the format.',
        params: ProofIdParams,
        response: { 200: { description: 'The export bundle (JSON).', type: 'object' }, ...ProofErrors },
      },
    },
    async (request, reply) => {
      const { row, shipment } = await visibleProof(request, request.params.id, 'pod.export');
      const bundle = await proofs.archive.export(row, shipment.trackingNumber, changeOf(request));
      // Sent as serialised here: the bundle's signature covers exactly these values.
      return reply.type('application/json; charset=utf-8').header('content-disposition', `attachment; filename="${row.id}-export.json"`).header('cache-control', 'no-store').send(JSON.stringify(bundle) as unknown as object);
    },
  );

  app.post(
    '/api/v1/proofs/:id/shred',
    {
      config: { access: { permission: 'pod.shred' } },
      schema: {
        tags: ['proof of delivery'],
        summary: 'Shred the proof\'s personal data and images now (an erasure request; step-up; audited); the receipt keeps verifying',
        params: ProofIdParams,
        response: { 200: ShredResultSchema, ...ProofErrors },
      },
    },
    async (request) => {
      const { row } = await visibleProof(request, request.params.id, 'pod.shred');
      return { proofId: row.id, shredded: await proofs.archive.shred(row.id, 'erasure_request', changeOf(request)) };
    },
  );
}
