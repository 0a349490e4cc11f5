import { configDefaults, defineConfig } from 'vitest/config';

// The real-node lab's tests need `make node-components` and `make images` (real kubelets,
// containerd and the images they run: tens of minutes of Go builds and Debian bootstraps from a
// cold cache), so `make test-real-nodes` runs them with NEARBY_REAL_NODES=1 and `make test` does not.
const REAL_NODE_TESTS = [
  'test/e2e/lab-real-nodes.test.ts',
  'test/e2e/lab-real-nodes-daemonset.test.ts',
  'test/e2e/lab-real-nodes-dns.test.ts',
  'test/e2e/lab-real-nodes-rollout.test.ts',
  'test/e2e/lab-real-nodes-kustomize.test.ts',
  'test/e2e/lab-real-nodes-demo.test.ts',
];
const realNodesOnly = process.env['NEARBY_REAL_NODES'] === '1';

export default defineConfig({
  test: {
    include: realNodesOnly ? REAL_NODE_TESTS : ['test/**/*.test.ts'],
    exclude: realNodesOnly ? configDefaults.exclude : [...configDefaults.exclude, ...REAL_NODE_TESTS],
    setupFiles: ['test/setup.ts'],
    // Removes the kernel lab's shared parent directories, when empty, once the run ends.
    globalSetup: ['test/global-teardown.ts'],
    // Kernel suites share one kernel, bpffs and cgroup tree; running their files in parallel
    // would only contend for two cores and make timings noisy.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
