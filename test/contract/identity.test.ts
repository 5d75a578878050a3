import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { rotateKeys } from '../../src/crypto/rotate.ts';
import { issueRecoveryCodes, useRecoveryCode } from '../../src/identity/mfa/recovery.ts';
import { burnTotpStep, startTotpEnrolment, totpCode, verifyTotpCode } from '../../src/identity/mfa/totp.ts';
import { Sessions } from '../../src/identity/sessions.ts';
import { Throttle } from '../../src/identity/throttle.ts';
import { ServicePrincipals } from '../../src/identity/tokens/principals.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { DATABASE_TARGETS, serviceSkipReason, type OpenedDatabase } from '../support/databases.ts';
import { masterKey } from '../support/keys.ts';
import { alterLast } from '../support/tamper.ts';

// The identity layer's storage on every supported database: single-use
// factors under concurrency, throttling arithmetic, session expiry, and TOTP
// secrets surviving key rotation.

for (const target of DATABASE_TARGETS) {
  describe(`identity storage on ${target.name}`, { skip: serviceSkipReason(target.skip) }, () => {
    let opened: OpenedDatabase;
    let keyring: Keyring;
    const clock = new ManualClock('2026-06-01T08:00:00.000Z');
    const account = { id: 'acct_contract', username: 'contract' };
    let totpSecret = '';

    before(async () => {
      opened = await target.open();
      keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: ENCRYPTED_COLUMNS });
      const now = clock.now().toISOString();
      await opened.database.db.insertInto('accounts').values({ id: account.id, username: account.username, role: 'dispatcher', status: 'active', created_at: now, updated_at: now }).execute();
    });
    after(() => opened.cleanup());

    test('a TOTP step is used once even when two requests race with the same code', async () => {
      const db = opened.database.db;
      const { secret } = await startTotpEnrolment(db, keyring, clock, account);
      totpSecret = secret;
      const confirmStep = await verifyTotpCode(db, keyring, clock, account.id, totpCode(secret, clock.now().getTime()), true);
      assert.ok(confirmStep !== undefined);
      assert.equal(await db.transaction().execute((trx) => burnTotpStep(trx, clock, account.id, confirmStep, true)), true);

      clock.advance(30_000);
      const code = totpCode(secret, clock.now().getTime());
      const [a, b] = await Promise.all([verifyTotpCode(db, keyring, clock, account.id, code), verifyTotpCode(db, keyring, clock, account.id, code)]);
      assert.ok(a !== undefined && a === b, 'both see a valid, unused code');
      const results = await Promise.all([db.transaction().execute((trx) => burnTotpStep(trx, clock, account.id, a)), db.transaction().execute((trx) => burnTotpStep(trx, clock, account.id, a))]);
      assert.deepEqual(results.sort(), [false, true]);
      assert.equal(await verifyTotpCode(db, keyring, clock, account.id, code), undefined, 'and afterwards it is refused outright');
    });

    test('TOTP secrets are re-encrypted by key rotation and keep working', async () => {
      const db = opened.database.db;
      const before = await db.selectFrom('totp_factors').select('secret').where('account_id', '=', account.id).executeTakeFirstOrThrow();
      const report = await rotateKeys({ database: opened.database, keyring, columns: ENCRYPTED_COLUMNS, clock, settleMs: 0 });
      assert.ok(report.reencrypted >= 1);
      const afterRotation = await db.selectFrom('totp_factors').select('secret').where('account_id', '=', account.id).executeTakeFirstOrThrow();
      assert.notEqual(afterRotation.secret, before.secret);
      assert.ok(!afterRotation.secret.includes(before.secret.split('.')[1] ?? 'x'), 'under a new data key');
      clock.advance(60_000);
      assert.notEqual(await verifyTotpCode(db, keyring, clock, account.id, totpCode(totpSecret, clock.now().getTime())), undefined, 'the re-encrypted secret still checks codes');
    });

    test('recovery codes: each works once, also under a race', async () => {
      const db = opened.database.db;
      const codes = await db.transaction().execute((trx) => issueRecoveryCodes(trx, clock, account.id));
      assert.equal(new Set(codes).size, 10);
      const code = codes[0] ?? '';
      const results = await Promise.all([0, 1, 2].map(() => db.transaction().execute((trx) => useRecoveryCode(trx, clock, account.id, code))));
      assert.deepEqual(results.sort(), [false, false, true]);
      assert.equal(await db.transaction().execute((trx) => useRecoveryCode(trx, clock, 'acct_someone_else', codes[1] ?? '')), false, 'codes are bound to their account');
    });

    test('throttle: lockouts grow per account; a source is forgiven after a quiet period', async () => {
      const db = opened.database.db;
      const throttle = new Throttle({ db, clock, config: { freeFailures: 3, freeFailuresPerSource: 5, baseLockSeconds: 10, maxLockSeconds: 60, disableAfterFailures: 100 } });
      const fail = (key: string) => db.transaction().execute((trx) => throttle.failure(trx, key));
      assert.equal((await fail('acct:x')).lockedUntil, undefined);
      await fail('acct:x');
      const third = await fail('acct:x');
      assert.equal(third.lockedUntil, new Date(clock.now().getTime() + 10_000).toISOString());
      assert.equal(await throttle.isLocked(['ip:1', 'acct:x']), true);
      assert.equal((await fail('acct:x')).lockedUntil, new Date(clock.now().getTime() + 20_000).toISOString(), 'doubles');
      clock.advance(120_000);
      assert.equal(await throttle.isLocked(['acct:x']), false, 'expires');
      assert.equal((await fail('acct:x')).failures, 5, 'an account is not forgiven by waiting');

      for (let i = 0; i < 4; i++) await fail('ip:203.0.113.9');
      clock.advance(61_000);
      assert.equal((await fail('ip:203.0.113.9')).failures, 1, 'a source is forgiven after maxLockSeconds of quiet');
      clock.advance(61_000);
      assert.equal(await throttle.purgeSources(), 1, 'a quiet source is forgotten');
      assert.equal((await db.selectFrom('login_throttle').select('key').execute()).map((r) => r.key).join(), 'acct:x', 'account counts are kept');
      await db.transaction().execute((trx) => throttle.success(trx, 'acct:x'));
      assert.equal((await fail('acct:x')).failures, 1, 'a success ends the run');
    });

    test('service principals: created with a secret shown once, authenticated, disabled, all audited', async () => {
      const principals = new ServicePrincipals({ database: opened.database, clock });
      const by = { actor: { type: 'cli' as const, id: 'operator' } };
      const issued = await principals.create({ name: 'contract-reader', scopes: ['telemetry.read'] }, by);
      assert.equal((await principals.authenticate(issued.clientId, issued.clientSecret))?.id, issued.principal.id);
      assert.equal(await principals.authenticate(issued.clientId, `${issued.clientSecret}x`), undefined);
      await principals.disable(issued.principal.id, by);
      assert.equal((await principals.get(issued.principal.id))?.status, 'disabled');
      const stored = await opened.database.db.selectFrom('service_principals').select('secret_hash').executeTakeFirstOrThrow();
      assert.ok(!stored.secret_hash.includes(issued.clientSecret));
      const actions = await opened.database.db.selectFrom('audit_entries').select('action').where('action', 'like', 'service_principal.%').orderBy('seq').execute();
      assert.deepEqual(actions.map((a) => a.action), ['service_principal.create', 'service_principal.disable']);
    });

    test('sessions expire when idle and at their absolute limit; resolve refuses junk tokens', async () => {
      const db = opened.database.db;
      const sessions = new Sessions({ db, clock, config: { idleTimeoutMinutes: 60, absoluteTimeoutHours: 24 } });
      const { token } = await db.transaction().execute((trx) => sessions.create(trx, { accountId: account.id, stage: 'active', authMethod: 'password', context: { sourceIp: '192.0.2.1', userAgent: 'contract' } }));
      assert.equal((await sessions.resolve(token))?.account_id, account.id);
      assert.equal(await sessions.resolve('x'), undefined);
      assert.equal(await sessions.resolve(alterLast(token)), undefined);
      clock.advance(61 * 60_000);
      assert.equal(await sessions.resolve(token), undefined);
      const ended = await db.selectFrom('sessions').select('end_reason').where('account_id', '=', account.id).executeTakeFirstOrThrow();
      assert.equal(ended.end_reason, 'idle');
      assert.equal(await sessions.purge(new Date(clock.now().getTime() - 3_600_000)), 0, 'recently ended sessions are kept');
      clock.advance(1);
      assert.equal(await sessions.purge(clock.now()), 1);
      assert.equal((await db.selectFrom('sessions').select('id').execute()).length, 0);
    });
  });
}
