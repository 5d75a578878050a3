import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constantTimeEqual } from './compare.ts';

test('constantTimeEqual tells equal secrets from different ones, of any length, as text or bytes', () => {
  assert.equal(constantTimeEqual('s3cret-token', 's3cret-token'), true);
  assert.equal(constantTimeEqual('s3cret-token', 's3cret-tokeN'), false);
  assert.equal(constantTimeEqual('s3cret-token', 's3cret-toke'), false, 'a prefix is not equal');
  assert.equal(constantTimeEqual('', ''), true);
  assert.equal(constantTimeEqual('é', 'e\u0301'), false, 'compared as UTF-8 bytes, not normalised');
  assert.equal(constantTimeEqual(Buffer.from([1, 2, 3]), Uint8Array.from([1, 2, 3])), true);
  assert.equal(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 4])), false);
});
