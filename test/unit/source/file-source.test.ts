import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSource } from '../../../pkg/source/index.js';
import { sleep, waitFor } from './wait-for.js';
import { ifSetUp } from '../../fixtures/if-set-up.js';

interface Raw {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

function names(source: FileSource): string[] {
  return (source.objects() as Raw[]).map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
}

const NODES = `
apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: {topology.kubernetes.io/zone: z1}
---
# a comment-only document is skipped
---
apiVersion: v1
kind: Node
metadata:
  name: node-b
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ignored
  namespace: default
`;

const SERVICE = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80, protocol: TCP}]}
`;

describe('FileSource', () => {
  let dir: string;
  let source: FileSource;
  let changes: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nearby-file-source-'));
    changes = 0;
  });

  afterEach(async () => {
    await ifSetUp(source)?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function startSource(rescanIntervalMs = 2_000, useFsWatch = true): Promise<FileSource> {
    source = new FileSource(dir, { debounceMs: 20, rescanIntervalMs, useFsWatch });
    source.onChange(() => (changes += 1));
    await source.start();
    return source;
  }

  it('reads multi-document YAML and JSON, keeps only the watched kinds, and is synced', async () => {
    await writeFile(join(dir, 'nodes.yaml'), NODES);
    await writeFile(join(dir, 'ns.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }));
    await writeFile(join(dir, 'notes.txt'), 'kind: Node\nmetadata: {name: not-a-manifest}\n');
    await startSource();

    expect(names(source)).toEqual(['Namespace//shop', 'Node//node-a', 'Node//node-b']);
    const nodeA = (source.objects() as Raw[]).find((o) => o.metadata.name === 'node-a');
    expect(nodeA?.metadata.labels).toEqual({ 'topology.kubernetes.io/zone': 'z1' });
    expect(source.status()).toMatchObject({ synced: true });
    expect(source.status().message).toBeUndefined();
    expect(source.status().lastSyncMs).toBeGreaterThan(0);
    expect(source.errors()).toEqual([]);
  });

  it('expands List and NodeList objects, filling in the kind the API server leaves out of items', async () => {
    await writeFile(
      join(dir, 'list.yaml'),
      `
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: a, namespace: x}}
- {apiVersion: v1, kind: Secret, metadata: {name: skipped, namespace: x}}
- {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: a-1, namespace: x}, addressType: IPv4, endpoints: []}
---
apiVersion: v1
kind: NodeList
items:
- {metadata: {name: n1}}
`,
    );
    await startSource();
    expect(names(source)).toEqual(['EndpointSlice/x/a-1', 'Node//n1', 'Service/x/a']);
    const node = (source.objects() as Raw[]).find((o) => o.kind === 'Node');
    expect(node).toMatchObject({ apiVersion: 'v1', kind: 'Node' });
  });

  it('sees files added, modified and deleted through fs.watch, and tells listeners', async () => {
    await writeFile(join(dir, 'nodes.yaml'), NODES);
    // A rescan period far beyond the waits below: only fs.watch can deliver these changes.
    await startSource(60_000);
    expect(names(source)).toEqual(['Node//node-a', 'Node//node-b']);

    const before = changes;
    await writeFile(join(dir, 'svc.yml'), SERVICE);
    await waitFor(() => expect(names(source)).toContain('Service/shop/web'), 3_000, 'added file');
    await waitFor(() => changes > before, 1_000, 'listener after add');

    const afterAdd = changes;
    await writeFile(join(dir, 'svc.yml'), SERVICE.replace('name: web', 'name: shop-web'));
    await waitFor(() => expect(names(source)).toContain('Service/shop/shop-web'), 3_000, 'modified file');
    expect(names(source)).not.toContain('Service/shop/web');
    await waitFor(() => changes > afterAdd, 1_000, 'listener after modify');

    const afterModify = changes;
    await unlink(join(dir, 'nodes.yaml'));
    await waitFor(() => expect(names(source)).toEqual(['Service/shop/shop-web']), 3_000, 'deleted file');
    await waitFor(() => changes > afterModify, 1_000, 'listener after delete');
  });

  it('keeps the last good objects of a file that breaks, reports it, and recovers when fixed', async () => {
    await writeFile(join(dir, 'nodes.yaml'), NODES);
    await writeFile(join(dir, 'svc.yaml'), SERVICE);
    await startSource();
    expect(names(source)).toEqual(['Node//node-a', 'Node//node-b', 'Service/shop/web']);

    // Broken: an unterminated flow sequence; the other file changes at the same time.
    await writeFile(join(dir, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: [oops\n');
    await writeFile(join(dir, 'nodes.yaml'), NODES.replace('node-b', 'node-c'));
    await waitFor(() => expect(names(source)).toContain('Node//node-c'), 3_000, 'good file update');
    await waitFor(() => expect(source.errors()).toHaveLength(1), 3_000, 'error reported');

    expect(names(source)).toEqual(['Node//node-a', 'Node//node-c', 'Service/shop/web']);
    expect(source.errors()[0]).toMatchObject({ file: 'svc.yaml' });
    expect(source.errors()[0]?.message).toMatch(/svc\.yaml: invalid YAML/);
    expect(source.status().synced).toBe(true);
    expect(source.status().message).toMatch(/1 manifest file\(s\) failed.*svc\.yaml/);

    await writeFile(join(dir, 'svc.yaml'), SERVICE.replace('10.96.0.10', '10.96.0.11'));
    await waitFor(() => expect(source.errors()).toEqual([]), 3_000, 'error cleared');
    const svc = (source.objects() as Array<Raw & { spec: { clusterIP: string } }>).find((o) => o.kind === 'Service');
    expect(svc?.spec.clusterIP).toBe('10.96.0.11');
    expect(source.status().message).toBeUndefined();
  });

  it('reports a file that is broken from the start and still serves the others', async () => {
    await writeFile(join(dir, 'nodes.yaml'), NODES);
    await writeFile(join(dir, 'bad.json'), '{"kind": "Node",');
    await writeFile(join(dir, 'scalar.yaml'), 'just a string\n');
    await startSource();
    expect(names(source)).toEqual(['Node//node-a', 'Node//node-b']);
    expect(
      source
        .errors()
        .map((e) => e.file)
        .sort(),
    ).toEqual(['bad.json', 'scalar.yaml']);
    expect(source.errors().find((e) => e.file === 'bad.json')?.message).toMatch(/invalid JSON/);
    expect(source.errors().find((e) => e.file === 'scalar.yaml')?.message).toMatch(/document 1 is not an object/);
  });

  it('catches changes through the periodic rescan alone when fs.watch is off', async () => {
    await startSource(100, false);
    await writeFile(join(dir, 'svc.yaml'), SERVICE);
    await waitFor(() => expect(names(source)).toEqual(['Service/shop/web']), 3_000, 'rescan');
  });

  it('does not fire listeners when a rescan finds nothing new', async () => {
    await writeFile(join(dir, 'nodes.yaml'), NODES);
    await startSource(50);
    await sleep(20);
    const settled = changes;
    await sleep(300);
    expect(changes).toBe(settled);
  });

  it('reports a missing directory and picks it up once it exists', async () => {
    const missing = join(dir, 'later');
    source = new FileSource(missing, { debounceMs: 20, rescanIntervalMs: 50 });
    await source.start();
    expect(source.status().synced).toBe(false);
    expect(source.status().message).toMatch(/cannot read directory/);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(missing);
    await writeFile(join(missing, 'svc.yaml'), SERVICE);
    await waitFor(() => expect(names(source)).toEqual(['Service/shop/web']), 3_000, 'late directory');
    expect(source.status().synced).toBe(true);
  });
});
