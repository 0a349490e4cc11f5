#!/usr/bin/env node
/* nearby-agent: the DaemonSet process. See cmd/agent/options.ts for its flags, and --cleanup --help. */
import pino from 'pino';
import { CLEANUP_FLAG, cleanupUsage, parseCleanupOptions } from './agent/cleanup-options.js';
import { agentUsage, parseAgentOptions } from './agent/options.js';
import { runAgent } from './agent/run.js';
import { STARTUP_EXIT_CODE, StartupError, startupLine } from './startup-error.js';
import { runUninstall } from './uninstall.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes(CLEANUP_FLAG)) {
    const cleanup = parseCleanupOptions(argv, process.env);
    if (!cleanup) {
      process.stdout.write(`${cleanupUsage()}\n`);
      return;
    }
    const logger = pino({ level: cleanup.logLevel, base: { node: cleanup.nodeName, mode: 'cleanup' } });
    process.exitCode = runUninstall(cleanup.pinRoot, logger);
    return;
  }
  const options = parseAgentOptions(argv, process.env);
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
