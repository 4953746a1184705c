#!/usr/bin/env node
// SPDX-License-Identifier: MIT
import { main } from './cli/main.js';
main().catch((e: unknown) => ((process.exitCode = 70), console.error(e)));
