import type { Command } from 'commander';
import { systemClock } from '../kernel/clock.ts';
import { action, loadCliConfig, type GlobalOptions } from './context.ts';
import { phasedProgress } from './progress.ts';

const PHASES = { copy: 'copying', hash: 'hashing', verify: 'verifying' };
const UNITS = { copy: 'pages', hash: 'bytes', verify: 'bytes' };

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .argument('<folder>', 'new or empty folder to write the backup into')
    .description('write a consistent snapshot of the embedded database with a SHA-256 manifest (PostgreSQL: use pg_dump)')
    .action(
      action(async (folder: string) => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ resolveMasterKey }, { createBackup }] = await Promise.all([import('../crypto/master-key.ts'), import('../storage/backup.ts')]);
        const masterKey = resolveMasterKey(config, { create: false });
        const progress = phasedProgress(PHASES, UNITS);
        try {
          const manifest = await createBackup(folder, { config, masterKey: masterKey.key, clock: systemClock, onProgress: (p) => progress.report(p) });
          progress.stop();
          for (const f of manifest.files) process.stdout.write(`${f.name}  ${f.bytes} bytes  sha256 ${f.sha256}\n`);
          process.stdout.write(`backup written to ${folder} (migrations: ${manifest.migrations.join(', ')})\n`);
          process.stdout.write('Keep the master key separately: without it the backup\'s encrypted values cannot be read and the manifest cannot be verified.\n');
        } finally {
          progress.stop();
        }
      }),
    );

  program
    .command('restore')
    .argument('<folder>', 'folder written by `rampart backup`')
    .option('--force', 'replace the existing database')
    .description('verify a backup against its manifest and swap it in for the database (Rampart must be stopped)')
    .action(
      action(async (folder: string, options: { force?: boolean }) => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ resolveMasterKey }, { restoreBackup }] = await Promise.all([import('../crypto/master-key.ts'), import('../storage/backup.ts')]);
        const masterKey = resolveMasterKey(config, { create: false });
        const progress = phasedProgress(PHASES, UNITS);
        try {
          const { manifest, target } = await restoreBackup(folder, { config, masterKey: masterKey.key, clock: systemClock, force: options.force === true, onProgress: (p) => progress.report(p) });
          progress.stop();
          process.stdout.write(`restored backup of ${manifest.createdAt} into ${target}\n`);
        } finally {
          progress.stop();
        }
      }),
    );
}
