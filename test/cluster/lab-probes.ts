/*
 * What the API outage tests look at in a lab on a real control plane, each from outside as an
 * operator would: an agent's /readyz and /metrics on its port, the pinned maps through
 * `nearbyctl maps`, and a paced curl loop in a pod whose every line carries its start time, so
 * a connect can be placed inside or outside an outage.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { LabClient } from '../../lab/index.js';
import { ROOT } from '../e2e/lab-fixture.js';

export interface ReadyzAnswer {
  readonly atMs: number;
  /** HTTP status, or 0 when the agent did not answer at all. */
  readonly status: number;
  readonly body: string;
}

export async function readyz(port: number): Promise<ReadyzAnswer> {
  const atMs = Date.now();
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    return { atMs, status: response.status, body: (await response.text()).trim() };
  } catch (error) {
    return { atMs, status: 0, body: (error as Error).message };
  }
}

/** One unlabelled sample of the agent's Prometheus text, e.g. nearby_watch_relists_total. */
export async function metricValue(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`agent on port ${port} exports no ${name}`);
  return Number(line.slice(name.length + 1));
}

export interface PinnedService {
  readonly id: number;
  readonly vip: string;
  readonly port: number;
  readonly mode: string;
  readonly tiers: ReadonlyArray<{ readonly endpoints: ReadonlyArray<{ readonly address: string }> }>;
}

/** The Service at vip:port as NODE's pinned maps hold it: readable with the agent stopped or gone. */
export function pinnedService(lab: LabClient, node: string, vip: string, port: number): PinnedService {
  const out = execFileSync(
    process.execPath,
    [join(ROOT, 'dist/cmd/nearbyctl.js'), 'maps', '--node', node, '--bpffs', lab.host.bpffs, '--json'],
    { encoding: 'utf8', timeout: 15_000 },
  );
  const services = (JSON.parse(out) as { services: PinnedService[] }).services.filter((s) => s.vip === vip && s.port === port);
  if (services.length !== 1) throw new Error(`expected one service ${vip}:${port} in the maps of ${node}, found ${services.length}`);
  return services[0]!;
}

/** Endpoint addresses per tier, closest first; a tier can be empty (no endpoint on this node, say). */
export const tierAddresses = (service: PinnedService): string[][] => service.tiers.map((t) => t.endpoints.map((e) => e.address));

/** The addresses of the closest tier that has any: where the datapath sends this node's connects. */
export const closestAddresses = (service: PinnedService): string[] => tierAddresses(service).find((tier) => tier.length > 0) ?? [];

export interface TimedCurl {
  /** Wall-clock ms when curl started, from the pod's `date` (the same clock as Date.now()). */
  readonly startMs: number;
  readonly code: number;
  readonly ms: number;
  readonly connectError: string;
  readonly body: string;
  readonly answer?: { readonly version: string; readonly instance: string };
}

export interface PacedLoop {
  /** Upper bounds, so a loop whose test died still ends. */
  readonly maxCount: number;
  readonly maxSeconds: number;
  readonly intervalS: number;
  readonly maxTimeS: number;
  /** The loop ends early once this file exists. */
  readonly stopFile: string;
  /** Rewritten with the number of curls done after each one. */
  readonly progressFile: string;
}

/** A curl every intervalS, bounded by count, time and the stop file; one tab-separated line per curl. */
export function pacedCurlScript(url: string, loop: PacedLoop): string {
  return [
    `err=$(mktemp); i=0; t0=$(date +%s);`,
    `while [ "$i" -lt ${loop.maxCount} ] && [ $(( $(date +%s) - t0 )) -lt ${loop.maxSeconds} ] && [ ! -e '${loop.stopFile}' ]; do i=$((i + 1));`,
    `s=$(date +%s%N); body=$(curl -sS -v --max-time ${loop.maxTimeS} '${url}' 2>"$err"); rc=$?; e=$(date +%s%N);`,
    `why=''; if [ "$rc" -ne 0 ]; then why=$(grep -oE 'Connection refused|Network is unreachable|No route to host|Connection timed out|Operation timed out|Connection reset by peer' "$err" | head -n 1); fi;`,
    `printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$((s / 1000000))" "$rc" "$(( (e - s) / 1000000 ))" "$why" "$body"; echo "$i" > '${loop.progressFile}';`,
    `sleep ${loop.intervalS}; done; rm -f "$err"`,
  ].join(' ');
}

const HELLO_ANSWER = /^Hello version: (.*), instance: (.*)$/;

export function parseTimedCurls(stdout: string): TimedCurl[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [startMs = '', code = '', ms = '', connectError = '', ...rest] = line.split('\t');
      const body = rest.join('\t');
      const m = code === '0' ? HELLO_ANSWER.exec(body) : null;
      return {
        startMs: Number(startMs),
        code: Number(code),
        ms: Number(ms),
        connectError,
        body,
        ...(m ? { answer: { version: m[1]!, instance: m[2]! } } : {}),
      };
    });
}
