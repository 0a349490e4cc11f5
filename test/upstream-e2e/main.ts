/*
 * `make e2e-upstream`: Kubernetes' own e2e tests (e2e.test of the control plane's release) run
 * against a cluster, then one line per test from the JUnit report. Not part of `make test`: the
 * lab it is meant for is the real-node one (docs/real-nodes.md, "Kubernetes' own tests").
 *
 *   npx tsx test/upstream-e2e/main.ts --focus REGEX [--timeout 60m] [--report-dir DIR]
 *
 * The cluster is $KUBECONFIG when set, else the running lab --lab NAME names; with neither, the
 * real-node lab of kind-zones.yaml with nearby's DaemonSet (real-node-lab.ts), brought up under
 * --new-lab NAME (default e2e-upstream) and brought down after the run. Exits 0 only when every selected test passed: a skip means the cluster lacks
 * something the test needs (zones, nodes), which is a finding, not a pass.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT, resolveLabName } from '../../lab/index.js';
import { labSourceOf } from '../../lab/cli/index.js';
import { parseJUnitReport, resultLine, summaryLine, type UpstreamTestResult } from './junit.js';
import { bringDownLab, bringUpLab } from './real-node-lab.js';

const BUILD_SCRIPT = join(PROJECT_ROOT, 'test/control-plane/build.sh');
/** After the suite's own timeout (Ginkgo then reports and exits), how long before it is killed. */
const KILL_GRACE_MS = 3 * 60_000;

class UsageError extends Error {}

function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(text);
  if (!match) throw new UsageError(`--timeout ${JSON.stringify(text)}: expected a duration such as 90s, 45m or 2h`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
}

/** NAME=PATH lines of a test/control-plane/build.sh run; its progress goes to our stderr. */
function builtBinaries(set: string): Map<string, string> {
  const out = execFileSync('bash', [BUILD_SCRIPT, set], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const found = new Map<string, string>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) found.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return found;
}

function required(found: Map<string, string>, name: string, set: string): string {
  const path = found.get(name);
  if (!path) throw new Error(`test/control-plane/build.sh ${set} named no ${name}`);
  return path;
}

/** Whether a cluster was named (KUBECONFIG or --lab); without one the run brings up its own lab. */
function clusterNamed(labName: string | undefined): boolean {
  return Boolean(process.env['KUBECONFIG']) || labName !== undefined;
}

function clusterKubeconfig(labName: string | undefined): string {
  const fromEnv = process.env['KUBECONFIG'];
  if (fromEnv) return fromEnv;
  const name = resolveLabName(labName);
  const source = labSourceOf(name);
  if ('kubeconfig' in source) return source.kubeconfig;
  if ('error' in source) throw new UsageError(`no cluster: KUBECONFIG is not set and ${source.error}`);
  throw new UsageError(`lab ${name} has no API server (it was brought up without --control-plane); set KUBECONFIG`);
}

function junitReportIn(dir: string): string | undefined {
  const file = readdirSync(dir)
    .filter((f) => /^junit_.*\.xml$/.test(f))
    .sort()[0];
  return file ? join(dir, file) : undefined;
}

async function runSuite(command: string, args: string[], logFile: string, timeoutMs: number): Promise<number | string> {
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      log.write(chunk);
      process.stdout.write(chunk);
    });
  }
  const killer = setTimeout(() => {
    console.error(`e2e-upstream: e2e.test still running ${timeoutMs / 1000} s after its own timeout; killing it`);
    child.kill('SIGKILL');
  }, timeoutMs + KILL_GRACE_MS);
  const status = await new Promise<number | string>((done) => {
    child.on('close', (code, signal) => done(signal ?? code ?? 1));
  });
  clearTimeout(killer);
  await new Promise<void>((done) => log.end(done));
  return status;
}

function printResults(results: readonly UpstreamTestResult[]): void {
  console.log('');
  console.log('e2e-upstream: results');
  for (const result of results) console.log(resultLine(result));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      focus: { type: 'string' },
      timeout: { type: 'string', default: '60m' },
      'report-dir': { type: 'string' },
      lab: { type: 'string' },
      'new-lab': { type: 'string', default: 'e2e-upstream' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  if (!values.focus) throw new UsageError('--focus REGEX is required (the Makefile passes E2E_UPSTREAM_FOCUS)');
  const timeoutMs = parseDuration(values.timeout);
  const reportDir = resolve(
    values['report-dir'] ?? join(PROJECT_ROOT, 'build/e2e-upstream', new Date().toISOString().replace(/[:.]/g, '-')),
  );
  mkdirSync(reportDir, { recursive: true });

  const e2eTest = required(builtBinaries('e2e-test'), 'e2e.test', 'e2e-test');
  const args = [`--ginkgo.focus=${values.focus}`, '--ginkgo.no-color', '--ginkgo.v'];
  if (values['dry-run']) {
    // Lists what the focus selects without a cluster: the exact names the Makefile's regex picks.
    args.push('--ginkgo.dry-run');
  } else {
    const kubectl = required(builtBinaries('control-plane'), 'kubectl', 'control-plane');
    if (!clusterNamed(values.lab)) {
      ownLab = values['new-lab'];
      bringUpLab(ownLab, kubectl, reportDir);
    }
    const kubeconfig = clusterKubeconfig(ownLab ?? values.lab);
    if (!existsSync(kubeconfig)) throw new UsageError(`kubeconfig ${kubeconfig} does not exist`);
    console.error(`e2e-upstream: cluster ${kubeconfig}, report in ${reportDir}`);
    args.push(
      `--kubeconfig=${kubeconfig}`,
      // No cloud: the tests selected need nodes, zones and Services, nothing of a provider.
      '--provider=local',
      `--kubectl-path=${kubectl}`,
      `--ginkgo.timeout=${values.timeout}`,
    );
  }
  args.push(`--report-dir=${reportDir}`);

  const started = Date.now();
  const status = await runSuite(e2eTest, args, join(reportDir, 'e2e.log'), timeoutMs);
  const took = ((Date.now() - started) / 1000).toFixed(1);
  const report = junitReportIn(reportDir);
  if (!report) {
    console.error(
      `e2e-upstream: e2e.test exited ${status} after ${took} s without a JUnit report; its output: ${join(reportDir, 'e2e.log')}`,
    );
    return 1;
  }
  const results = parseJUnitReport(readFileSync(report, 'utf8')).filter((r) => r.selected);
  const specs = results.filter((r) => !r.suiteNode);
  if (values['dry-run']) {
    // A dry run reports every selected test as passed; what it tells is the selection.
    for (const spec of specs) console.log(`selected ${spec.name}`);
    console.log(`e2e-upstream: dry run: --focus selects ${specs.length} tests`);
    return 0;
  }
  printResults(results);
  console.log(
    `e2e-upstream: ${summaryLine(specs)} of ${specs.length} selected tests in ${took} s (e2e.test exit ${status}); report ${report}`,
  );
  const allPassed = specs.length > 0 && results.every((r) => r.outcome === 'passed');
  return allPassed && status === 0 ? 0 : 1;
}

/** The lab this run brought up, brought down whatever the outcome. */
let ownLab: string | undefined;

function downOwnLab(): void {
  if (!ownLab) return;
  try {
    bringDownLab(ownLab);
  } catch (error) {
    console.error(`e2e-upstream: lab down --name ${ownLab} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

main().then(
  (code) => {
    downOwnLab();
    process.exit(code);
  },
  (error: unknown) => {
    console.error(`e2e-upstream: ${error instanceof Error ? error.message : String(error)}`);
    downOwnLab();
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
