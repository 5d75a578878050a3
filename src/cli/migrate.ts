import type { Command } from 'commander';
import { migrateUp, migrationStatus, openDatabase } from '../storage/database.ts';
import { action, commandLogger, loadCliConfig, type GlobalOptions } from './context.ts';

export function registerMigrate(program: Command): void {
  const migrate = program.command('migrate').description('apply or list database migrations');

  migrate
    .command('up')
    .description('apply every pending migration')
    .action(
      action(async () => {
        const config = loadCliConfig(program.opts<GlobalOptions>());
        const database = await openDatabase(config, commandLogger(config));
        try {
          const applied = await migrateUp(database);
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
        const config = loadCliConfig(program.opts<GlobalOptions>());
        const database = await openDatabase(config, commandLogger(config));
        try {
          const status = await migrationStatus(database);
          process.stdout.write(`${database.location}\n`);
          for (const m of status) process.stdout.write(`  ${m.applied ? 'applied' : 'pending'}  ${m.name}\n`);
          if (status.some((m) => !m.applied)) process.exitCode = 2;
        } finally {
          await database.close();
        }
      }),
    );
}
