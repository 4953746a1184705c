// SPDX-License-Identifier: MIT
/**
 * Asking for the server URL and pairing code when they were not given. Streams are injectable
 * so tests can answer the prompts; without a terminal the caller prints usage instead.
 */
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_SERVER_URL } from '../protocol/url.js';

export interface PromptIO {
  input: Readable;
  output: Writable;
}

/** True when both ends are a terminal, so a person can answer. */
export function canPrompt(io: { input: Readable; output: Writable }): boolean {
  return Boolean((io.input as { isTTY?: boolean }).isTTY && (io.output as { isTTY?: boolean }).isTTY);
}

/** Ask for what is missing; an empty URL answer means the default server. */
export async function promptConnection(
  given: { url?: string; code?: string },
  io: PromptIO,
): Promise<{ url: string; code: string }> {
  const rl = createInterface({ input: io.input, output: io.output, terminal: false });
  // A pending question never settles when the input ends: race it against 'close'.
  const closed = new Promise<never>((_, reject) =>
    rl.once('close', () => reject(new Error('input ended before the URL and code were given'))),
  );
  closed.catch(() => {});
  const ask = async (q: string): Promise<string> => (await Promise.race([rl.question(q), closed])).trim();
  try {
    let url = given.url;
    if (!url) url = (await ask(`Server URL [${DEFAULT_SERVER_URL}]: `)) || DEFAULT_SERVER_URL;
    let code = given.code;
    while (!code) {
      code = await ask('Pairing code: ');
      if (!code) io.output.write('The pairing code is shown on the server\'s /ingest page.\n');
    }
    return { url, code };
  } finally {
    rl.close();
  }
}
