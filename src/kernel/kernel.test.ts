import assert from 'node:assert/strict';
import { globSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { canonicalJson } from './canonical-json.ts';
import { errorCatalog, renderErrorsDoc } from './error-catalog.ts';
import { humanCode, newId, normalizeHumanCode, randomToken } from './ids.ts';
import { acquireDataDirLock, lockHolder } from './lockfile.ts';
import { createMemoryLogger, lazyChild } from './logger.ts';

describe('error catalogue', () => {
  test('docs/ERRORS.md lists exactly the codes in the catalogue', () => {
    const committed = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
    assert.equal(committed, renderErrorsDoc(), 'docs/ERRORS.md is out of date: run `npm run docs`');
    const documented = [...committed.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented, Object.keys(errorCatalog));
  });

  test('every code is namespaced, has an HTTP error status and a description', () => {
    for (const [code, spec] of Object.entries(errorCatalog)) {
      assert.match(code, /^(internal|[a-z][a-z_]*\.[a-z_]+)$/, code);
      assert.ok(spec.status >= 400 && spec.status <= 599, code);
      assert.ok(spec.description.length > 20, code);
    }
  });

  test('every code written in the source is in the catalogue', () => {
    // The ErrorCode type already rejects unknown codes at compile time; this also catches codes in plain strings.
    const root = new URL('../../', import.meta.url);
    const used = new Set<string>();
    for (const file of globSync('src/**/*.ts', { cwd: root.pathname }).filter((f) => !f.endsWith('.test.ts'))) {
      const text = readFileSync(new URL(file, root), 'utf8');
      // Codes given to an error constructor (audit actions and permissions look alike but are not codes).
      for (const match of text.matchAll(/Error\(\s*'([a-z]+\.[a-z_]+)'/g)) used.add(match[1] ?? '');
    }
    assert.ok(used.size > 10, 'the scan found the codes in use');
    for (const code of used) assert.ok(code in errorCatalog, `${code} is used but not catalogued`);
  });
});

describe('identifiers and codes', () => {
  test('ids and tokens are random, URL-safe and of the promised size', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('acct')));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^acct_[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(randomToken(), 'base64url').length, 32);
  });

  test('human codes carry 160 bits in unambiguous groups and survive retyping', () => {
    const code = humanCode(160);
    assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){7}$/);
    assert.equal(normalizeHumanCode(code.toLowerCase().replaceAll('-', ' ')), code.replaceAll('-', ''));
    assert.equal(normalizeHumanCode('o1-IL'), '0111');
  });
});

describe('canonical JSON', () => {
  test('sorts keys at every depth and drops undefined members', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  test('refuses values that have no JSON form', () => {
    assert.throws(() => canonicalJson({ a: Number.NaN }));
    assert.throws(() => canonicalJson({ a: 1n }));
  });
});

describe('data directory lock', () => {
  test('takes over a lock left by a dead process', () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, 'rampart.lock'), '999999999\n');
      assert.equal(lockHolder(dir.path), undefined);
      const lock = acquireDataDirLock(dir.path);
      assert.equal(lockHolder(dir.path), process.pid);
      lock.release();
      assert.equal(lockHolder(dir.path), undefined);
    } finally {
      dir.cleanup();
    }
  });
});

describe('per-request logger', () => {
  test('writes nothing below the level, and at it writes the bindings with secrets redacted', () => {
    const { logger, lines } = createMemoryLogger('info');
    const request = lazyChild(logger.child({ plane: 'device' }), { reqId: 'r-1' });
    request.debug({ route: '/x' }, 'quiet');
    request.trace('quieter');
    assert.deepEqual(lines(), []);
    assert.equal(request.level, 'info');
    assert.equal(request.isLevelEnabled('debug'), false);
    request.info({ token: 'SharedAccessSignature sr=a&sig=b', route: '/x' }, 'refused');
    request.child({ step: 'two' }).warn('child line');
    const [first, second] = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual([first?.['plane'], first?.['reqId'], first?.['token'], first?.['route'], first?.['msg']], ['device', 'r-1', '[redacted]', '/x', 'refused']);
    assert.deepEqual([second?.['reqId'], second?.['step'], second?.['msg']], ['r-1', 'two', 'child line']);
  });
});
