import assert from 'node:assert/strict';
import type { ErrorCode } from '../../src/kernel/error-catalog.ts';
import { RampartError } from '../../src/kernel/errors.ts';

/**
 * For assert.throws/rejects: the error is a RampartError with `code` and its
 * message matches every fragment (the operator-facing text names the fix).
 */
export function hasCode(code: ErrorCode, ...fragments: RegExp[]): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof RampartError, `expected a RampartError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const fragment of fragments) assert.match(error.message, fragment);
    return true;
  };
}
