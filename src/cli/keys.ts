import { InvalidArgumentError, type Command } from 'commander';
import { ENCRYPTED_COLUMNS } from '../crypto/encrypted-columns.ts';
import { systemClock } from '../kernel/clock.ts';
import { action, cliActor, loadCliConfig, type GlobalOptions } from './context.ts';
import { phasedProgress } from './progress.ts';

function parseMilliseconds(text: string): number {
  if (!/^\d{1,7}$/.test(text)) throw new InvalidArgumentError('expected a whole number of milliseconds (0 to 9999999)');
  return Number(text);
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('data and signing keys');

  keys
    .command('rotate')
    .description('create new data and signing keys, re-encrypt every stored value, retire old data keys nothing uses')
    .option('--settle-ms <ms>', 'wait for running servers to drop cached keys (default: 6000)', parseMilliseconds)
    .action(
      action(async (options: { settleMs?: number }) => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ openForMaintenance }, { rotateKeys }] = await Promise.all([import('./maintenance.ts'), import('../crypto/rotate.ts')]);
        const { database, keyring } = await openForMaintenance(config);
        const progress = phasedProgress({ settle: 'settling', reencrypt: 're-encrypting', retire: 'retiring' }, { settle: 'ms', reencrypt: 'values', retire: 'keys' });
        try {
          const report = await rotateKeys({
            database,
            keyring,
            columns: ENCRYPTED_COLUMNS,
            clock: systemClock,
            ...(options.settleMs === undefined ? {} : { settleMs: options.settleMs }),
            onProgress: (p) => progress.report(p),
          });
          progress.stop();
          const [{ appendAudit }, actor] = await Promise.all([import('../audit/append.ts'), cliActor()]);
          await database.db.transaction().execute((trx) =>
            appendAudit(trx, { action: 'keys.rotate', outcome: 'success', actor, target: { type: 'keyring', id: 'keyring' }, details: { new_data_keys: report.newDataKeys, new_signing_keys: report.newSigningKeys, reencrypted: report.reencrypted, retired: report.retired } }, systemClock),
          );
          process.stdout.write(
            [
              `new data keys:    ${report.newDataKeys.join(', ') || '(none)'}`,
              `new signing keys: ${report.newSigningKeys.join(', ')}`,
              `values re-encrypted: ${report.reencrypted}`,
              `retired data keys: ${report.retired.join(', ') || '(none)'}`,
              ...(report.stillRetiring.length > 0 ? [`still in use, kept for decryption (run rotate again later): ${report.stillRetiring.join(', ')}`] : []),
              '',
            ].join('\n'),
          );
        } finally {
          progress.stop();
          await database.close();
        }
      }),
    );

  keys
    .command('list')
    .description('list data and signing keys with their status (never their material)')
    .action(
      action(async () => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ openForMaintenance }, { listDataKeys, listSigningKeys }] = await Promise.all([import('./maintenance.ts'), import('../crypto/keyring.store.ts')]);
        const { database } = await openForMaintenance(config);
        try {
          process.stdout.write('data keys\n');
          for (const k of await listDataKeys(database.db)) process.stdout.write(`  ${k.id}  ${k.purpose.padEnd(10)} ${k.status.padEnd(9)} created ${k.created_at}\n`);
          process.stdout.write('signing keys (Ed25519)\n');
          for (const k of await listSigningKeys(database.db)) process.stdout.write(`  ${k.kid}  ${k.purpose.padEnd(10)} ${k.status.padEnd(11)} created ${k.created_at}\n`);
        } finally {
          await database.close();
        }
      }),
    );
}
