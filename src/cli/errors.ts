// SPDX-License-Identifier: MIT
/** An expected CLI error: printed as one readable line without a stack. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
