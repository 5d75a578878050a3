import { backup, DatabaseSync } from 'node:sqlite';

export interface SnapshotProgress {
  readonly done: number;
  readonly total: number;
}

/**
 * Copies a live database with SQLite's online backup API: a consistent
 * snapshot even while the server keeps writing (pages changed mid-copy are
 * copied again). Returns the number of pages.
 */
export async function snapshotSqlite(sourcePath: string, targetPath: string, onProgress?: (p: SnapshotProgress) => void): Promise<number> {
  const source = new DatabaseSync(sourcePath, { readOnly: true, timeout: 5_000 });
  try {
    const pages = await backup(source, targetPath, {
      rate: 256,
      progress: ({ totalPages, remainingPages }) => onProgress?.({ done: totalPages - remainingPages, total: totalPages }),
    });
    // SQLite reports only intermediate steps; a copy finished in one step reports nothing.
    onProgress?.({ done: pages, total: pages });
    return pages;
  } finally {
    source.close();
  }
}

/** PRAGMA integrity_check on a database file; returns the problems (empty when sound). */
export function checkSqliteIntegrity(path: string): string[] {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const rows = db.prepare('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
  } catch (error) {
    return [(error as Error).message];
  } finally {
    db?.close();
  }
}

/** Names of the migrations recorded in a database file. */
export function appliedMigrations(path: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare('select name from kysely_migration order by name').all() as Array<{ name: string }>;
    return rows.map((r) => r.name);
  } catch {
    return [];
  } finally {
    db.close();
  }
}

/** The master-key fingerprint recorded in a database file (the keyring is not opened). */
export function storedKeyFingerprint(path: string): string | undefined {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db.prepare('select kek_fingerprint from keyring_state where id = 1').get() as { kek_fingerprint: string } | undefined;
    return row?.kek_fingerprint;
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}
