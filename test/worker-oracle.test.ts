// SPDX-License-Identifier: MIT
/** The fuzz pass's oracle (test/system/support/worker-oracle.ts) against verdicts written by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HAND_CASES, expectFor } from './system/support/worker-oracle.js';

for (const c of HAND_CASES)
  test(`oracle agrees with the hand-written verdict: ${c.why}`, () => {
    assert.deepEqual(expectFor(c.frame, c.binary), c.expect);
  });

test('the hand-written table covers answers of each kind', () => {
  assert.ok(HAND_CASES.some((c) => c.expect.pong));
  assert.ok(HAND_CASES.some((c) => c.expect.jobId));
  assert.ok(HAND_CASES.some((c) => !c.expect.jobId && !c.expect.pong));
});
