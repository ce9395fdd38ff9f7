import { defineConfig } from 'vitest/config';

// Each suite owns its vitest.config.ts (a "project"); this file only lists where they are.
// `pnpm test` runs them all; `vitest run --project <name>` runs one.
// The Kubernetes suite needs a cluster: it is a project only when LAMBDA_TESTKIT_KUBECONFIG names a
// kubeconfig (CI sets it after scripts/kubernetes-cluster.sh up), and then it must pass.
const kubernetes = process.env.LAMBDA_TESTKIT_KUBECONFIG ? [] : ['!test/kubernetes/vitest.config.ts'];

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'test/*/vitest.config.ts', ...kubernetes],
  },
});
