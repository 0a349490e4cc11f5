// The images `make images` builds without a registry (test/images/build.sh, issue 17) must carry
// the names the manifests ask for, or a real node would try to pull them: every image deploy/
// references, the Dockerfile's FROM lines and the agent's name and tag are among the pins of
// test/images/images.env.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { ROOT } from '../../fixtures/deploy-render.js';
import { dockerStages } from '../../fixtures/dockerfile.js';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** KEY=value lines, as the script's `source` reads them; anything else must be a comment. */
function readEnvFile(file: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of read(file).split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = /^([A-Z0-9_]+)=(\S+)$/.exec(line);
    if (!match) throw new Error(`${file}: not a KEY=value line: ${line}`);
    values.set(match[1]!, match[2]!);
  }
  return values;
}

/** The name containerd stores an image under: "curlimages/curl" -> "docker.io/curlimages/curl:latest". */
function fullName(image: string): string {
  let name = image;
  const firstSlash = name.indexOf('/');
  const first = firstSlash < 0 ? '' : name.slice(0, firstSlash);
  if (!/[.:]|^localhost$/.test(first)) name = `docker.io/${firstSlash < 0 ? 'library/' : ''}${name}`;
  const lastSlash = name.lastIndexOf('/');
  if (!name.includes('@') && name.lastIndexOf(':') < lastSlash) name += ':latest';
  return name;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** Every container image of a pod template (or pod) in a parsed manifest. */
function containerImages(doc: unknown): string[] {
  if (Array.isArray(doc)) return doc.flatMap(containerImages);
  if (doc === null || typeof doc !== 'object') return [];
  const record = doc as Record<string, unknown>;
  const own = ['containers', 'initContainers'].flatMap((key) => {
    const list = record[key];
    return Array.isArray(list) ? list.map((c) => (c as { image?: unknown }).image).filter((i): i is string => typeof i === 'string') : [];
  });
  return [...own, ...Object.values(record).flatMap(containerImages)];
}

const pins = readEnvFile('test/images/images.env');
const VERSION = (JSON.parse(read('package.json')) as { version: string }).version;
const AGENT = `ghcr.io/nearby-lb/nearby-agent:${VERSION}`;
const imagePins = [...pins].filter(([key]) => key.endsWith('_IMAGE') || key === 'PAUSE_ALIAS').map(([, value]) => value);

describe('images.env', () => {
  it('pins full names, as containerd stores them', () => {
    expect(imagePins.length).toBeGreaterThan(0);
    for (const image of imagePins) expect(image).toBe(fullName(image));
    expect(pins.get('DEBIAN_MIRROR')).toMatch(/^http:\/\/deb\.debian\.org\/debian$/);
  });

  it("names the Dockerfile's FROM lines as the Node bases", () => {
    const [build, runtime] = dockerStages(read('Dockerfile'));
    const from = (line: string | undefined) => fullName(/^FROM (\S+)/.exec(line ?? '')?.[1] ?? '');
    expect(from(build?.from)).toBe(pins.get('NODE_BUILD_BASE'));
    expect(from(runtime?.from)).toBe(pins.get('NODE_RUNTIME_BASE'));
  });

  it("makes every image deploy/'s manifests run, under the name they use", () => {
    const made = new Set([...imagePins, AGENT]);
    const kustomization = parse(read('deploy/kustomization.yaml')) as { images: Array<{ name: string; newName: string; newTag: string }> };
    const renamed = new Map(kustomization.images.map((i) => [i.name, `${i.newName}:${i.newTag}`]));
    const referenced = new Map<string, string>();
    for (const file of yamlFiles('deploy')) {
      if (file.includes('/helm/')) continue; // templates, not YAML; the values are checked below
      for (const doc of parseAllDocuments(read(file))) {
        const value = doc.toJS() as unknown;
        if ((value as { kind?: string } | null)?.kind === 'Cluster') continue; // kind's node images
        for (const image of containerImages(value)) referenced.set(fullName(renamed.get(image) ?? image), relative(ROOT, join(ROOT, file)));
      }
    }
    // The agent, pause, the helloworld sample and curl at least: a walk that found nothing would pass vacuously.
    expect(referenced.size).toBeGreaterThanOrEqual(4);
    for (const [image, file] of referenced) expect(made.has(image), `${image} (${file}) is not made by test/images/build.sh`).toBe(true);
  });

  it("names the agent as the Helm chart's default image", () => {
    const values = parse(read('deploy/helm/nearby/values.yaml')) as { image: { repository: string; tag: string } };
    const chart = parse(read('deploy/helm/nearby/Chart.yaml')) as { appVersion: string };
    expect(`${values.image.repository}:${values.image.tag || chart.appVersion}`).toBe(AGENT);
  });

  it('names the kubelet and containerd default pause image among the pins, and the e2e agnhost', () => {
    expect(pins.get('PAUSE_IMAGE')).toMatch(/^registry\.k8s\.io\/pause:\d+\.\d+(\.\d+)?$/);
    expect(pins.get('AGNHOST_IMAGE')).toMatch(/^registry\.k8s\.io\/e2e-test-images\/agnhost:\d+\.\d+(\.\d+)?$/);
  });
});

describe('make images', () => {
  const makefile = read('Makefile');

  it('runs test/images/build.sh with the agent named as deploy/ references it, outside make test', () => {
    expect(makefile).toMatch(/^images: .*\n(\t.*\n)*\t@NEARBY_AGENT_IMAGE=\$\(IMAGE\):\$\(VERSION\) bash test\/images\/build\.sh$/m);
    expect(/^IMAGE \?= (\S+)$/m.exec(makefile)?.[1]).toBe(AGENT.split(':')[0]);
    expect(/^test:(.*)$/m.exec(makefile)?.[1]?.split(/\s+/)).not.toContain('images');
  });

  it("installs mmdebstrap and buildah for this target only, not in the image's build stage", () => {
    const imagePkgs = /^IMAGE_APT_PKGS := (.*)$/m.exec(makefile)?.[1]?.split(' ');
    expect(imagePkgs).toEqual(expect.arrayContaining(['mmdebstrap', 'buildah']));
    expect(/^APT_PKGS := (.*)$/m.exec(makefile)?.[1]?.split(' ')).not.toContain('buildah');
    expect(makefile).toMatch(/^images:.*\n(\t.*\n)*\t.*apt-get install -y -qq \$\(IMAGE_APT_PKGS\)/m);
  });

  it('has a build script bash can parse', () => {
    expect(() => execFileSync('bash', ['-n', join(ROOT, 'test/images/build.sh')])).not.toThrow();
  });
});

describe('fullName', () => {
  it('adds what containerd adds to a short name', () => {
    expect(fullName('curlimages/curl')).toBe('docker.io/curlimages/curl:latest');
    expect(fullName('node:20-bookworm')).toBe('docker.io/library/node:20-bookworm');
    expect(fullName('registry.k8s.io/pause:3.10')).toBe('registry.k8s.io/pause:3.10');
    expect(fullName('localhost:5000/x')).toBe('localhost:5000/x:latest');
  });
});
