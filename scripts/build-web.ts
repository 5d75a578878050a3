// Builds the web console into web/dist with Vite when the build is missing or
// older than its sources. `npm ci` runs it (the `prepare` script) and so does
// `npm start`, so a fresh clone needs only `npm ci && npm start`; `--force`
// builds regardless. The stamp is a SHA-256 over every source file of web/,
// the lock file and this script, so a changed dependency rebuilds too.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const web = join(root, 'web');
const dist = join(web, 'dist');
const stampFile = join(dist, '.source-sha256');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.name !== 'dist' && entry.name !== 'node_modules' && !entry.name.startsWith('.'))
    .flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort();
}

export function sourceStamp(): string {
  const hash = createHash('sha256');
  for (const file of [...files(web), join(root, 'package-lock.json'), fileURLToPath(import.meta.url)]) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

export function buildIsCurrent(): boolean {
  return existsSync(join(dist, 'console', 'index.html')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === sourceStamp();
}

if (import.meta.main) {
  const force = process.argv.includes('--force');
  if (!force && buildIsCurrent()) {
    process.stdout.write('web console: build is current\n');
  } else {
    const stamp = sourceStamp();
    process.stdout.write('web console: building with Vite…\n');
    const { build } = await import('vite');
    await build({ configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
    writeFileSync(stampFile, stamp);
    process.stdout.write('web console: built into web/dist\n');
  }
}
