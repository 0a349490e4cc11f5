#!/usr/bin/env node
/* nearbyctl: the operator CLI (plan, explain, maps). The commands live in cmd/ctl/. */
import { failureText } from './ctl/failure-text.js';
import { runNearbyctl } from './ctl/run.js';

runNearbyctl(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${failureText(error)}\n`);
    process.exitCode = 1;
  },
);
