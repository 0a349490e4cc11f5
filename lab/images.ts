/*
 * Container images the lab can run, each mapped to a built-in program. Tags and digests do not
 * matter, and a registry prefix is optional, as with a pull from Docker Hub.
 */
import { LabError } from './errors.js';
import { PROGRAMS } from './programs.js';

export type ImageProgram =
  /** A Node program from dist/, run with the node binary that runs the lab. */
  | { readonly kind: 'node'; readonly script: string; readonly env: Readonly<Record<string, string>> }
  /** Does nothing until stopped: the pod is there to exec into. */
  | { readonly kind: 'idle' };

interface KnownImage {
  readonly repository: string;
  readonly program: ImageProgram;
  readonly description: string;
}

const KNOWN: readonly KnownImage[] = [
  {
    repository: 'istio/examples-helloworld-v1',
    // The image's Dockerfile sets SERVICE_VERSION to its version; a pod's env overrides it.
    program: { kind: 'node', script: PROGRAMS.helloworld, env: { SERVICE_VERSION: 'v1' } },
    description: 'HTTP on :5000, GET /hello',
  },
  {
    repository: 'istio/examples-helloworld-v2',
    program: { kind: 'node', script: PROGRAMS.helloworld, env: { SERVICE_VERSION: 'v2' } },
    description: 'HTTP on :5000, GET /hello',
  },
  { repository: 'curlimages/curl', program: { kind: 'idle' }, description: 'an idle client to exec curl in' },
];

/** "docker.io/istio/examples-helloworld-v1:1.0@sha256:..." -> "istio/examples-helloworld-v1". */
export function repositoryOf(image: string): string {
  let rest = image.split('@', 1)[0] ?? '';
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) rest = rest.slice(0, colon);
  const parts = rest.split('/');
  // A first part with a dot or a port is a registry host.
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? '')) parts.shift();
  if (parts.length === 1) parts.unshift('library');
  return parts.join('/');
}

export function knownImages(): string[] {
  return KNOWN.map((k) => `${k.repository} (${k.description})`);
}

/** The program for an image, or a LabError naming the image and what the lab can run. */
export function imageProgram(image: string, where: string): ImageProgram {
  const repository = repositoryOf(image);
  const known = KNOWN.find((k) => k.repository === repository);
  if (!known) {
    throw new LabError(
      'invalid',
      `${where}: image ${JSON.stringify(image)} is not one the lab can run; it runs: ${knownImages().join('; ')}`,
    );
  }
  return known.program;
}
