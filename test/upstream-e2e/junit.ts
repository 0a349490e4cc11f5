/*
 * What Kubernetes' e2e.test says about each test, read from the JUnit report it writes into
 * --report-dir (junit_01.xml, Ginkgo's JUnit reporter with the e2e framework's settings). That
 * writer leaves the failure message attribute empty and puts the whole failure in the element's
 * text, whose first line is "[FAILED] <message>" (and when that only says how long a wait took,
 * the next line says why); a skip's message is "skipped - <why>". Every
 * Ginkgo state other than passed, skipped and pending counts as failed, its state kept.
 */
import { descendants, parseXml, type XmlElement } from './xml.js';

export const OUTCOMES = ['passed', 'failed', 'skipped'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface UpstreamTestResult {
  /** The spec's full text, without Ginkgo's leading "[It]"; suite nodes keep theirs ("[SynchronizedBeforeSuite]"). */
  readonly name: string;
  readonly outcome: Outcome;
  /** Ginkgo's own state: passed, failed, timedout, interrupted, panicked, skipped, pending, ... */
  readonly state: string;
  /** The failure's or skip's first line, without the state prefix; empty when it passed. */
  readonly reason: string;
  readonly seconds: number;
  /** A suite-level node ([SynchronizedBeforeSuite], [ReportAfterSuite] ...), not a test. */
  readonly suiteNode: boolean;
  /**
   * False for a spec --ginkgo.focus left out: the report lists every spec of the suite, and
   * Ginkgo writes those as skipped with no reason, where a test that skips itself says why.
   */
  readonly selected: boolean;
}

export class JUnitReportError extends Error {
  constructor(what: string) {
    super(`JUnit report: ${what}`);
    this.name = 'JUnitReportError';
  }
}

/** Gomega's first line when a wait ends says only how long it waited; the next line says why. */
const WAIT_PREFACE = /^(\[[A-Z]+\]\s*)?(Told to stop trying|Timed out) after [\d.]+m?s\.$/;

function firstLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const [first = '', second] = lines;
  return WAIT_PREFACE.test(first) && second ? `${first} ${second}` : first;
}

/** "[FAILED] x" -> "x", "[TIMEDOUT] x" -> "x", "skipped - x" -> "x". */
function withoutStatePrefix(line: string): string {
  return line.replace(/^\[[A-Z]+\]\s*/, '').replace(/^skipped(\s+-\s+|$)/, '');
}

function detail(element: XmlElement | undefined): string {
  if (!element) return '';
  return withoutStatePrefix(firstLine(element.attributes['message'] || element.text));
}

function outcomeOf(state: string, testcase: XmlElement): Outcome {
  if (state === 'passed') return 'passed';
  if (state === 'skipped' || state === 'pending') return 'skipped';
  if (state !== '') return 'failed';
  // A writer without Ginkgo's status attribute: the child element says it.
  if (testcase.children.some((c) => c.name === 'failure' || c.name === 'error')) return 'failed';
  if (testcase.children.some((c) => c.name === 'skipped')) return 'skipped';
  return 'passed';
}

function resultOf(testcase: XmlElement): UpstreamTestResult {
  const rawName = testcase.attributes['name'];
  if (rawName === undefined) throw new JUnitReportError('a <testcase> without a name');
  const state = testcase.attributes['status'] ?? '';
  const outcome = outcomeOf(state, testcase);
  const problem = testcase.children.find((c) => c.name === 'failure' || c.name === 'error');
  const skip = testcase.children.find((c) => c.name === 'skipped');
  const seconds = Number(testcase.attributes['time'] ?? '0');
  const reason = outcome === 'failed' ? detail(problem) : outcome === 'skipped' ? detail(skip) : '';
  return {
    name: rawName.replace(/^\[It\]\s+/, ''),
    outcome,
    state: state || outcome,
    reason,
    seconds: Number.isFinite(seconds) ? seconds : 0,
    suiteNode: /^\[[^\]]*Suite[^\]]*\]/.test(rawName),
    selected: !(state === 'skipped' && reason === ''),
  };
}

/** Every <testcase> of the report, in the report's order, the ones the focus left out too. */
export function parseJUnitReport(xml: string): UpstreamTestResult[] {
  const root = parseXml(xml);
  if (root.name !== 'testsuites' && root.name !== 'testsuite') {
    throw new JUnitReportError(`root element is <${root.name}>, not <testsuites> or <testsuite>`);
  }
  return descendants(root, 'testcase').map(resultOf);
}

/** One line per test: outcome, name, and the reason's first line when there is one. */
export function resultLine(result: UpstreamTestResult): string {
  const outcome = result.state === result.outcome ? result.outcome : `${result.outcome} (${result.state})`;
  const reason = result.reason ? ` -- ${result.reason}` : '';
  return `${outcome.padEnd(7)} ${result.name}${reason}`;
}

/** "3 passed, 1 failed, 7 skipped". */
export function summaryLine(results: readonly UpstreamTestResult[]): string {
  return OUTCOMES.map((o) => `${results.filter((r) => r.outcome === o).length} ${o}`).join(', ');
}
