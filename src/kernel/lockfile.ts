import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RampartError } from './errors.ts';

export const LOCK_FILE = 'rampart.lock';

// Locks this process holds: a lock file naming our own pid is ours only if it is
// listed here; otherwise it was left by an earlier process that had the same pid
// (common in containers, where the server is always pid 1).
const heldHere = new Set<string>();

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid holding the data directory, if a live process does. */
export function lockHolder(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(resolve(dataDir, LOCK_FILE), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One server per data directory: a second one would share the embedded database
 * and the development key. A lock left by a crashed process is taken over.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = resolve(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      heldHere.add(file);
      return {
        file,
        release: () => {
          heldHere.delete(file);
          rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lockHolder(dataDir);
      if (holder !== undefined && (holder !== process.pid || heldHere.has(file))) {
        throw new RampartError('lifecycle.already_running', `Rampart (pid ${holder}) already uses ${resolve(dataDir)}; stop it first`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new RampartError('lifecycle.already_running', `could not take the lock ${file}`);
}
