import { Readable } from 'node:stream';
import Type from 'typebox';
import type { PlaneApp } from '../../http/plane.ts';
import { PROBLEM_CONTENT_TYPE, problemFor } from '../../http/problem.ts';
import { can, listScope } from '../../identity/rbac.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Delivery } from '../delivery.ts';
import { changeOf, defined, Errors } from '../schemas.ts';
import type { RowProblem } from './csv.ts';
import { startExport } from './export.ts';
import { API_MAX_IMPORT_ROWS, importShipments } from './import.ts';
import { ExportQuery, ImportProblemSchema, ImportQuery, ImportReportSchema } from './shipments.schema.ts';
import { toUtc } from './shipments.routes.ts';
import { trackingPath } from './tracking-token.ts';

// CSV in and out. Import takes a `text/csv` body (the plane's body limit and
// at most 5 000 rows) and answers 422 with every row's problems, having written
// nothing, unless `skipInvalid`. Export streams CSV with recipient data: it
// needs shipment.export (a recent second factor) and is audited.

const CSV_TYPE = 'text/csv';

export async function registerTransferRoutes(app: PlaneApp, delivery: Delivery): Promise<void> {
  // A scope of their own, so the CSV body parser serves only these routes.
  await app.register((scope: PlaneApp, _options, done) => {
    scope.addContentTypeParser(CSV_TYPE, { parseAs: 'string' }, (_request, body, done) => done(null, body));

    scope.post(
      '/api/v1/shipments/import',
      {
        config: { access: { permission: 'shipment.manage' } },
        schema: {
          tags: ['shipments'],
          summary: 'Import shipments from CSV (text/csv); all or nothing unless skipInvalid',
          description: 'Columns (header row, any order): reference, depot, recipient_name, recipient_phone, recipient_address, destination_lat, destination_lon, weight_kg, length_cm, width_cm, height_cm, mode, window_start, window_end, required_proof. See docs/OPERATIONS.md.',
          querystring: ImportQuery,
          body: Type.String({ description: 'The CSV file (UTF-8).' }),
          response: { 200: ImportReportSchema, 415: ImportProblemSchema, 422: ImportProblemSchema, ...Errors },
        },
      },
      async (request, reply) => {
        if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith(CSV_TYPE)) throw new RampartError('request.unsupported_media_type', 'import needs text/csv', { publicDetail: 'Send the file as text/csv.' });
        const depot = request.query.depot;
        const depotVisible = (depotId: string) => can(request.actor, 'shipment.manage', { type: 'depot', depotId });
        if (depot !== undefined && !depotVisible(depot)) throw new RampartError('depot.not_found', `depot ${depot} not visible to caller`);
        try {
          const report = await importShipments(delivery, request.body, { change: changeOf(request), skipInvalid: request.query.skipInvalid, defaultDepot: depot, maxRows: API_MAX_IMPORT_ROWS, depotVisible });
          return { created: report.created.map((c) => ({ ...c, trackingPath: trackingPath(c.trackingToken) })), skipped: report.skipped };
        } catch (error) {
          const rows = (error as { rows?: RowProblem[] }).rows;
          if (!(error instanceof RampartError) || error.code !== 'shipment.import_invalid' || rows === undefined) throw error;
          request.log.info({ code: error.code, problems: rows.length }, 'import refused');
          const problem = problemFor('shipment.import_invalid', request.id, { detail: error.publicDetail, errors: rows.map((r) => ({ field: `row ${r.row}${r.column === '' ? '' : `.${r.column}`}`, message: r.message })) });
          return reply.code(422).type(PROBLEM_CONTENT_TYPE).send({ ...problem, errors: [...(problem.errors ?? [])], rows });
        }
      },
    );
    done();
  });

  app.get(
    '/api/v1/shipments/export',
    {
      config: { access: { permission: 'shipment.export' } },
      schema: {
        tags: ['shipments'],
        summary: 'Export shipments as CSV with recipient data (step-up; audited)',
        description: 'Same filters as the list. Columns: tracking_number, reference, depot, status, failure_reason, the recipient, destination, parcel, mode, window, required_proof, assigned_driver_id, created_at, last_event_at. Cells a spreadsheet would run as formulas are prefixed with an apostrophe.',
        querystring: ExportQuery,
        response: { 200: Type.String({ description: 'text/csv' }), ...Errors },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const scope = listScope(request.actor, 'shipment', 'shipment.export');
      const exported = await startExport(delivery, { ...scope, ...defined({ depot: q.depot, status: q.status, mode: q.mode, driver: q.driver, windowFrom: toUtc(q.windowFrom), windowTo: toUtc(q.windowTo) }) }, changeOf(request));
      // A stream is sent as it is read (the response schema describes the document, not the stream).
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="shipments.csv"').send(Readable.from(exported.chunks) as unknown as string);
    },
  );
}
