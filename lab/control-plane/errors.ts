/*
 * The control plane's error: a LabError that also names the component it is about and that
 * component's log file, because "kube-apiserver did not become ready" is only actionable next to
 * what the apiserver itself wrote.
 */
import { LabError, type LabErrorCode } from '../errors.js';

export type ControlPlaneComponent = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

export class ControlPlaneError extends LabError {
  constructor(
    code: LabErrorCode,
    readonly component: ControlPlaneComponent | 'pki' | 'kubectl' | 'agent-identity',
    message: string,
    readonly logFile?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ControlPlaneError';
  }
}
