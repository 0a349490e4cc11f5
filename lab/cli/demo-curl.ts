/*
 * The demo's curl rounds: N curls from the sleep pod in one exec (one process spawn, not N), each
 * reported with its exit code, its start and time and what it printed, parsed into helloworld
 * answers. Where the shell runs is a PodShell: `lab exec` on the lab's own pods, or a real
 * node's container (demo-real-node-shell.ts).
 */
import type { LabClient } from '../index.js';

/** Runs a shell script in a client pod, and names the pod a selector finds. */
export interface PodShell {
  podName(selector: string, namespace: string): Promise<string>;
  run(pod: string, namespace: string, script: string, timeoutMs: number): Promise<{ stdout: string; stderr: string }>;
}

/** The lab's own pods, through `lab exec`. */
export function labShell(lab: LabClient): PodShell {
  return {
    podName: (selector, namespace) => lab.podName(selector, namespace),
    run: (pod, namespace, script, timeoutMs) => lab.exec(pod, ['sh', '-c', script], { namespace, timeoutMs }),
  };
}

export interface CurlResult {
  /** curl's exit code: 0 answered, 7 could not connect. */
  readonly code: number;
  /** When the curl started, in epoch milliseconds (the machine's clock, which the pods share). */
  readonly at: number;
  readonly ms: number;
  readonly text: string;
  /** Refused at connect (ECONNREFUSED), as a Service with no endpoint gives. */
  readonly refused: boolean;
}

export interface CurlRound {
  readonly results: readonly CurlResult[];
  /** The pod the curls ran in. */
  readonly from?: string;
}

const ANSWER = /^Hello version: (.*), instance: (.*)$/;

/** "Hello version: V, instance: I" as {version, instance}; undefined for anything else. */
export function answerOf(result: CurlResult): { version: string; instance: string } | undefined {
  const m = result.code === 0 ? ANSWER.exec(result.text) : null;
  return m ? { version: m[1]!, instance: m[2]! } : undefined;
}

/**
 * One curl as shell, printing one tab-separated line: exit code, start (epoch ms), milliseconds,
 * the answer or curl's error, and the connect error from curl's verbose output (which tells
 * "refused" from "unreachable"). Leaves the answer in $text.
 */
function curlLine(url: string, resolve?: string): string {
  const pinned = resolve ? `--resolve ${resolve} ` : '';
  return [
    `s=$(date +%s%N); out=$(curl -sSL -v --max-time 3 ${pinned}"${url}" 2>&1); rc=$?; e=$(date +%s%N);`,
    `text=$(printf '%s\\n' "$out" | grep -v '^[*<>{}]' | head -1);`,
    `why=$(printf '%s\\n' "$out" | grep -oE 'Connection refused|Network is unreachable|timed out' | head -1);`,
    `printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$rc" "$(( s / 1000000 ))" "$(( (e - s) / 1000000 ))" "$text" "$why";`,
  ].join(' ');
}

async function runCurls(shell: PodShell, namespace: string, pod: string, script: string, timeoutMs: number): Promise<CurlRound> {
  const r = await shell.run(pod, namespace, script, timeoutMs);
  const results = r.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line): CurlResult => {
      const [code = '', at = '', ms = '', text = '', why = ''] = line.split('\t');
      return { code: Number(code), at: Number(at), ms: Number(ms), text, refused: Number(code) === 7 && why === 'Connection refused' };
    });
  if (results.length === 0) throw new Error(`no curl results: ${r.stdout}${r.stderr}`);
  return { results, from: pod };
}

/** `count` curls from `pod`, by default the first sleep pod. */
/** `resolve`: curl's --resolve HOST:PORT:ADDRESS, where the pod has no cluster DNS (the real-node lab). */
export async function curlRound(
  shell: PodShell,
  namespace: string,
  url: string,
  count: number,
  pod?: string,
  resolve?: string,
): Promise<CurlRound> {
  pod ??= await shell.podName('app=sleep', namespace);
  const script = `for i in $(seq ${count}); do ${curlLine(url, resolve)} done`;
  const round = await runCurls(shell, namespace, pod, script, count * 4_000 + 5_000);
  if (round.results.length !== count) throw new Error(`expected ${count} curl results, got ${round.results.length}`);
  return round;
}

/**
 * Curls until one answers (any HTTP answer) or `withinMs` is up; true when one did. The seed's
 * helloworld has no readiness probe, so a real kubelet reports it Ready as its container starts,
 * seconds before the server listens on a busy node: a step's counted curls wait for this first.
 */
export async function answersOnce(
  shell: PodShell,
  namespace: string,
  url: string,
  withinMs: number,
  pod?: string,
  resolve?: string,
): Promise<boolean> {
  pod ??= await shell.podName('app=sleep', namespace);
  const pinned = resolve ? `--resolve ${resolve} ` : '';
  const script = [
    `end=$(( $(date +%s%N) + ${withinMs} * 1000000 )); while [ "$(date +%s%N)" -lt "$end" ]; do`,
    `if curl -s -o /dev/null --max-time 2 ${pinned}"${url}"; then echo answered; break; fi; sleep 0.2; done`,
  ].join(' ');
  const r = await shell.run(pod, namespace, script, withinMs + 10_000);
  return r.stdout.includes('answered');
}

export interface CurlUntil {
  /** Stop after the first answer containing this text. */
  readonly answer: string;
  /** Give up after this long. */
  readonly withinMs: number;
  /** Between two curls. */
  readonly pauseMs: number;
}

/** Curls from `pod` until an answer contains `until.answer` (the last result) or `until.withinMs` is up. */
export async function curlUntil(shell: PodShell, namespace: string, url: string, pod: string, until: CurlUntil): Promise<CurlRound> {
  const deadlineNs = `$(( $(date +%s%N) + ${until.withinMs} * 1000000 ))`;
  const script = [
    `end=${deadlineNs}; while [ "$(date +%s%N)" -lt "$end" ]; do`,
    curlLine(url),
    `case "$text" in *${JSON.stringify(until.answer)}*) break;; esac; sleep ${(until.pauseMs / 1000).toFixed(3)}; done`,
  ].join(' ');
  return runCurls(shell, namespace, pod, script, until.withinMs + 10_000);
}

/** The lines a user would see, one per curl. */
export function formatRound(round: CurlRound): string[] {
  return round.results.map((r) =>
    r.code === 0 ? r.text : `${r.text} (exit ${r.code}${r.refused ? ', connection refused' : ''}, after ${r.ms} ms)`,
  );
}

/** "version xN, ..." for a summary cell. */
export function describeRound(round: CurlRound): string {
  const counts = new Map<string, number>();
  for (const r of round.results) {
    const a = answerOf(r);
    const key = a ? a.version : r.refused ? 'refused' : `exit ${r.code}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const slowest = Math.max(...round.results.map((r) => r.ms));
  const cells = [...counts].map(([k, n]) => `${k} x${n}`).join(', ');
  return round.results.every((r) => r.code !== 0) ? `${cells} (slowest ${slowest} ms)` : cells;
}
