// SPDX-License-Identifier: MIT
/**
 * The names of the log events that tests and tools match on. Code logs them through these
 * constants and tests match them through the same constants, so renaming one renames both and a
 * check over log lines can never silently match nothing.
 *
 * A line's message is the event name alone, or the event name, ': ' and a detail (a track's
 * label, a count); `isLogEvent` matches both forms.
 */
export const LogEvent = {
  // coordinator
  jobSent: 'job sent',
  resultStored: 'result stored',
  jobLeaseExpired: 'job lease expired',
  refusedResultNotHeld: 'refused a result for a job this socket does not hold',
  refusedResult: 'refused a result, nothing stored',
  refusedOversizeFrame: 'refused a frame over the size limit; closing the socket',
  ignoredBinaryFrame: 'ignored a binary frame (the protocol uses text frames)',
  ignoredNonJsonFrame: 'ignored a frame that is not JSON',
  ignoredNonObjectFrame: 'ignored a frame that is not a JSON object',
  ignoredResultWithoutJobId: 'ignored a result without a usable job_id',
  ignoredUnknownFrame: 'ignored a frame of unknown type',
  // worker
  jobStarted: 'job started',
  jobDone: 'job done',
  staleFoldersRemoved: 'removed temp folder(s) left by an earlier run',
} as const;

export type LogEventName = (typeof LogEvent)[keyof typeof LogEvent];

/** `event`, or `event: detail` (the form for events that carry a label or a count). */
export function logEventMessage(event: LogEventName, detail?: string | number): string {
  return detail === undefined ? event : `${event}: ${detail}`;
}

/** Whether a log line's message is this event (alone or with a detail). */
export function isLogEvent(msg: unknown, event: LogEventName): boolean {
  return typeof msg === 'string' && (msg === event || msg.startsWith(`${event}: `));
}
