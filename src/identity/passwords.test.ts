import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hasCode } from '../../test/support/errors.ts';
import { checkPasswordPolicy, commonPasswordCount, hashPassword, isCommonPassword, needsRehash, verifyPassword } from './passwords.ts';

const PARAMS = { memoryKiB: 19_456, iterations: 2, parallelism: 1 };

describe('passwords', () => {
  test('are hashed with Argon2id at no less than 19 MiB and t=2, with a random salt', async () => {
    const first = await hashPassword('a long enough password', PARAMS);
    const second = await hashPassword('a long enough password', PARAMS);
    assert.match(first, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.notEqual(first, second);
    assert.equal(await verifyPassword(first, 'a long enough password'), true);
    assert.equal(await verifyPassword(first, 'a long enough passwordX'), false);
    assert.equal(await verifyPassword('not a hash', 'anything'), false);
  });

  test('weaker stored parameters are flagged for re-hashing', async () => {
    assert.equal(needsRehash(await hashPassword('pw for rehash', PARAMS), PARAMS), false);
    assert.equal(needsRehash(await hashPassword('pw for rehash', PARAMS), { ...PARAMS, memoryKiB: 65_536 }), true);
    assert.equal(needsRehash('$2b$10$legacy', PARAMS), true);
  });

  test('the common-password list holds at least 100,000 entries and catches well-known ones, case-insensitively', () => {
    assert.ok(commonPasswordCount() >= 100_000, `only ${commonPasswordCount()} entries`);
    for (const known of ['password1', 'iloveyou', 'qwertyuiop', 'Password123', 'PASSWORD1', '1q2w3e4r5t']) assert.equal(isCommonPassword(known), true, known);
    for (const fresh of ['violet-tractor-ledger-97', 'Zq8#mW2!pL0x', 'correct horse battery 5 staple']) assert.equal(isCommonPassword(fresh), false, fresh);
  });

  test('policy: 8 to 128 characters counted as characters, no composition rules, common and username-bearing passwords refused', () => {
    assert.throws(() => checkPasswordPolicy('seven77'), hasCode('identity.password_rejected'));
    assert.throws(() => checkPasswordPolicy('x'.repeat(129)), hasCode('identity.password_rejected'));
    checkPasswordPolicy('🚚'.repeat(8));
    checkPasswordPolicy('y'.repeat(128));
    checkPasswordPolicy('all lower case words only');
    assert.throws(() => checkPasswordPolicy('iloveyou'), hasCode('identity.password_rejected', /common/));
    assert.throws(() => checkPasswordPolicy('dispatcher-jane-2026', { username: 'jane' }), hasCode('identity.password_rejected', /username/));
  });
});
