import type { RampartConfig } from '../config/schema.ts';
import { ENCRYPTED_COLUMNS } from '../crypto/encrypted-columns.ts';
import { Keyring } from '../crypto/keyring.ts';
import { resolveMasterKey } from '../crypto/master-key.ts';
import { systemClock } from '../kernel/clock.ts';
import { openDatabase, prepareSchema, type Database } from '../storage/database.ts';
import { commandLogger } from './logging.ts';

/**
 * Opens the database and keyring for an operator command. Never migrates and
 * never generates a master key: maintenance runs against what the server made.
 */
export async function openForMaintenance(config: RampartConfig): Promise<{ database: Database; keyring: Keyring }> {
  const masterKey = resolveMasterKey(config, { create: false });
  const database = await openDatabase(config, commandLogger(config));
  try {
    await prepareSchema(database, false);
    const keyring = await Keyring.open({ database, masterKey: masterKey.key, clock: systemClock, columns: ENCRYPTED_COLUMNS });
    return { database, keyring };
  } catch (error) {
    await database.close();
    throw error;
  }
}
