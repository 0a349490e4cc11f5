/*
 * `nearbyctl lab ...`: a thin CLI over the lab package. Exit codes: 0 ok, 1 failed or not found,
 * 2 usage or a missing prerequisite; `lab exec` exits with the command's own code.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isLabError, LabClient, labDown, labSetOf, labUp, type ManifestInput, POD_FAULTS } from '../index.js';
import type { CliIo } from './io.js';
import { jsonpath } from './lab-jsonpath.js';
import { podsTable, statusText } from './lab-print.js';

export const LAB_USAGE = `usage: nearbyctl lab COMMAND [--name LAB]   (LAB defaults to the only lab, else "nearby")
  up FILE|DIR... [-n NS] [--timeout 60s] [--prefer-close subzone|zone] [--control-plane [--prometheus] [--real-nodes [--agents daemonset]]]
                          kind Cluster config + manifests (-n NS is created); waits for
                          agents, pods and every node's datapath. --control-plane runs a
                          real kube-apiserver etc. (make control-plane) and prints its
                          KUBECONFIG; then kubectl works against the lab. --prometheus
                          also runs Prometheus (make prometheus) discovering the agents
                          through the API server, and prints its URL.
                          --real-nodes: each node runs a real kubelet and containerd
                          (make node-components, make images; docs/real-nodes.md).
                          --agents daemonset: no lab agents; install nearby's chart
                          or deploy/ yourself (docs/real-nodes.md, step 5).
                          Several kind configs (each with its name) with --control-plane:
                          a cluster each on one flat network, and a KUBECONFIG with a
                          kind-NAME context per cluster; status and down cover them all
  apply -f FILE|DIR|- [-n NS] [--no-wait]      kubectl apply -f
  create namespace NAME
  delete KIND NAME [-n NS] [--no-wait]        deployment, pod, service or namespace
  label node NAME key=value|key-... [--overwrite] [--no-wait]
  exec POD|deployment/NAME [-n NS] [-c C] -- CMD...
  fault POD|deployment/NAME --refuse|--drop|--clear [-n NS]
                          new connections to the pod refused (RST) or their SYNs
                          dropped, or taken again; the pod stays Ready
  get pods [-n NS | -A] [-l SELECTOR] [-o wide|name|json|jsonpath=TEMPLATE]
  status [--json]         nodes, agents, pods, services
  wait [--timeout 30s]    until pods are ready and every datapath is as planned
  down                    remove the lab and check that nothing is left`;

const OPTIONS = {
  name: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  filename: { type: 'string', short: 'f', multiple: true },
  selector: { type: 'string', short: 'l' },
  output: { type: 'string', short: 'o' },
  container: { type: 'string', short: 'c' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  overwrite: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
  'prefer-close': { type: 'string' },
  'control-plane': { type: 'boolean' },
  prometheus: { type: 'boolean' },
  'real-nodes': { type: 'boolean' },
  agents: { type: 'string' },
  json: { type: 'boolean' },
  // lab fault: one flag per POD_FAULTS entry
  refuse: { type: 'boolean' },
  drop: { type: 'boolean' },
  clear: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

/** "60s", "2m", "1500ms" or plain seconds. */
function duration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new UsageError(`--timeout: expected a duration like 30s, got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

function manifestInput(files: readonly string[]): ManifestInput {
  if (files.length === 0) throw new UsageError('no manifests: give -f FILE|DIR|-');
  const paths = files.filter((f) => f !== '-');
  return { files: paths, ...(files.includes('-') ? { text: readStdin() } : {}) };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The change is printed first; then, unless --no-wait, the wait for it to take effect. */
async function settle(lab: LabClient, options: { wait: boolean; timeoutMs?: number }): Promise<number> {
  if (options.wait) await lab.wait(options.timeoutMs);
  return 0;
}

export async function runLab(argv: readonly string[], io: CliIo): Promise<number> {
  const dash = argv.indexOf('--');
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  try {
    const { values, positionals } = parseArgs({
      args: [...(dash >= 0 ? argv.slice(0, dash) : argv)],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    const [verb, ...rest] = positionals;
    if (values.help || !verb) {
      io.out(LAB_USAGE);
      return verb || values.help ? 0 : 2;
    }
    const wait = { wait: !values['no-wait'], ...(values.timeout ? { timeoutMs: duration(values.timeout) } : {}) };
    const namespace = values.namespace;
    switch (verb) {
      case 'up': {
        const files = [...rest, ...(values.filename ?? [])];
        const preferClose = values['prefer-close'];
        if (preferClose !== undefined && preferClose !== 'subzone' && preferClose !== 'zone')
          throw new UsageError('--prefer-close: expected subzone or zone');
        const agents = values.agents;
        if (agents !== undefined && agents !== 'process' && agents !== 'daemonset')
          throw new UsageError('--agents: expected process or daemonset');
        const result = await labUp({
          ...manifestInput(files),
          ...(values.name ? { name: values.name } : {}),
          ...(namespace ? { namespace } : {}),
          ...(wait.timeoutMs ? { timeoutMs: wait.timeoutMs } : { timeoutMs: 60_000 }),
          ...(preferClose ? { preferClose } : {}),
          ...(values['control-plane'] ? { controlPlane: true } : {}),
          ...(values.prometheus ? { prometheus: true } : {}),
          ...(values['real-nodes'] ? { realNodes: true } : {}),
          ...(agents ? { agents } : {}),
          log: (line) => io.out(line),
        });
        for (const lab of result.labs) {
          const status = await lab.status();
          const pods = status.pods.length;
          io.out(
            `lab ${lab.name} is up in ${seconds(result.elapsedMs)}: ${status.nodes.length} nodes with ready agents, ` +
              `${pods} pod${pods === 1 ? '' : 's'} ready (state in ${status.stateDir})`,
          );
          if (status.kubeconfig && !result.kubeconfig) io.out(`export KUBECONFIG=${status.kubeconfig}`);
        }
        if (result.kubeconfig) io.out(`export KUBECONFIG=${result.kubeconfig}`);
        return 0;
      }
      case 'apply': {
        const lab = LabClient.attach(values.name);
        for (const line of await lab.apply(manifestInput([...(values.filename ?? []), ...rest]), {
          wait: false,
          ...(namespace ? { namespace } : {}),
        }))
          io.out(line);
        return await settle(lab, wait);
      }
      case 'create': {
        const [kind, nsName] = rest;
        if ((kind !== 'namespace' && kind !== 'ns') || !nsName)
          throw new UsageError('the lab can create namespaces: nearbyctl lab create namespace NAME');
        const text = JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsName } });
        const lab = LabClient.attach(values.name);
        for (const line of await lab.apply({ text }, { wait: false })) io.out(line.replace(/ (unchanged|configured)$/, ' unchanged'));
        return await settle(lab, wait);
      }
      case 'delete': {
        const [kindText, nameText] = rest[0]?.includes('/') ? (rest[0].split('/', 2) as [string, string]) : [rest[0], rest[1]];
        if (!kindText || !nameText) throw new UsageError('delete needs KIND NAME (or KIND/NAME)');
        const lab = LabClient.attach(values.name);
        for (const line of await lab.delete(kindText, nameText, { wait: false, ...(namespace ? { namespace } : {}) })) io.out(line);
        return await settle(lab, wait);
      }
      case 'label': {
        const [kind, node, ...pairs] = rest;
        if ((kind !== 'node' && kind !== 'nodes' && kind !== 'no') || !node || pairs.length === 0)
          throw new UsageError('label needs: node NAME key=value... (key- removes a label)');
        const labels: Record<string, string | null> = {};
        for (const pair of pairs) {
          if (pair.endsWith('-') && !pair.includes('=')) labels[pair.slice(0, -1)] = null;
          else if (/^[^=]+=[^=]*$/.test(pair)) labels[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
          else throw new UsageError(`label: cannot read ${JSON.stringify(pair)}; expected key=value or key-`);
        }
        const lab = LabClient.attach(values.name);
        for (const line of await lab.label(node, labels, { wait: false, overwrite: values.overwrite === true })) io.out(line);
        return await settle(lab, wait);
      }
      case 'exec': {
        const [target] = rest;
        if (!target || command.length === 0) throw new UsageError('exec needs POD -- CMD...');
        const result = await LabClient.attach(values.name).exec(target, command, {
          namespace: namespace ?? 'default',
          stdio: 'inherit',
          ...(values.container ? { container: values.container } : {}),
        });
        return result.code;
      }
      case 'fault': {
        const [target] = rest;
        const faults = POD_FAULTS.filter((f) => values[f] === true);
        if (!target || faults.length !== 1) throw new UsageError('fault needs POD and one of --refuse, --drop, --clear');
        for (const line of await LabClient.attach(values.name).fault(target, faults[0]!, namespace ? { namespace } : {})) io.out(line);
        return 0;
      }
      case 'get': {
        const [what] = rest;
        if (what !== 'pods' && what !== 'pod' && what !== 'po') throw new UsageError('the lab can get pods: nearbyctl lab get pods');
        const all = values['all-namespaces'] === true;
        const pods = await LabClient.attach(values.name).pods({
          ...(all ? {} : { namespace: namespace ?? 'default' }),
          ...(values.selector ? { selector: values.selector } : {}),
        });
        const output = values.output ?? '';
        const list = {
          apiVersion: 'v1',
          kind: 'List',
          items: pods.map((p) => ({
            metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
            spec: { nodeName: p.node },
            status: { phase: p.phase, podIP: p.ip, ready: p.ready },
          })),
        };
        if (output === 'name') io.out(pods.map((p) => `pod/${p.name}`).join('\n'));
        else if (output === 'json') io.out(JSON.stringify(list, null, 2));
        else if (output.startsWith('jsonpath=')) io.out(jsonpath(output.slice('jsonpath='.length), list));
        else if (output === '' || output === 'wide') io.out(podsTable(pods, output === 'wide', all));
        else throw new UsageError(`-o ${output}: expected wide, name, json or jsonpath=TEMPLATE`);
        return 0;
      }
      case 'status': {
        const first = LabClient.attach(values.name);
        const members = labSetOf(first.name)?.clusters ?? [first.name];
        const statuses = await Promise.all(members.map((m) => (m === first.name ? first : LabClient.attach(m)).status()));
        if (values.json) io.out(JSON.stringify(members.length > 1 ? statuses : statuses[0], null, 2));
        else io.out(statuses.map((s) => (members.length > 1 ? `cluster ${s.name}\n${statusText(s)}` : statusText(s))).join('\n\n'));
        return 0;
      }
      case 'wait': {
        const started = Date.now();
        await LabClient.attach(values.name).wait(wait.timeoutMs);
        io.out(`settled in ${seconds(Date.now() - started)}`);
        return 0;
      }
      case 'down': {
        const result = await labDown(values.name ? { name: values.name } : {});
        io.out(
          result.existed
            ? `lab ${result.names.join(', ')} removed in ${seconds(result.elapsedMs)}; nothing left behind`
            : `lab ${result.name}: nothing to remove`,
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown lab command ${JSON.stringify(verb)}`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof Error && /^(Unknown option|Option '|Unexpected argument)/.test(error.message))) {
      io.err(`nearbyctl lab: ${error.message}\n${LAB_USAGE}`);
      return 2;
    }
    if (isLabError(error)) {
      io.err(`nearbyctl lab: ${error.message}`);
      return error.code === 'usage' || error.code === 'prereq' ? 2 : 1;
    }
    throw error;
  }
}
