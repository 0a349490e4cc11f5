/* Text views of a lab for people: kubectl-like tables for `lab status` and `lab get pods`. */
import type { LabStatus, NodeStatus, PodStatus, ServiceStatus } from '../index.js';

export function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   ')).join('\n');
}

function age(createdAt: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(createdAt)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

export function podsTable(pods: readonly PodStatus[], wide: boolean, withNamespace: boolean): string {
  if (pods.length === 0) return 'No resources found.';
  const header = [...(withNamespace ? ['NAMESPACE'] : []), 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', ...(wide ? ['IP', 'NODE'] : [])];
  const rows = pods.map((p) => [
    ...(withNamespace ? [p.namespace] : []),
    p.name,
    `${p.ready ? p.containers.length : 0}/${p.containers.length}`,
    p.reason?.startsWith('Unschedulable') ? 'Pending' : p.reason?.startsWith('CrashLoopBackOff') ? 'CrashLoopBackOff' : p.phase,
    String(p.restarts),
    age(p.createdAt),
    ...(wide ? [p.ip ?? '<none>', p.node ?? '<none>'] : []),
  ]);
  return table([header, ...rows]);
}

const PORTS_SHOWN = 3;

/** A Service's ports for one table cell: a Service with 200 ports must not make every row 1,800 characters wide (--json has them all). */
export function portsCell(ports: readonly string[]): string {
  if (ports.length <= PORTS_SHOWN + 1) return ports.join(',');
  return `${ports.slice(0, PORTS_SHOWN).join(',')} +${ports.length - PORTS_SHOWN} more`;
}

/**
 * "ready" only when the agent is ready and every planned Service is programmed: an agent stays
 * ready while a full map refuses some (cmd/agent/readiness.ts), which the lab does not hide.
 */
function agentState(n: NodeStatus): string {
  if (!n.agent.ready) return `not ready (${n.agent.reason})`;
  const missing = n.notProgrammed;
  if (missing.length === 0) return 'ready';
  const shown = missing.length > 3 ? `${missing.slice(0, 3).join(', ')} and ${missing.length - 3} more` : missing.join(', ');
  return `NOT PROGRAMMED: ${missing.length} planned Service${missing.length === 1 ? '' : 's'} (${shown}); agent: ${n.agent.reason}`;
}

/**
 * The policy the planner used and where it came from, with any value it skipped: a Service
 * whose policy is its namespace's annotation, or whose annotation is misspelled, must not look
 * like one without (or with) a policy.
 */
export function policyCell(s: ServiceStatus): string {
  if (!s.policy) {
    const fields = [
      s.trafficDistribution ? `trafficDistribution=${s.trafficDistribution}` : '',
      s.internalTrafficPolicy ? `internalTrafficPolicy=${s.internalTrafficPolicy}` : '',
    ];
    return fields.filter(Boolean).join(' ') || '-';
  }
  const { mode, from, ignored } = s.policy;
  return `${mode} (${[from, ...ignored].join('; ')})`;
}

export function statusText(status: LabStatus): string {
  const nodes = table([
    ['NODE', 'ROLE', 'LOCALITY', 'POD CIDR', 'AGENT'],
    ...status.nodes.map((n) => [
      n.name,
      n.role,
      n.locality ?? '-',
      n.podCidr,
      agentState(n) + (n.agent.pid ? ` pid ${n.agent.pid}` : '') + (n.agent.restarts ? `, ${n.agent.restarts} restarts` : ''),
    ]),
  ]);
  const pods =
    status.pods.length === 0
      ? 'no pods'
      : table([
          ['POD', 'NODE', 'IP', 'READY', 'STATUS'],
          ...status.pods.map((p) => [
            `${p.namespace}/${p.name}`,
            p.node ?? '<none>',
            p.ip ?? '<none>',
            p.ready ? 'yes' : 'no',
            p.reason ?? p.phase,
          ]),
        ]);
  const services =
    status.services.length === 0
      ? 'no services'
      : table([
          ['SERVICE', 'CLUSTER-IP', 'PORTS', 'POLICY', 'ENDPOINTS'],
          ...status.services.map((s) => [
            `${s.namespace}/${s.name}`,
            s.clusterIP,
            portsCell(s.ports),
            policyCell(s),
            `${s.endpoints.ready}/${s.endpoints.total} ready`,
          ]),
        ]);
  return [
    `lab ${status.name}: supervisor pid ${status.supervisorPid}, state in ${status.stateDir}`,
    '',
    nodes,
    '',
    pods,
    '',
    services,
  ].join('\n');
}
