import type { Command } from 'commander';
import type * as Storage from '../storage/database.ts';
import { action, loadCliConfig, type GlobalOptions } from './context.ts';

async function openConfigured(program: Command): Promise<{ database: Storage.Database; storage: typeof Storage }> {
  const config = await loadCliConfig(program.opts<GlobalOptions>());
  const [storage, { commandLogger }] = await Promise.all([import('../storage/database.ts'), import('./logging.ts')]);
  return { database: await storage.openDatabase(config, commandLogger(config)), storage };
}

export function registerMigrate(program: Command): void {
  const migrate = program.command('migrate').description('apply or list database migrations');

  migrate
    .command('up')
    .description('apply every pending migration')
    .action(
      action(async () => {
        const { database, storage } = await openConfigured(program);
        try {
          const applied = await storage.migrateUp(database);
          process.stdout.write(applied.length === 0 ? `${database.location}: already up to date\n` : `${database.location}: applied ${applied.join(', ')}\n`);
        } finally {
          await database.close();
        }
      }),
    );

  migrate
    .command('status')
    .description('list migrations and whether each is applied (exit status 2 when any is pending)')
    .action(
      action(async () => {
        const { database, storage } = await openConfigured(program);
        try {
          const status = await storage.migrationStatus(database);
          process.stdout.write(`${database.location}\n`);
          for (const m of status) process.stdout.write(`  ${m.applied ? 'applied' : 'pending'}  ${m.name}\n`);
          if (status.some((m) => !m.applied)) process.exitCode = 2;
        } finally {
          await database.close();
        }
      }),
    );
}
