import type { Command } from 'commander';
import { installSignalHandlers } from '../kernel/lifecycle.ts';
import { createLogger } from '../kernel/logger.ts';
import { startRampart } from '../server.ts';
import { action, loadCliConfig, logFormat, type GlobalOptions } from './context.ts';

export function registerServe(program: Command, version: string): void {
  program
    .command('serve')
    .description('start the app, device and admin planes (Ctrl-C stops gracefully; a second Ctrl-C exits at once)')
    .action(
      action(async () => {
        const config = loadCliConfig(program.opts<GlobalOptions>());
        const logger = createLogger({ level: config.log.level, format: logFormat(config, process.stdout) });
        const running = await startRampart(config, { logger });
        installSignalHandlers({ shutdown: () => running.stop(), logger });
        const lines = [
          '',
          `Rampart ${version} (${config.env}) on Node ${process.version}`,
          `  app plane     ${running.urls.app}`,
          `  device plane  ${running.urls.device}`,
          `  admin plane   ${running.urls.admin}   (/metrics, /healthz, /readyz)`,
          'Press Ctrl-C to stop.',
          '',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
