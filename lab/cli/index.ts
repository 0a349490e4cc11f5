/*
 * The lab's commands as a function of argv: `lab ...` and `demo [--files]`. nearbyctl delegates
 * both here when the lab is installed beside it (a checkout's build), and the lab's own bin
 * (bin/nearby-lab) goes through nearbyctl. Exit codes: 0 ok, 1 failed, 2 usage or prerequisites.
 */
import { runDemo } from './demo.js';
import type { CliIo } from './io.js';
import { runLab } from './lab.js';

export type { CliIo } from './io.js';

/** argv starts with the command word, `lab` or `demo`, as nearbyctl received it. */
export async function runLabCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'demo') return runDemo(io, { controlPlane: !rest.includes('--files') });
  if (command === 'lab') return runLab(rest, io);
  io.err(`nearby-lab: unknown command ${JSON.stringify(command ?? '')}; expected lab or demo`);
  return 2;
}
