import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { API_TYPES_FILE, renderApiTypes } from '../../scripts/api-types.ts';
import { buildIsCurrent } from '../../scripts/build-web.ts';
import { WEB_DIST } from '../../src/http/web-app.ts';
import { startTestRampart } from '../support/identity.ts';

// The console cannot drift from the API (its types are rendered from the
// OpenAPI document a real server serves), the build under test is the one
// of the sources in the tree, and the entry stays within its budget.

const ENTRY_BUDGET_GZIP = 200 * 1024;

test('web/src/api/schema.gen.ts is what the running API describes (npm run api-types)', async (t) => {
  const rampart = await startTestRampart();
  t.after(() => rampart.stop());
  const document: unknown = await (await fetch(`${rampart.url}/api/v1/openapi.json`)).json();
  assert.equal(readFileSync(API_TYPES_FILE, 'utf8'), await renderApiTypes(document), 'the API changed: run `npm run api-types` and fix what no longer type-checks');
});

test('the console build is current (npm ci and npm start build it; npm run build:web forces it)', () => {
  assert.ok(buildIsCurrent(), 'web/dist is missing or older than web/: run `npm run build:web`');
});

test(`the console's entry script and what it loads up front stay within ${ENTRY_BUDGET_GZIP / 1024} KB gzipped`, () => {
  const page = readFileSync(join(WEB_DIST, 'console', 'index.html'), 'utf8');
  const upFront = [...page.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]!);
  assert.ok(upFront.length >= 1, 'the page names its entry script');
  let total = 0;
  for (const name of upFront) {
    const file = join(WEB_DIST, 'assets', name);
    assert.ok(existsSync(file), name);
    total += gzipSync(readFileSync(file), { level: 9 }).length;
  }
  assert.ok(total <= ENTRY_BUDGET_GZIP, `entry ${Math.round(total / 1024)} KB gzipped, budget ${ENTRY_BUDGET_GZIP / 1024} KB`);
  assert.doesNotMatch(page, /<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i, 'no inline script, style or handler in the page');
});
