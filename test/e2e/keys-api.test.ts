import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { auditEntries, createSignedInUser, freshSignIn, signInAdmin, startTestRampart, type Browser, type SignedIn, type TestRampart } from '../support/identity.ts';

// The keyring through the API: administrators list the keys (never their
// material) and rotate them with a recent second factor. The rotation runs in
// the background, follows the server's clock through its settle wait, is
// reported with its summary, keeps every stored value readable and is in the
// audit trail from start to end. Refusals change nothing.

type Key = { id: string; type: 'data' | 'signing'; purpose: string; state: string; createdAt: string; endedAt: string | null };
type Rotation = {
  id: string;
  status: 'running' | 'succeeded' | 'failed';
  phase: string | null;
  done: number;
  total: number;
  startedBy: string | null;
  reason: string;
  finishedAt: string | null;
  report: { newDataKeys: string[]; newSigningKeys: string[]; reencrypted: number; retired: string[]; stillRetiring: string[] } | null;
  error: string | null;
};
type KeyList = { items: Key[]; rotation: Rotation | null };

/** Waits (by polling the API, not the clock) until `check` holds for the list; gives up after 30 s of polling. */
async function waitForList(browser: Browser, check: (list: KeyList) => boolean): Promise<KeyList> {
  const giveUp = performance.now() + 30_000;
  while (performance.now() < giveUp) {
    const response = await browser.get<KeyList>('/api/v1/keys');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    if (check(response.body)) return response.body;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error('the key list never reached the expected state');
}

describe('keyring API', () => {
  let rampart: TestRampart;
  let admin: SignedIn;

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
  });
  after(() => rampart.stop());

  /** The keyring's rows and the audit trail's head: what a refused request must leave alone. */
  async function snapshot(): Promise<string> {
    const db = rampart.running.database.db;
    const [data, signing, head] = await Promise.all([
      db.selectFrom('data_keys').selectAll().orderBy('id').execute(),
      db.selectFrom('signing_keys').selectAll().orderBy('kid').execute(),
      db.selectFrom('audit_entries').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst(),
    ]);
    return JSON.stringify({ data, signing, head: head?.seq });
  }

  test('the list names every key with its purpose and state, and no key material', async () => {
    const browser = await freshSignIn(rampart, admin);
    const response = await browser.get<KeyList>('/api/v1/keys');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const { items, rotation } = response.body;
    assert.equal(rotation, null, 'no rotation yet');
    const db = rampart.running.database.db;
    const stored = [...(await db.selectFrom('data_keys').select(['id', 'wrapped_key']).execute()).map((k) => ({ id: k.id, secret: k.wrapped_key })), ...(await db.selectFrom('signing_keys').select(['kid', 'wrapped_private_key']).execute()).map((k) => ({ id: k.kid, secret: k.wrapped_private_key }))];
    assert.deepEqual(items.map((k) => k.id).sort(), stored.map((k) => k.id).sort());
    assert.deepEqual(Object.keys(items[0] ?? {}).sort(), ['createdAt', 'endedAt', 'id', 'purpose', 'state', 'type']);
    const text = JSON.stringify(response.body);
    for (const key of stored) if (key.secret !== null) assert.ok(!text.includes(key.secret), 'no wrapped material');
    assert.deepEqual(items.filter((k) => k.type === 'signing').map((k) => `${k.purpose}:${k.state}`).sort(), ['audit:active', 'receipt:active', 'token:active']);
    assert.ok(items.some((k) => k.type === 'data' && k.state === 'active'));
  });

  test('bad input is refused with the field named, and nothing changes', async () => {
    const browser = await freshSignIn(rampart, admin);
    const before = await snapshot();
    for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: 'yearly', settleMs: 0 }, { reason: ['a', 'b'] }]) {
      const refused = await browser.post('/api/v1/keys/rotate', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body['code'], 'request.invalid');
      assert.ok(Array.isArray(refused.body['errors']) && (refused.body['errors'] as unknown[]).length > 0, 'the problem lists the fields');
    }
    const notJson = await browser.request('POST', '/api/v1/keys/rotate', undefined, { 'content-type': 'application/json' });
    assert.equal(notJson.status, 400);
    assert.equal(await snapshot(), before);
    assert.equal((await browser.get<KeyList>('/api/v1/keys')).body.rotation, null);
  });

  test('roles without keys.rotate get 403, and an administrator without a recent second factor gets step_up_required', async () => {
    const others = await Promise.all((['dispatcher', 'driver', 'auditor'] as const).map((role) => createSignedInUser(rampart, admin, `keys-${role}`, role)));
    const stale = await freshSignIn(rampart, admin);
    const before = await snapshot();
    for (const user of others) {
      for (const [method, path] of [['GET', '/api/v1/keys'], ['POST', '/api/v1/keys/rotate']] as const) {
        const refused = await user.browser.request(method, path, method === 'POST' ? { reason: 'curious' } : undefined);
        assert.equal(refused.status, 403, `${user.username} ${method} ${path}`);
        assert.equal(refused.body['code'], 'access.denied');
      }
    }
    rampart.clock.advance((rampart.config.identity.stepUpMinutes + 1) * 60_000);
    for (const [method, path] of [['GET', '/api/v1/keys'], ['POST', '/api/v1/keys/rotate']] as const) {
      const refused = await stale.request(method, path, method === 'POST' ? { reason: 'yearly rotation' } : undefined);
      assert.equal(refused.status, 401, `${method} ${path}`);
      assert.equal(refused.body['code'], 'auth.step_up_required');
    }
    assert.equal(await snapshot(), before, 'nothing rotated, nothing audited');
  });

  test('a rotation runs in the background: one at a time, waits by the server clock, then reports; stored values stay readable; audited', async () => {
    const browser = await freshSignIn(rampart, admin);
    const device = await browser.post<{ primaryKey: string; secondaryKey: string }>('/api/v1/devices', { id: 'rotor-1', kind: 'drone', name: 'Rotor', depot: 'north' });
    assert.equal(device.status, 201, JSON.stringify(device.body));
    const before = (await browser.get<KeyList>('/api/v1/keys')).body.items;
    const oldActive = before.filter((k) => k.state === 'active');

    const started = await browser.post<{ rotation: Rotation }>('/api/v1/keys/rotate', { reason: '  yearly rotation  ' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.rotation.status, 'running');
    assert.equal(started.body.rotation.reason, 'yearly rotation');
    assert.equal(started.body.rotation.startedBy, admin.accountId);
    assert.equal(started.body.rotation.report, null);

    const second = await browser.post('/api/v1/keys/rotate', { reason: 'again' });
    assert.equal(second.status, 409);
    assert.equal(second.body['code'], 'keys.rotation_running');
    assert.match(String(second.body['detail']), /still running/);

    // The settle wait follows the server's clock, which here moves only when told.
    const settling = await waitForList(browser, (l) => l.rotation?.phase === 'settle');
    assert.ok(settling.rotation);
    assert.equal(settling.rotation.status, 'running');
    assert.ok(settling.rotation.total > 5_000, 'it waits out the other servers\' key caches');
    rampart.clock.advance(3_000);
    await waitForList(browser, (l) => (l.rotation?.done ?? 0) >= 3_000);
    rampart.clock.advance(3_000);
    const done = await waitForList(browser, (l) => l.rotation?.status !== 'running');
    const rotation = done.rotation;
    assert.ok(rotation);
    assert.equal(rotation.status, 'succeeded', rotation.error ?? '');
    assert.equal(rotation.phase, null);
    assert.ok(rotation.finishedAt !== null);
    assert.ok(rotation.report);
    assert.equal(rotation.report.newSigningKeys.length, 3);
    assert.ok(rotation.report.reencrypted >= 3, 'the device keys and the TOTP secret at least');

    // Every old active key has stepped down; the new ones are active.
    const states = new Map(done.items.map((k) => [k.id, k.state]));
    for (const key of oldActive) assert.notEqual(states.get(key.id), 'active', key.id);
    for (const id of [...rotation.report.newDataKeys, ...rotation.report.newSigningKeys]) assert.equal(states.get(id), 'active', id);
    for (const id of rotation.report.retired) assert.equal(states.get(id), 'retired', id);

    // Values encrypted under the old keys are readable under the new ones.
    const revealed = await browser.get<{ primaryKey: string; secondaryKey: string }>('/api/v1/devices/rotor-1/keys');
    assert.equal(revealed.status, 200);
    assert.deepEqual(revealed.body, { primaryKey: device.body.primaryKey, secondaryKey: device.body.secondaryKey });

    const [start] = await auditEntries(rampart, 'keys.rotation_start');
    const [end] = await auditEntries(rampart, 'keys.rotate');
    assert.ok(start && end);
    assert.equal(start.actor_id, admin.accountId);
    assert.deepEqual(JSON.parse(start.details), { reason: 'yearly rotation', rotation: rotation.id });
    assert.equal(end.outcome, 'success');
    assert.equal(end.target_type, 'keyring');
    const details = JSON.parse(end.details) as Record<string, unknown>;
    assert.deepEqual(details['new_signing_keys'], rotation.report.newSigningKeys);
    assert.equal(details['reencrypted'], rotation.report.reencrypted);
    assert.equal(details['reason'], 'yearly rotation');

    // Finished: another may start.
    const next = await browser.post<{ rotation: Rotation }>('/api/v1/keys/rotate', { reason: 'second one' });
    assert.equal(next.status, 202);
    // Only once it is waiting: an advance before the wait takes its start time would be lost.
    await waitForList(browser, (l) => l.rotation?.id === next.body.rotation.id && l.rotation.phase === 'settle');
    rampart.clock.advance(10_000);
    const last = await waitForList(browser, (l) => l.rotation?.id === next.body.rotation.id && l.rotation.status !== 'running');
    assert.equal(last.rotation?.status, 'succeeded');
  });

  test('a server stopping mid-rotation stops it rather than waiting, and records the failure', async () => {
    const own = await startTestRampart();
    try {
      const owner = await signInAdmin(own);
      const browser = await freshSignIn(own, owner);
      assert.equal((await browser.post('/api/v1/keys/rotate', { reason: 'interrupted' })).status, 202);
      await waitForList(browser, (l) => l.rotation?.phase === 'settle');
      // The clock never moves on: stopping must not wait for the settle to end.
      await own.running.stop();
      const reopened = await openDatabase(own.config, createMemoryLogger().logger);
      try {
        const entries = await reopened.db.selectFrom('audit_entries').select(['action', 'outcome', 'details']).where('action', 'in', ['keys.rotation_start', 'keys.rotate']).orderBy('seq').execute();
        assert.deepEqual(entries.map((e) => `${e.action}:${e.outcome}`), ['keys.rotation_start:success', 'keys.rotate:failure']);
        assert.match((JSON.parse(entries[1]?.details ?? '{}') as { error: string }).error, /server stopped/);
      } finally {
        await reopened.close();
      }
    } finally {
      await own.stop();
    }
  });
});
