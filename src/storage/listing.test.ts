import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RampartError } from '../kernel/errors.ts';
import { decodeCursor, encodeCursor, valueAndId } from './listing.ts';

const refusedWith = (detail: string) => (error: unknown) => error instanceof RampartError && error.code === 'request.invalid' && error.publicDetail === detail;
const NOT_OURS = 'The cursor is not one this API returned.';

describe('keyset cursors', () => {
  test('a cursor carries the key it was made from, in base64url only', () => {
    const cursor = encodeCursor(['2026-07-01', 'rte_1|x"y']);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor, valueAndId), { value: '2026-07-01', id: 'rte_1|x"y' });
    assert.deepEqual(decodeCursor(encodeCursor([42, 'a']), valueAndId), { value: 42, id: 'a' });
  });

  test('refuses what is not base64url, not JSON, not an array or too long, as request.invalid with a public detail', () => {
    for (const cursor of ['', 'a b', 'abc+/', 'not-a-cursor', Buffer.from('{"v":1}').toString('base64url'), encodeCursor(['x'.repeat(400)])]) {
      assert.throws(() => decodeCursor(cursor, (key) => key), refusedWith(NOT_OURS), JSON.stringify(cursor));
    }
  });

  test('refuses a key the list does not accept, with that list\'s message and detail', () => {
    const refusal = { message: 'audit cursor is not one this server issued', detail: 'cursor is invalid; use the nextCursor of a previous page' };
    const seq = (key: readonly unknown[]) => (key.length === 1 && typeof key[0] === 'number' ? key[0] : undefined);
    assert.equal(decodeCursor(encodeCursor([7]), seq, refusal), 7);
    assert.throws(() => decodeCursor(encodeCursor(['7']), seq, refusal), (error: unknown) => refusedWith(refusal.detail)(error) && (error as Error).message === refusal.message);
    for (const key of [['a'], ['a', 1], [1, 'a', 'b'], [null, 'a']]) assert.throws(() => decodeCursor(encodeCursor(key as string[]), valueAndId), refusedWith(NOT_OURS), JSON.stringify(key));
  });
});
