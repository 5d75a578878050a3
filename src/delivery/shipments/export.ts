import type { Db } from '../../storage/database.ts';
import type { Clock } from '../../kernel/clock.ts';
import { type AuditedChange, recordChange } from '../../audit/append.ts';
import { exportHeader, exportRows } from './csv.ts';
import { listShipments, type ShipmentQuery } from './shipments.query.ts';
import type { ShipmentService } from './shipments.service.ts';

// CSV export with recipient data: an access to personal data in bulk, so it
// is audited (filters and row count, never the data) before the first byte
// goes out. Pages of 500 are read and decrypted one after another, outside any
// transaction.

const PAGE = 500;
export const MAX_EXPORT_ROWS = 100_000;

export type ExportFilter = Omit<ShipmentQuery, 'limit' | 'cursor' | 'sort' | 'order'>;

export async function countShipments(db: Db, filter: ExportFilter): Promise<number> {
  let total = 0;
  let cursor: string | undefined;
  // Counting through the same query as the export keeps one definition of the filters.
  for (;;) {
    const page = await listShipments(db, { ...filter, sort: 'createdAt', order: 'asc', limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    total += page.items.length;
    if (page.nextCursor === null || total >= MAX_EXPORT_ROWS) return Math.min(total, MAX_EXPORT_ROWS);
    cursor = page.nextCursor;
  }
}

/** Audits the export, then yields the CSV: the header, then pages of rows (oldest first, at most MAX_EXPORT_ROWS). */
export async function startExport(deps: { db: Db; clock: Clock; shipments: ShipmentService }, filter: ExportFilter, change: AuditedChange): Promise<{ rows: number; chunks: AsyncGenerator<string> }> {
  const rows = await countShipments(deps.db, filter);
  await deps.db.transaction().execute((trx) =>
    recordChange(trx, deps.clock, change, 'shipment.export', { type: 'shipment_export', id: 'csv' }, {
      rows,
      depot: filter.depot ?? null,
      depots: filter.depots === undefined ? null : [...filter.depots],
      status: filter.status === undefined ? null : [...filter.status],
      mode: filter.mode ?? null,
      windowFrom: filter.windowFrom ?? null,
      windowTo: filter.windowTo ?? null,
    }),
  );
  async function* chunks(): AsyncGenerator<string> {
    yield exportHeader();
    let cursor: string | undefined;
    let sent = 0;
    while (sent < rows) {
      const page = await listShipments(deps.db, { ...filter, sort: 'createdAt', order: 'asc', limit: Math.min(PAGE, rows - sent), ...(cursor === undefined ? {} : { cursor }) });
      if (page.items.length === 0) return;
      const withRecipients = await Promise.all(page.items.map(async (shipment) => ({ shipment, recipient: await deps.shipments.recipient(shipment.id) })));
      yield exportRows(withRecipients);
      sent += page.items.length;
      if (page.nextCursor === null) return;
      cursor = page.nextCursor;
    }
  }
  return { rows, chunks: chunks() };
}
