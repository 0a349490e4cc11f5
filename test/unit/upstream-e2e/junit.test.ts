// The JUnit report e2e.test writes, read into one result per test: a fixture in the shape Ginkgo's
// reporter writes with the e2e framework's settings (its first failure copied from a real run) (empty failure message attribute, the failure
// in the text with Go's &#xA; newlines, a suite node, a skip, a timeout, a pending spec, and a spec
// the focus left out, which the report lists too).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JUnitReportError, parseJUnitReport, resultLine, summaryLine } from '../../upstream-e2e/junit.js';
import { XmlParseError, parseXml } from '../../upstream-e2e/xml.js';

const fixture = readFileSync(new URL('../../fixtures/upstream-e2e/junit_01.xml', import.meta.url), 'utf8');

describe('parseJUnitReport', () => {
  const results = parseJUnitReport(fixture);

  it('reads every testcase in order, dropping only the leading [It]', () => {
    expect(results.map((r) => r.name)).toEqual([
      '[SynchronizedBeforeSuite]',
      '[sig-network] Services should respect internalTrafficPolicy=Local Pod to Pod',
      '[sig-network] Traffic Distribution should route traffic to an endpoint in the same zone when using PreferClose',
      '[sig-network] Traffic Distribution should route traffic correctly between pods on multiple nodes when using PreferSameZone',
      '[sig-windows] [Feature:Windows] SecurityContext should be able to create pod and run containers',
      '[sig-network] Services should respect internalTrafficPolicy=Local Pod (hostNetwork: true) to Pod',
      '[sig-network] Traffic Distribution should route traffic to an endpoint on the same node when using PreferSameNode and fall back when the endpoint becomes unavailable',
    ]);
  });

  it('tells the specs the focus left out (skipped, no reason) from the ones that skipped themselves', () => {
    expect(results.filter((r) => !r.selected).map((r) => r.name)).toEqual([
      '[sig-windows] [Feature:Windows] SecurityContext should be able to create pod and run containers',
    ]);
  });

  it('maps Ginkgo states to passed, failed and skipped, keeping the state', () => {
    expect(results.map((r) => [r.outcome, r.state])).toEqual([
      ['passed', 'passed'],
      ['failed', 'failed'],
      ['skipped', 'skipped'],
      ['failed', 'timedout'],
      ['skipped', 'skipped'],
      ['passed', 'passed'],
      ['skipped', 'pending'],
    ]);
  });

  it("takes the reason's first line from the failure text, entities decoded and the state prefix dropped", () => {
    expect(results[3]?.reason).toBe('A suite timeout occurred');
  });

  it("adds the line after Gomega's wait preface, which alone says only how long it waited", () => {
    expect(results[1]?.reason).toBe('Told to stop trying after 2.017s. The phase of Pod echo-hostname-0 is Failed which is unexpected.');
  });

  it('takes a skip reason from the message attribute', () => {
    expect(results[2]?.reason).toBe('Requires >= 3 zones');
    expect(results[6]?.reason).toBe('pending');
    expect(results[0]?.reason).toBe('');
  });

  it('tells suite nodes from tests', () => {
    expect(results.map((r) => r.suiteNode)).toEqual([true, false, false, false, false, false, false]);
  });

  it('reads the run time in seconds', () => {
    expect(results[1]?.seconds).toBeCloseTo(301.9);
  });

  it('prints one line per test and a summary', () => {
    const selected = results.filter((r) => r.selected);
    expect(selected.map(resultLine)).toEqual([
      'passed  [SynchronizedBeforeSuite]',
      'failed  [sig-network] Services should respect internalTrafficPolicy=Local Pod to Pod -- Told to stop trying after 2.017s. The phase of Pod echo-hostname-0 is Failed which is unexpected.',
      'skipped [sig-network] Traffic Distribution should route traffic to an endpoint in the same zone when using PreferClose -- Requires >= 3 zones',
      'failed (timedout) [sig-network] Traffic Distribution should route traffic correctly between pods on multiple nodes when using PreferSameZone -- A suite timeout occurred',
      'passed  [sig-network] Services should respect internalTrafficPolicy=Local Pod (hostNetwork: true) to Pod',
      'skipped (pending) [sig-network] Traffic Distribution should route traffic to an endpoint on the same node when using PreferSameNode and fall back when the endpoint becomes unavailable -- pending',
    ]);
    expect(summaryLine(selected)).toBe('2 passed, 2 failed, 2 skipped');
  });

  it('falls back to the child element when there is no status attribute', () => {
    const xml =
      '<testsuite><testcase name="a"><failure message="boom&#10;more">x</failure></testcase>' +
      '<testcase name=\'b\'><skipped/></testcase><testcase name="c"/></testsuite>';
    expect(parseJUnitReport(xml).map((r) => [r.name, r.outcome, r.reason])).toEqual([
      ['a', 'failed', 'boom'],
      ['b', 'skipped', ''],
      ['c', 'passed', ''],
    ]);
  });

  it('refuses what is not a JUnit report', () => {
    expect(() => parseJUnitReport('<html><body/></html>')).toThrow(JUnitReportError);
    expect(() => parseJUnitReport('<testsuites><testcase/></testsuites>')).toThrow(/without a name/);
  });
});

describe('parseXml', () => {
  it('refuses broken documents, naming where', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(XmlParseError);
    expect(() => parseXml('<a>')).toThrow(/never closed/);
    expect(() => parseXml('<a/><b/>')).toThrow(/second root/);
    expect(() => parseXml('<a>&nbsp;</a>')).toThrow(/unknown entity/);
    expect(() => parseXml('')).toThrow(/no root/);
  });

  it('keeps text, CDATA and attributes apart from children', () => {
    const root = parseXml('<?xml version="1.0"?><!-- c --><a k="1 &lt; 2">x<b/>y<![CDATA[<z>]]></a>');
    expect(root.attributes).toEqual({ k: '1 < 2' });
    expect(root.text).toBe('xy<z>');
    expect(root.children.map((c) => c.name)).toEqual(['b']);
  });
});
