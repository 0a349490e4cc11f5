#!/usr/bin/env node
/* nearbyctl: the operator CLI (plan, explain, maps). The commands live in cmd/ctl/. */
import { failureText } from './ctl/failure-text.js';
import { runNearbyctl } from './ctl/run.js';

/**
 * Every command is one-shot: once it has answered, nothing it opened on the way (the Kubernetes
 * client's sockets, libbpf's map handles, the lab package loaded for --lab) may keep a shell or a
 * script waiting. `explain` and `maps --lab` on a control-plane lab were seen to print and then
 * hang. Exit once stdout and stderr have drained, so no output is cut short.
 */
function finish(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

runNearbyctl(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then(finish, (error: unknown) => {
  process.stderr.write(`${failureText(error)}\n`);
  finish(1);
});
