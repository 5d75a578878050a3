import type { Command } from 'commander';
import { action, type GlobalOptions } from './context.ts';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the configuration; print the effective values with secrets redacted (exit status 1 on problems)')
    .action(
      action(async () => {
        const { loadConfig, redactConfig } = await import('../config/load.ts');
        const loaded = loadConfig({ file: program.opts<GlobalOptions>().config, env: process.env });
        process.stderr.write(`configuration OK (${loaded.file === undefined ? 'defaults and environment' : loaded.file})\n`);
        process.stdout.write(`${JSON.stringify(redactConfig(loaded.config), null, 2)}\n`);
      }),
    );
}
