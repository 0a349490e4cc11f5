/*
 * The requests a lab's supervisor answers, each with its fields and its answer's type, written
 * once: the client's calls, the supervisor's handlers and the check of what arrives on the socket
 * all follow from ControlOps.
 */
import type { ControlPlaneAction, ControlPlaneActionResult } from './control-plane-action.js';
import { parseControlPlaneAction } from './control-plane-action.js';
import type { RawDocument } from './documents.js';
import { LabError } from './errors.js';
import type { LabNetwork } from './ipam.js';
import type { NodePlan } from './kind-config.js';
import { isPodFault, POD_FAULTS, type PodFault } from './pod-fault.js';
import type { ExecTarget, LabStatus, PodStatus, Settlement } from './status.js';

type Labels = Record<string, string | null>;

export interface ControlOps {
  ping: { request: object; response: { pid: number } };
  up: {
    request: { cluster: NodePlan[]; network: LabNetwork; documents: RawDocument[]; namespace: string; peerRanges?: string[] };
    response: string[];
  };
  apply: { request: { documents: RawDocument[]; namespace: string }; response: string[] };
  delete: { request: { kind: string; name: string; namespace: string }; response: string[] };
  label: { request: { node: string; labels: Labels; overwrite: boolean }; response: string[] };
  wait: { request: { timeoutMs?: number }; response: Settlement };
  settlement: { request: object; response: Settlement };
  status: { request: object; response: LabStatus };
  pods: { request: { namespace?: string; selector?: string }; response: PodStatus[] };
  'exec-target': { request: { namespace: string; target: string; container?: string }; response: ExecTarget };
  'control-plane': { request: { action: ControlPlaneAction }; response: ControlPlaneActionResult };
  fault: { request: { namespace: string; target: string; fault: PodFault }; response: string[] };
}

export type ControlOp = keyof ControlOps;
export type RequestOf<O extends ControlOp> = { readonly op: O } & ControlOps[O]['request'];
export type ResponseOf<O extends ControlOp> = ControlOps[O]['response'];
export type ControlRequest = { [O in ControlOp]: RequestOf<O> }[ControlOp];
export type ControlHandlers = { readonly [O in ControlOp]: (request: RequestOf<O>) => Promise<ResponseOf<O>> | ResponseOf<O> };

/** Calls the handler of the request's op. */
export async function dispatchControl<O extends ControlOp>(handlers: ControlHandlers, request: RequestOf<O>): Promise<ResponseOf<O>> {
  const handler: (request: RequestOf<O>) => Promise<ResponseOf<O>> | ResponseOf<O> = handlers[request.op];
  return handler(request);
}

// ---- what arrives on the socket ---------------------------------------------------------

type Fields = Readonly<Record<string, unknown>>;

function missing(op: string, key: string): LabError {
  return new LabError('usage', `${op}: ${key} is required`);
}

function text(op: string, fields: Fields, key: string, fallback?: string): string {
  const value = fields[key];
  if (typeof value === 'string') return value;
  if (value === undefined && fallback !== undefined) return fallback;
  throw missing(op, key);
}

function optionalText(op: string, fields: Fields, key: string): string | undefined {
  return fields[key] === undefined ? undefined : text(op, fields, key);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list<T>(op: string, fields: Fields, key: string, isItem: (item: unknown) => item is T): T[] {
  const value = fields[key];
  if (!Array.isArray(value) || !value.every(isItem)) throw missing(op, key);
  return value;
}

const isNodePlan = (v: unknown): v is NodePlan =>
  isRecord(v) && typeof v['name'] === 'string' && (v['role'] === 'control-plane' || v['role'] === 'worker') && isRecord(v['labels']);
const isNetwork = (v: unknown): v is LabNetwork =>
  isRecord(v) && typeof v['podSubnet'] === 'string' && typeof v['serviceSubnet'] === 'string';
const isDocument = (v: unknown): v is RawDocument => isRecord(v) && typeof v['origin'] === 'string' && isRecord(v['object']);

function labelChanges(op: string, fields: Fields): Labels {
  const value = fields['labels'];
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string' || v === null)) throw missing(op, 'labels');
  return value as Labels;
}

function network(op: string, fields: Fields): LabNetwork {
  const value = fields['network'];
  if (!isNetwork(value)) throw missing(op, 'network');
  return { podSubnet: value.podSubnet, serviceSubnet: value.serviceSubnet };
}

function withOptional<T extends object, K extends string, V>(base: T, key: K, value: V | undefined): T & Partial<Record<K, V>> {
  return value === undefined ? base : { ...base, [key]: value };
}

/** The request a client sent, checked field by field; a 'usage' LabError says what is wrong. */
export function parseControlRequest(value: unknown): ControlRequest {
  if (!isRecord(value) || typeof value['op'] !== 'string') throw new LabError('usage', 'a request needs an op');
  const op = value['op'];
  switch (op) {
    case 'ping':
    case 'settlement':
    case 'status':
      return { op };
    case 'up':
      return {
        op,
        cluster: list(op, value, 'cluster', isNodePlan),
        network: network(op, value),
        documents: list(op, value, 'documents', isDocument),
        namespace: text(op, value, 'namespace', 'default'),
        ...(value['peerRanges'] === undefined
          ? {}
          : { peerRanges: list(op, value, 'peerRanges', (v): v is string => typeof v === 'string') }),
      };
    case 'apply':
      return { op, documents: list(op, value, 'documents', isDocument), namespace: text(op, value, 'namespace', '') };
    case 'delete':
      return { op, kind: text(op, value, 'kind'), name: text(op, value, 'name'), namespace: text(op, value, 'namespace', 'default') };
    case 'label':
      return { op, node: text(op, value, 'node'), labels: labelChanges(op, value), overwrite: value['overwrite'] === true };
    case 'wait':
      return withOptional({ op }, 'timeoutMs', typeof value['timeoutMs'] === 'number' ? value['timeoutMs'] : undefined);
    case 'pods':
      return withOptional(
        withOptional({ op }, 'namespace', optionalText(op, value, 'namespace')),
        'selector',
        optionalText(op, value, 'selector'),
      );
    case 'exec-target':
      return withOptional(
        { op, namespace: text(op, value, 'namespace', 'default'), target: text(op, value, 'target') },
        'container',
        optionalText(op, value, 'container'),
      );
    case 'control-plane':
      return { op, action: parseControlPlaneAction(value['action']) };
    case 'fault': {
      const fault = value['fault'];
      if (!isPodFault(fault)) throw new LabError('usage', `fault: expected one of ${POD_FAULTS.join(', ')}`);
      return { op, namespace: text(op, value, 'namespace', 'default'), target: text(op, value, 'target'), fault };
    }
    default:
      throw new LabError('usage', `unknown request ${JSON.stringify(op)}`);
  }
}
