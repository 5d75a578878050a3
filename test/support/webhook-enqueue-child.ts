// A child process for the webhook crash test: plays the shipments domain,
// committing changes that each enqueue a webhook event in their transaction,
// forever, until it is killed. After each commit it prints
//   committed <eventId>
// and every fifth change fails after enqueueing (rolled back), printed as
//   rolledback <eventId>
// Usage: node test/support/webhook-enqueue-child.ts <dataDir>

import { appendAudit } from '../../src/audit/append.ts';
import { enqueueWebhookEvent } from '../../src/delivery/webhooks/index.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { testConfig } from './config.ts';
import { shipmentEvents } from './webhooks.ts';

const [dataDir] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: webhook-enqueue-child.ts <dataDir>');
const database = await openDatabase(testConfig(dataDir), createMemoryLogger('warn').logger);
const event = shipmentEvents(systemClock);
process.stdout.write('ready\n');

class ChangeFailed extends Error {}

for (let n = 1; ; n++) {
  let eventId = '';
  try {
    await database.db.transaction().execute(async (trx) => {
      await appendAudit(trx, { action: 'shipment.status_change', outcome: 'success', actor: { type: 'system' }, target: { type: 'shipment', id: `shp_${n}` } }, systemClock);
      eventId = (await enqueueWebhookEvent(trx, event('shipment.out_for_delivery'))).eventId;
      if (n % 5 === 0) throw new ChangeFailed();
    });
    process.stdout.write(`committed ${eventId}\n`);
  } catch (error) {
    if (!(error instanceof ChangeFailed)) throw error;
    process.stdout.write(`rolledback ${eventId}\n`);
  }
}
