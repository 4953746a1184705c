#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// yt-dlp's node calls (media/js-runtime.ts) first, behind the worker's per-run token; else the CLI.
import { answerJsRuntimeCall, jsRuntimeCall } from './media/js-runtime.js';
const call = jsRuntimeCall(process.argv.slice(2));
if (call) answerJsRuntimeCall(call).then((code) => (process.exitCode = code));
else import('./cli/main.js').then(({ main }) => main()).catch((e: unknown) => ((process.exitCode = 70), console.error(e)));
