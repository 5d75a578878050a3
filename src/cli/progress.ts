import cliProgress from 'cli-progress';

export interface ProgressBar {
  update(done: number, total: number): void;
  stop(): void;
}

/** A progress bar on stderr; on a non-terminal it prints a line every few seconds instead. */
export function progressBar(label: string, unit = ''): ProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(14)} [{bar}] {percentage}% | {value}/{total}${unit === '' ? '' : ` ${unit}`} | {eta_formatted} left`,
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2_000,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** One bar per named phase, switched as progress reports arrive. */
export function phasedProgress(labels: Readonly<Record<string, string>>, unit: Readonly<Record<string, string>> = {}): {
  report(progress: { phase: string; done: number; total: number }): void;
  stop(): void;
} {
  let phase: string | undefined;
  let bar: ProgressBar | undefined;
  return {
    report(progress) {
      if (progress.phase !== phase) {
        bar?.stop();
        phase = progress.phase;
        bar = progressBar(labels[progress.phase] ?? progress.phase, unit[progress.phase] ?? '');
      }
      bar?.update(progress.done, progress.total);
    },
    stop() {
      bar?.stop();
    },
  };
}
