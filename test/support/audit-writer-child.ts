// A child process for the SQLite writers test: appends audit entries, each in
// its own transaction that reads first and writes after (as registering a
// device does: look it up, then insert it and audit that), as fast as it can,
// then prints `done <count>` and exits. Several of these beside each other
// are what two `rampart simulate` runs beside a server do to the database.
// Usage: node test/support/audit-writer-child.ts <dataDir> <count> <first>

import { appendAudit } from '../../src/audit/append.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { auditEvent } from './audit.ts';
import { testConfig } from './config.ts';

const [dataDir, count, first] = process.argv.slice(2);
if (dataDir === undefined || count === undefined || first === undefined) throw new Error('usage: audit-writer-child.ts <dataDir> <count> <first>');
const database = await openDatabase(testConfig(dataDir), createMemoryLogger('warn').logger);
for (let n = Number(first); n < Number(first) + Number(count); n++) {
  await database.db.transaction().execute(async (trx) => {
    await trx.selectFrom('audit_entries').select('seq').where('seq', '=', n).executeTakeFirst();
    await appendAudit(trx, auditEvent(n), systemClock);
  });
}
await database.close();
process.stdout.write(`done ${count}\n`);
