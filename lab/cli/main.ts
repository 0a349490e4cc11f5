#!/usr/bin/env node
/*
 * nearby-lab, the lab package's bin: `nearby-lab up|apply|...` is `nearbyctl lab up|apply|...`,
 * and `nearby-lab demo [--files]` is `nearbyctl demo [--files]`.
 */
import { runLabCli } from './index.js';

const argv = process.argv.slice(2);
runLabCli(argv[0] === 'demo' ? argv : ['lab', ...argv], {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`nearby-lab: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
