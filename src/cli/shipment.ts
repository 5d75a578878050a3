import { InvalidArgumentError, type Command } from 'commander';
import type { Delivery } from '../delivery/delivery.ts';
import { action, cliActor, loadCliConfig, plain, type GlobalOptions } from './context.ts';

// `rampart shipment …` and `rampart depot …`: bulk import and export of
// shipments and depot administration from the shell, with the same checks and
// audit entries as the API; the actor is the operating-system user. Standard
// output carries only the command's data (CSV), so it can be redirected.

const STATUSES = ['created', 'assigned', 'out_for_delivery', 'delivered', 'failed', 'returned'] as const;
const MAX_FILE_BYTES = 50 * 1024 * 1024;
const DEPOT = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/;

function parseDepot(text: string): string {
  if (!DEPOT.test(text)) throw new InvalidArgumentError('expected a depot id: 1–64 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit');
  return text;
}

function collectStatus(text: string, previous: string[] = []): string[] {
  if (!(STATUSES as readonly string[]).includes(text)) throw new InvalidArgumentError(`expected one of ${STATUSES.join(', ')}`);
  return [...previous, text];
}

function parseCoordinate(limit: number): (text: string) => number {
  return (text) => {
    if (!/^-?\d{1,3}(\.\d{1,10})?$/.test(text) || Math.abs(Number(text)) > limit) throw new InvalidArgumentError(`expected a number from -${limit} to ${limit}`);
    return Number(text);
  };
}

async function withDelivery<T>(program: Command, body: (delivery: Delivery, actor: Awaited<ReturnType<typeof cliActor>>) => Promise<T>): Promise<T> {
  const config = await loadCliConfig(program.opts<GlobalOptions>());
  const [{ openForMaintenance }, { createDelivery }, { proofSettings }, { webhookSink }, { systemClock }] = await Promise.all([
    import('./maintenance.ts'),
    import('../delivery/delivery.ts'),
    import('../delivery/proof/settings.ts'),
    import('../delivery/webhooks/index.ts'),
    import('../kernel/clock.ts'),
  ]);
  const { database, keyring } = await openForMaintenance(config);
  try {
    // The server's event sink: a shipment created from the shell queues its webhooks like one created through the API.
    return await body(createDelivery({ db: database.db, keyring, clock: systemClock, eventSinks: [webhookSink], proof: proofSettings(config) }), await cliActor());
  } finally {
    await database.close();
  }
}

export function registerShipment(program: Command): void {
  const shipment = program.command('shipment').description('import and export shipments as CSV (audited; docs/OPERATIONS.md lists the columns)');

  shipment
    .command('import <file>')
    .description('import shipments from a CSV file: nothing is written when any row is invalid (unless --skip-invalid); prints each new shipment\'s tracking link once, as CSV')
    .option('--skip-invalid', 'import the valid rows and report the others')
    .option('--depot <depot>', 'the depot of rows without a depot cell', parseDepot)
    .action(
      action(async (file: string, options: { skipInvalid?: boolean; depot?: string }) => {
        const [{ readFile, stat }, { importShipments, CLI_MAX_IMPORT_ROWS }, { phasedProgress }, { RampartError }, { stringify }] = await Promise.all([
          import('node:fs/promises'),
          import('../delivery/shipments/import.ts'),
          import('./progress.ts'),
          import('../kernel/errors.ts'),
          import('csv-stringify/sync'),
        ]);
        const size = (await stat(file)).size;
        if (size > MAX_FILE_BYTES) throw new RampartError('request.too_large', `${file} is ${size} bytes; at most ${MAX_FILE_BYTES} per import`);
        const csv = await readFile(file);
        await withDelivery(program, async (delivery, actor) => {
          const progress = phasedProgress({ check: 'checking', encrypt: 'encrypting', write: 'writing' }, { check: 'rows', encrypt: 'rows', write: 'rows' });
          try {
            const report = await importShipments(delivery, csv, {
              change: { actor },
              skipInvalid: options.skipInvalid === true,
              defaultDepot: options.depot,
              maxRows: CLI_MAX_IMPORT_ROWS,
              depotVisible: () => true,
              onProgress: (p) => progress.report(p),
            });
            progress.stop();
            process.stdout.write(stringify([['row', 'shipment_id', 'tracking_number', 'tracking_path'], ...report.created.map((c) => [c.row, c.id, c.trackingNumber, `/t/${c.trackingToken}`])]));
            for (const p of report.skipped) process.stderr.write(`skipped row ${p.row}${p.column === '' ? '' : `, ${p.column}`}: ${plain(p.message)}\n`);
            process.stderr.write(`imported ${report.created.length} shipment(s)${report.skipped.length > 0 ? `; skipped ${new Set(report.skipped.map((p) => p.row)).size} row(s)` : ''}\n`);
          } catch (error) {
            progress.stop();
            const rows = (error as { rows?: Array<{ row: number; column: string; message: string }> }).rows;
            if (rows !== undefined) for (const p of rows) process.stderr.write(`row ${p.row}${p.column === '' ? '' : `, ${p.column}`}: ${plain(p.message)}\n`);
            throw error;
          }
        });
      }),
    );

  shipment
    .command('export')
    .description('write shipments with recipient data as CSV to standard output (audited)')
    .option('--status <status>', `only this status (repeatable): ${STATUSES.join(', ')}`, collectStatus)
    .option('--depot <depot>', 'only this depot', parseDepot)
    .action(
      action(async (options: { status?: Array<(typeof STATUSES)[number]>; depot?: string }) => {
        const { startExport } = await import('../delivery/shipments/export.ts');
        await withDelivery(program, async (delivery, actor) => {
          const exported = await startExport(delivery, { ...(options.status === undefined ? {} : { status: options.status }), ...(options.depot === undefined ? {} : { depot: options.depot }) }, { actor });
          for await (const chunk of exported.chunks) process.stdout.write(chunk);
          process.stderr.write(`exported ${exported.rows} shipment(s)\n`);
        });
      }),
    );

  const depot = program.command('depot').description('depots: the ids dispatchers\' scopes, devices, the fleet and shipments refer to (audited)');

  depot
    .command('add <id>')
    .description('create a depot')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--lat <lat>', 'latitude of the depot', parseCoordinate(90))
    .requiredOption('--lon <lon>', 'longitude of the depot', parseCoordinate(180))
    .option('--area <file>', 'a GeoJSON Polygon file: the service area')
    .action(
      action(async (id: string, options: { name: string; lat: number; lon: number; area?: string }) => {
        const { readFile } = await import('node:fs/promises');
        let serviceArea: { type: 'Polygon'; coordinates: number[][][] } | undefined;
        if (options.area !== undefined) {
          const { RampartError } = await import('../kernel/errors.ts');
          try {
            serviceArea = JSON.parse(await readFile(options.area, 'utf8')) as typeof serviceArea;
          } catch (error) {
            throw new RampartError('request.invalid', `--area ${options.area}: not a readable JSON file`, { cause: error });
          }
        }
        await withDelivery(program, async (delivery, actor) => {
          const created = await delivery.depots.add({ id, name: options.name, location: { lat: options.lat, lon: options.lon }, ...(serviceArea === undefined ? {} : { serviceArea }) }, { actor });
          process.stdout.write(`created depot ${plain(created.id)} (${plain(created.name)})${created.serviceArea === null ? '' : ' with a service area'}\n`);
        });
      }),
    );

  depot
    .command('list')
    .description('list depots')
    .action(
      action(async () => {
        await withDelivery(program, async (delivery) => {
          let cursor: string | undefined;
          do {
            const page = await delivery.depots.list({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
            for (const d of page.items) process.stdout.write(`${plain(d.id).padEnd(20)} ${String(d.location.lat).padEnd(10)} ${String(d.location.lon).padEnd(11)} ${d.serviceArea === null ? 'no area  ' : 'area     '} ${plain(d.name)}\n`);
            cursor = page.nextCursor ?? undefined;
          } while (cursor !== undefined);
        });
      }),
    );
}
