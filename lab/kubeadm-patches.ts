/*
 * The one thing the lab reads from a kind config's kubeadmConfigPatches: the kubelet's
 * --node-labels, as kubeadm passes them from nodeRegistration.kubeletExtraArgs of an
 * InitConfiguration (the first control-plane node) or a JoinConfiguration (every other node).
 * kubeadm v1beta3 writes kubeletExtraArgs as a map, v1beta4 as a list of {name, value}. The lab
 * runs no kubeadm and no kubelet flags, so anything else in a patch is refused by name rather
 * than silently dropped.
 */
import { parseDocument } from 'yaml';
import { labelValueProblem, qualifiedNameProblem } from './api-rules.js';
import { LabError } from './errors.js';
import { yamlProblem } from './yaml-problem.js';

export type KubeadmConfigKind = 'InitConfiguration' | 'JoinConfiguration';

const KUBEADM_KINDS: readonly KubeadmConfigKind[] = ['InitConfiguration', 'JoinConfiguration'];
const KUBEADM_API_VERSIONS = ['kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4'];
const NODE_LABELS_FLAG = 'node-labels';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyFields(object: Record<string, unknown>, allowed: readonly string[], where: string, why: string): void {
  for (const field of Object.keys(object)) {
    if (!allowed.includes(field)) throw new LabError('invalid', `${where}.${field}: not supported by the lab (${why})`);
  }
}

/** The kubelet's --node-labels value, "k=v,k2=v2", as labels. */
export function parseNodeLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair.trim() : pair.slice(0, eq).trim();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (eq < 0 || qualifiedNameProblem(key) !== undefined)
      throw new LabError('invalid', `${where}: ${JSON.stringify(pair)} is not a key=value label`);
    if (labelValueProblem(value) !== undefined)
      throw new LabError('invalid', `${where}: label ${key} has an invalid value ${JSON.stringify(value)}`);
    labels[key] = value;
  }
  return labels;
}

/** kubeletExtraArgs in either form, as name -> value. */
function extraArgs(value: unknown, where: string): Map<string, string> {
  if (isRecord(value)) return new Map(Object.entries(value).map(([k, v]) => [k, String(v)]));
  if (!Array.isArray(value))
    throw new LabError('invalid', `${where}: expected a map (kubeadm v1beta3) or a list of {name, value} (v1beta4)`);
  return new Map(
    value.map((arg: unknown, i: number) => {
      const value = isRecord(arg) ? arg['value'] : undefined;
      if (!isRecord(arg) || typeof arg['name'] !== 'string' || !['string', 'number', 'boolean'].includes(typeof value))
        throw new LabError('invalid', `${where}[${i}]: expected {name, value} with a string value`);
      onlyFields(arg, ['name', 'value'], `${where}[${i}]`, 'an argument is a name and a value');
      return [arg['name'], String(value)];
    }),
  );
}

export interface NodeLabelsPatch {
  readonly kind: KubeadmConfigKind;
  readonly labels: Readonly<Record<string, string>>;
}

/** One patch of kubeadmConfigPatches (a YAML string), read for the node labels it sets. */
export function readKubeadmPatch(patch: unknown, where: string): NodeLabelsPatch {
  if (typeof patch !== 'string') throw new LabError('invalid', `${where}: expected a YAML string (a "|" block)`);
  const document = parseDocument(patch);
  const [error] = document.errors;
  if (error) throw new LabError('invalid', `${where}: ${yamlProblem(error, patch)}`);
  const object: unknown = document.toJS();
  if (!isRecord(object)) throw new LabError('invalid', `${where}: expected a kubeadm configuration object`);
  const kind = object['kind'];
  if (!KUBEADM_KINDS.includes(kind as KubeadmConfigKind)) {
    throw new LabError(
      'invalid',
      `${where}.kind ${JSON.stringify(kind)}: the lab reads only ${KUBEADM_KINDS.join(' and ')} (for nodeRegistration.kubeletExtraArgs.${NODE_LABELS_FLAG})`,
    );
  }
  const why = `the lab reads only nodeRegistration.kubeletExtraArgs.${NODE_LABELS_FLAG}`;
  onlyFields(object, ['kind', 'apiVersion', 'nodeRegistration'], where, why);
  if (object['apiVersion'] !== undefined && !KUBEADM_API_VERSIONS.includes(object['apiVersion'] as string)) {
    throw new LabError(
      'invalid',
      `${where}.apiVersion ${JSON.stringify(object['apiVersion'])}: expected ${KUBEADM_API_VERSIONS.join(' or ')}`,
    );
  }
  const registration = object['nodeRegistration'] ?? {};
  if (!isRecord(registration)) throw new LabError('invalid', `${where}.nodeRegistration: expected a map`);
  onlyFields(registration, ['kubeletExtraArgs'], `${where}.nodeRegistration`, why);
  const argsWhere = `${where}.nodeRegistration.kubeletExtraArgs`;
  const args = extraArgs(registration['kubeletExtraArgs'] ?? {}, argsWhere);
  for (const name of args.keys()) {
    if (name !== NODE_LABELS_FLAG) throw new LabError('invalid', `${argsWhere}: ${name}: not supported by the lab (${why})`);
  }
  const text = args.get(NODE_LABELS_FLAG);
  return { kind: kind as KubeadmConfigKind, labels: text === undefined ? {} : parseNodeLabels(text, `${argsWhere}.${NODE_LABELS_FLAG}`) };
}
