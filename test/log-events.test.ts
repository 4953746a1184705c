// SPDX-License-Identifier: MIT
/** Log event names: one constant for the code that logs and the test that matches. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLogEvent, LogEvent, logEventMessage } from '../src/log/events.js';

test('isLogEvent matches the event alone or with a detail, nothing else', () => {
  assert.equal(isLogEvent('job sent', LogEvent.jobSent), true);
  assert.equal(isLogEvent(logEventMessage(LogEvent.jobStarted, 'Artist - Title'), LogEvent.jobStarted), true);
  assert.equal(logEventMessage(LogEvent.jobDone, 'A - B'), 'job done: A - B');
  assert.equal(isLogEvent('job sent twice', LogEvent.jobSent), false);
  assert.equal(isLogEvent('job sentinel', LogEvent.jobSent), false);
  assert.equal(isLogEvent('a job sent', LogEvent.jobSent), false);
  assert.equal(isLogEvent(undefined, LogEvent.jobSent), false);
});

test('event names are distinct and none is a prefix form of another', () => {
  const names = Object.values(LogEvent);
  assert.equal(new Set(names).size, names.length);
  for (const a of names) for (const b of names) if (a !== b) assert.equal(isLogEvent(a, b), false, `${a} read as ${b}`);
});
