import type { Command } from 'commander';
import { action, loadCliConfig, type GlobalOptions } from './context.ts';

export function registerServe(program: Command, version: string): void {
  program
    .command('serve')
    .description('start the app, device and admin planes (Ctrl-C stops gracefully; a second Ctrl-C exits at once)')
    .action(
      action(async () => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ startRampart }, { installSignalHandlers }, { createLogger }, { logFormat }] = await Promise.all([
          import('../server.ts'),
          import('../kernel/lifecycle.ts'),
          import('../kernel/logger.ts'),
          import('./logging.ts'),
        ]);
        const logger = createLogger({ level: config.log.level, format: logFormat(config, process.stdout) });
        const running = await startRampart(config, { logger });
        installSignalHandlers({ shutdown: () => running.stop(), logger });
        const lines = [
          '',
          `Rampart ${version} (${config.env}) on Node ${process.version}`,
          `  app plane     ${running.urls.app}   (console: ${running.urls.app}/console/)`,
          `  device plane  ${running.urls.device}`,
          `  admin plane   ${running.urls.admin}   (/metrics, /healthz, /readyz)`,
          ...(running.mqtt === undefined ? [] : [`  mqtt          ${running.mqtt.url}   (devices)`]),
          'Press Ctrl-C to stop.',
          '',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
