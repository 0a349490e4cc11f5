#!/usr/bin/env node
/* nearby-agent: the DaemonSet process. See cmd/agent/options.ts for its flags. */
import { agentUsage, parseAgentOptions } from './agent/options.js';
import { runAgent } from './agent/run.js';
import { STARTUP_EXIT_CODE, StartupError, startupLine } from './startup-error.js';

async function main(): Promise<void> {
  const options = parseAgentOptions(process.argv.slice(2), process.env);
  if (!options) {
    process.stdout.write(`${agentUsage()}\n`);
    return;
  }
  const agent = await runAgent(options);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    agent.logger.info({ signal }, 'shutting down');
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        agent.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof StartupError) {
    process.stderr.write(`${startupLine('nearby-agent', error)}\n`);
    process.exit(STARTUP_EXIT_CODE);
  }
  process.stderr.write(`nearby-agent: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
