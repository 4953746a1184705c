// SPDX-License-Identifier: MIT
/** The package's own version, read from its package.json (works from src and dist). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './embed/model-file.js';

export const VERSION: string = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
