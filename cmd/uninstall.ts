/*
 * `nearbyctl uninstall` and `nearby-agent --cleanup`: one run, one report, one set of exit codes
 * (docs/nearbyctl.md, "uninstall"). Every pin is a log line with its path, so a cleanup pod's log
 * says what it took off the node and what it left.
 */
import type { Logger } from 'pino';
import { DatapathError, uninstallPins, type UninstallReport } from '../pkg/datapath/index.js';

/** 0: nothing of nearby's is left on the node (foreign pins may be); 1: something of nearby's is. */
export const UNINSTALL_EXIT = { clean: 0, failed: 1 } as const;

export function runUninstall(pinRoot: string, logger: Logger): number {
  let report: UninstallReport;
  try {
    report = uninstallPins(pinRoot);
  } catch (error) {
    if (!(error instanceof DatapathError)) throw error;
    logger.error({ err: error, pinRoot, path: 'path' in error ? error.path : undefined }, 'uninstall failed: a pin of nearby stays');
    return UNINSTALL_EXIT.failed;
  }
  for (const path of report.detached) logger.info({ path }, 'link detached and unpinned');
  for (const path of report.unpinned) logger.info({ path }, 'map unpinned');
  for (const { path, reason } of report.foreign) logger.warn({ path, reason }, 'pin left alone: not nearby');
  for (const path of report.removedDirs) logger.info({ path }, 'directory removed');
  for (const error of report.failed) logger.error({ err: error, path: error.path }, 'pin of nearby not removed');
  if (report.failed.length > 0) {
    logger.error({ pinRoot, failed: report.failed.map((e) => e.path) }, 'uninstall failed: pins of nearby stay');
    return UNINSTALL_EXIT.failed;
  }
  logger.info(
    {
      pinRoot,
      detached: report.detached.length,
      unpinned: report.unpinned.length,
      foreign: report.foreign.length,
      alreadyClean: report.detached.length + report.unpinned.length === 0,
    },
    'uninstall done: nothing of nearby is pinned or attached',
  );
  return UNINSTALL_EXIT.clean;
}
