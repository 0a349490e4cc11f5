/*
 * The control plane's certificates and keys, made with the openssl CLI: one CA, the serving
 * certificates of the three HTTPS components, a client certificate per identity, and the
 * service-account signing key. EC P-256 keys and one `openssl req -x509 -CA` call per certificate,
 * run in parallel after the CA, keep this well under a second; RSA and separate key/CSR/sign
 * steps took 1.3-1.8 s.
 */
import { generateKeyPairSync } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlaneError } from './errors.js';

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface Pki {
  readonly ca: KeyPair;
  readonly apiserver: KeyPair;
  readonly controllerManagerServing: KeyPair;
  readonly schedulerServing: KeyPair;
  /** O=system:masters: the lab's and the tests' all-powerful identity, never the agent's. */
  readonly admin: KeyPair;
  readonly controllerManagerClient: KeyPair;
  readonly schedulerClient: KeyPair;
  /**
   * The API server's identity towards kubelets (exec, logs, port-forward), accepted by each
   * kubelet's x509 clientCAFile. O=system:masters as kubeadm long issued it: the kubelets'
   * Webhook authorization asks the API server, which allows that group everything.
   */
  readonly kubeletClient: KeyPair;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

/** Extension profiles only; subjects and SANs come on each command line. */
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
`;

/** The lab lives for hours at most; a year keeps a long-lived lab clear of expiry without a clock check. */
const VALID_DAYS = '365';

/**
 * The names the apiserver is reached by: from the host, as the `kubernetes` Service from pods,
 * and at its published address (a lab's, which clients on the host and agents outside nearby's
 * reach it by).
 */
export function apiserverSans(serviceIp: string, address?: string): string {
  const dns = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  const ips = ['127.0.0.1', serviceIp, ...(address ? [address] : [])];
  return [...ips.map((ip) => `IP:${ip}`), ...dns.map((name) => `DNS:${name}`)].join(',');
}

function openssl(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', [...args], { timeout: 30_000, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (!error) {
        resolve();
        return;
      }
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new ControlPlaneError(
          missing ? 'prereq' : 'system',
          'pki',
          missing
            ? 'openssl is not installed (make deps installs it)'
            : `openssl ${args.join(' ')} failed: ${stderr.trim() || error.message}`,
          undefined,
          { cause: error },
        ),
      );
    });
  });
}

interface CertSpec {
  readonly name: string;
  readonly subject: string;
  readonly profile: 'ca' | 'server' | 'client';
  readonly sans?: string;
}

async function issue(dir: string, config: string, spec: CertSpec, ca?: KeyPair): Promise<KeyPair> {
  const pair = { cert: join(dir, `${spec.name}.crt`), key: join(dir, `${spec.name}.key`) };
  await openssl([
    'req',
    '-x509',
    '-config',
    config,
    '-extensions',
    spec.profile,
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-subj',
    spec.subject,
    '-days',
    VALID_DAYS,
    ...(spec.sans ? ['-addext', `subjectAltName=${spec.sans}`] : []),
    ...(ca ? ['-CA', ca.cert, '-CAkey', ca.key] : []),
  ]);
  return pair;
}

/** The service-account key needs no certificate, so Node makes it without a process. */
function writeServiceAccountKeys(dir: string): { serviceAccountKey: string; serviceAccountPub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const serviceAccountKey = join(dir, 'sa.key');
  const serviceAccountPub = join(dir, 'sa.pub');
  writeFileSync(serviceAccountKey, privateKey, { mode: 0o600 });
  writeFileSync(serviceAccountPub, publicKey);
  return { serviceAccountKey, serviceAccountPub };
}

export async function createPki(dir: string, serviceIp: string, address?: string): Promise<Pki> {
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, OPENSSL_CONFIG);
  const ca = await issue(dir, config, { name: 'ca', subject: '/CN=nearby-lab-ca', profile: 'ca' });
  const loopback = 'IP:127.0.0.1,DNS:localhost';
  const [apiserver, controllerManagerServing, schedulerServing, admin, controllerManagerClient, schedulerClient, kubeletClient] =
    await Promise.all([
      issue(
        dir,
        config,
        { name: 'apiserver', subject: '/CN=kube-apiserver', profile: 'server', sans: apiserverSans(serviceIp, address) },
        ca,
      ),
      issue(
        dir,
        config,
        { name: 'kube-controller-manager-serving', subject: '/CN=kube-controller-manager', profile: 'server', sans: loopback },
        ca,
      ),
      issue(dir, config, { name: 'kube-scheduler-serving', subject: '/CN=kube-scheduler', profile: 'server', sans: loopback }, ca),
      issue(dir, config, { name: 'admin', subject: '/O=system:masters/CN=nearby-lab-admin', profile: 'client' }, ca),
      issue(dir, config, { name: 'kube-controller-manager-client', subject: '/CN=system:kube-controller-manager', profile: 'client' }, ca),
      issue(dir, config, { name: 'kube-scheduler-client', subject: '/CN=system:kube-scheduler', profile: 'client' }, ca),
      issue(
        dir,
        config,
        { name: 'apiserver-kubelet-client', subject: '/O=system:masters/CN=kube-apiserver-kubelet-client', profile: 'client' },
        ca,
      ),
    ]);
  return {
    ca,
    apiserver,
    controllerManagerServing,
    schedulerServing,
    admin,
    controllerManagerClient,
    schedulerClient,
    kubeletClient,
    ...writeServiceAccountKeys(dir),
  };
}

/** A client certificate signed by the CA createPki made in `dir` (a real node's kubelet: /O=system:nodes/CN=system:node:NAME). */
export function issueClientCertificate(dir: string, name: string, subject: string): Promise<KeyPair> {
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  return issue(dir, join(dir, 'openssl.cnf'), { name, subject, profile: 'client' }, ca);
}

/**
 * A serving certificate signed by the CA createPki made in `dir`: a real node's kubelet, for its
 * node IP and name, so the API server can verify it (--kubelet-certificate-authority).
 */
export function issueServingCertificate(dir: string, name: string, subject: string, sans: string): Promise<KeyPair> {
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  return issue(dir, join(dir, 'openssl.cnf'), { name, subject, profile: 'server', sans }, ca);
}
