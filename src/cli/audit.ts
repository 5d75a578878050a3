import { once } from 'node:events';
import { InvalidArgumentError, type Command } from 'commander';
import type { AuditVerificationReport } from '../audit/verify.ts';
import { action, loadCliConfig, type GlobalOptions } from './context.ts';

// `rampart audit …`: verify the trail (in the database, or an export offline),
// export it, and write a checkpoint on demand.

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `--since`: an ISO 8601 date or date-time (with zone), or a duration back from now such as 90m, 12h, 7d, 2w. */
export function parseSince(text: string, now: Date = new Date()): Date {
  const duration = /^(\d{1,6})([mhdw])$/.exec(text);
  if (duration !== null) {
    const [, amount = '0', unit = 'd'] = duration;
    return new Date(now.getTime() - Number(amount) * (DURATION_UNITS_MS[unit] ?? 0));
  }
  const date = ISO_DATE.test(text) ? new Date(text) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError('expected an ISO 8601 date (2026-01-31, 2026-01-31T08:00:00Z) or a duration back from now (90m, 12h, 7d, 2w)');
  }
  return date;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');

  audit
    .command('verify')
    .description('check every entry, link and checkpoint of the audit trail (or of an export, offline); exit 1 if anything was altered')
    .option('--export <file>', 'verify an export file (JSON Lines) instead of the database')
    .option('--jwks <file>', 'with --export: the public keys to check checkpoints with, obtained apart from the export (e.g. saved from /.well-known/jwks.json)')
    .action(
      action(async (options: { export?: string; jwks?: string }, command: Command) => {
        if (options.export !== undefined || options.jwks !== undefined) {
          if (options.export === undefined || options.jwks === undefined) {
            command.error('error: --export and --jwks go together: an export is verified against public keys obtained independently of it');
          }
          await verifyExportFile(options.export ?? '', options.jwks ?? '');
          return;
        }
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ openForMaintenance }, { verifyAuditTrail }, { progressBar }] = await Promise.all([import('./maintenance.ts'), import('../audit/verify.ts'), import('./progress.ts')]);
        const { database } = await openForMaintenance(config);
        const bar = process.stderr.isTTY ? progressBar('verifying', 'entries') : undefined;
        try {
          const report = await verifyAuditTrail({ database, onProgress: (p) => bar?.update(p.done, p.total) });
          bar?.stop();
          await printReport(`audit trail in ${database.location}`, report);
        } finally {
          bar?.stop();
          await database.close();
        }
      }),
    );

  audit
    .command('export')
    .description('write the audit trail as JSON Lines (header, entries, signed checkpoints) for safekeeping elsewhere')
    .option('--since <when>', 'entries from this ISO 8601 date or duration back from now (7d, 12h), plus the one before them', (text) => parseSince(text))
    .option('--out <file>', 'write to this file (default: standard output)')
    .action(
      action(async (options: { since?: Date; out?: string }) => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ openForMaintenance }, { exportAuditTrail }, { progressBar }] = await Promise.all([import('./maintenance.ts'), import('../audit/export.ts'), import('./progress.ts')]);
        const { database } = await openForMaintenance(config);
        let sink: LineSink | undefined;
        // A bar only when the export goes to a file: on standard output it would interleave with a terminal's view of the data.
        const bar = options.out !== undefined && process.stderr.isTTY ? progressBar('exporting', 'entries') : undefined;
        try {
          const output = (sink = await openLineSink(options.out));
          const summary = await exportAuditTrail({
            database,
            write: (line) => output.write(line),
            onProgress: (p) => bar?.update(p.done, p.total),
            ...(options.since === undefined ? {} : { since: options.since }),
          });
          bar?.stop();
          await output.commit();
          const range = summary.fromSeq === null ? 'no entries' : `${summary.entries} entries (${summary.fromSeq}–${summary.toSeq}) and ${summary.checkpoints} checkpoints`;
          process.stderr.write(`exported ${range}${options.out === undefined ? '' : ` to ${options.out}`}\n`);
        } catch (error) {
          await sink?.abort();
          throw error;
        } finally {
          bar?.stop();
          await database.close();
        }
      }),
    );

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the audit trail\'s head now')
    .action(
      action(async () => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ openForMaintenance }, { AuditCheckpointer }, { commandLogger }, { systemClock }] = await Promise.all([
          import('./maintenance.ts'),
          import('../audit/checkpoint.ts'),
          import('./logging.ts'),
          import('../kernel/clock.ts'),
        ]);
        const { database, keyring } = await openForMaintenance(config);
        try {
          const checkpointer = new AuditCheckpointer({
            database,
            keyring,
            clock: systemClock,
            intervalSeconds: config.audit.checkpointIntervalSeconds,
            everyEntries: config.audit.checkpointEveryEntries,
            logger: commandLogger(config),
          });
          const written = await checkpointer.checkpointNow();
          if (written === undefined) {
            process.stdout.write('the audit trail is empty: nothing to checkpoint\n');
          } else {
            process.stdout.write(`${written.created ? 'checkpoint written' : 'already checkpointed'}: entry ${written.seq}, hash ${written.headHash}, key ${written.kid}, at ${written.at}\n`);
          }
        } finally {
          await database.close();
        }
      }),
    );
}

interface LineSink {
  write(line: string): Promise<void>;
  /** Makes the output final: for a file, renames it into place. */
  commit(): Promise<void>;
  /** Drops a partial file. */
  abort(): Promise<void>;
}

/** Standard output, or a file that appears under its name only once complete (a failed export leaves nothing behind). */
async function openLineSink(out: string | undefined): Promise<LineSink> {
  if (out === undefined) {
    return {
      async write(line) {
        if (!process.stdout.write(line)) await once(process.stdout, 'drain');
      },
      commit: () => Promise.resolve(),
      abort: () => Promise.resolve(),
    };
  }
  const [{ createWriteStream }, { rename, rm }, { RampartError }] = await Promise.all([import('node:fs'), import('node:fs/promises'), import('../kernel/errors.ts')]);
  const partial = `${out}.partial-${process.pid}`;
  const stream = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  const failed = new Promise<never>((_resolve, reject) =>
    stream.once('error', (error) => reject(new RampartError('audit.export_unwritable', `cannot write ${out}: ${error.message}`, { cause: error }))),
  );
  failed.catch(() => undefined);
  return {
    async write(line) {
      if (!stream.write(line)) await Promise.race([once(stream, 'drain'), failed]);
    },
    async commit() {
      stream.end();
      await Promise.race([once(stream, 'finish'), failed]);
      try {
        await rename(partial, out);
      } catch (error) {
        throw new RampartError('audit.export_unwritable', `cannot write ${out}: ${(error as Error).message}`, { cause: error });
      }
    },
    async abort() {
      stream.destroy();
      await rm(partial, { force: true });
    },
  };
}

async function verifyExportFile(file: string, jwksFile: string): Promise<void> {
  const [{ readFile }, { createReadStream }, { createInterface }, { verifyAuditExport }, { RampartError }] = await Promise.all([
    import('node:fs/promises'),
    import('node:fs'),
    import('node:readline'),
    import('../audit/verify.ts'),
    import('../kernel/errors.ts'),
  ]);
  let jwks: unknown;
  try {
    jwks = JSON.parse(await readFile(jwksFile, 'utf8'));
  } catch (error) {
    throw new RampartError('audit.jwks_invalid', `cannot read ${jwksFile} as JSON: ${(error as Error).message}`, { cause: error });
  }
  const input = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new RampartError('audit.export_invalid', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    const report = await verifyAuditExport(lines, jwks);
    await printReport(`export ${file}`, report);
  } finally {
    lines.close();
    input.destroy();
  }
}

async function printReport(subject: string, report: AuditVerificationReport): Promise<void> {
  const [{ escapeControl }, { RampartError }] = await Promise.all([import('../audit/escape.ts'), import('../kernel/errors.ts')]);
  const seqText = (seq: number) => (Number.isFinite(seq) ? String(seq) : '?');
  const newest = report.lastCheckpoint;
  const lines = [
    escapeControl(subject),
    `  entries:     ${report.entries}`,
    `  checkpoints: ${report.checkpoints}${newest === undefined ? ' (none matching: the chain alone vouches for the entries)' : ` (newest matching: entry ${newest.seq}, signed ${escapeControl(newest.at)})`}`,
    ...(report.head === undefined ? [] : [`  head:        entry ${report.head.seq}`]),
  ];
  if (report.ok) {
    lines.push('  result:      intact: every entry\'s hash and link, every checkpoint\'s signature and the end of the chain verified');
    if (report.head !== undefined && report.head.seq > (newest?.seq ?? 0)) {
      lines.push(`  note:        entries after ${newest?.seq ?? 0} are not yet covered by a checkpoint`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  lines.push(`  result:      ALTERED: ${report.problemCount} problem${report.problemCount === 1 ? '' : 's'}${report.problemCount > report.problems.length ? ` (the first ${report.problems.length} listed)` : ''}`);
  for (const problem of report.problems) {
    lines.push(`    entry ${seqText(problem.seq).padEnd(8)} ${problem.kind.padEnd(20)} ${escapeControl(problem.message)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const first = report.firstProblem;
  throw new RampartError('audit.verification_failed', first === undefined ? 'the audit trail failed verification' : `first problem at entry ${seqText(first.seq)} (${first.kind}): ${escapeControl(first.message)}`);
}
