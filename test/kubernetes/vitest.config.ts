import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared.ts';

// KubernetesBackend on a real cluster (CI: scripts/kubernetes-cluster.sh up, a single-node 1.20.2
// built on the machine). The root vitest.config.ts lists this project only when
// LAMBDA_TESTKIT_KUBECONFIG names a kubeconfig; then every test needs the cluster and fails loudly
// without it (the global setup hands the reason to each test; none is skipped).
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'kubernetes',
    include: ['**/*.test.ts'],
    exclude: ['fixtures/**', 'node_modules/**'],
    globalSetup: ['./global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Pods on a 2-core machine: files run one after the other.
    fileParallelism: false,
  },
});
