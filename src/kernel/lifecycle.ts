import type { Logger } from './logger.ts';

export interface SignalHooks {
  /** Runs once on the first SIGTERM or SIGINT; resolves when everything is closed. */
  readonly shutdown: () => Promise<void>;
  readonly logger: Logger;
  /** Exits the process; injectable for tests. */
  readonly exit?: (code: number) => void;
  readonly signals?: readonly NodeJS.Signals[];
}

/**
 * First signal: graceful shutdown, then exit 0 (1 if shutdown failed).
 * Second signal while draining: exit at once, because the operator asked twice.
 */
export function installSignalHandlers(hooks: SignalHooks): () => void {
  const exit = hooks.exit ?? ((code: number) => process.exit(code));
  const signals = hooks.signals ?? ['SIGTERM', 'SIGINT'];
  let stopping = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      hooks.logger.warn({ signal }, 'second signal received: exiting without waiting for in-flight work');
      exit(130);
      return;
    }
    stopping = true;
    hooks.logger.info({ signal }, 'shutting down: no new connections, draining in-flight requests');
    hooks.shutdown().then(
      () => {
        hooks.logger.info('shutdown complete');
        exit(0);
      },
      (error: unknown) => {
        hooks.logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };

  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
