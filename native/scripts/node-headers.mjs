// SPDX-License-Identifier: MIT
/**
 * The environment for running cmake-js offline: when no `npm_config_nodedir` is set (the
 * script was started with plain `node`, not through npm), point it at the headers that ship
 * with the running Node (<prefix>/include/node/node_api.h) so cmake-js does not try to
 * download them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export function cmakeJsEnv(env = process.env) {
  if (env.npm_config_nodedir) return env;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return { ...env, npm_config_nodedir: prefix };
  return env;
}
