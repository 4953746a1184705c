// SPDX-License-Identifier: MIT
/** An error the HTTP layer answers with its status and `{"error": message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
