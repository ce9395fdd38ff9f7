// examples/vitest-basic on the Kubernetes backend (LAMBDA_TESTKIT_BACKEND=kubernetes, the cluster of
// the suite through KUBECONFIG), with the locally built image the global setup loaded into the cluster.
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, repoRoot, runVitest, type VitestRun } from '../vitest-adapter/run-vitest.ts';
import { clusterMissing, kubeconfig, localImage, namespace, objectsWith, requireCluster } from './helpers.ts';

beforeEach(() => requireCluster());

describe('examples/vitest-basic on the Kubernetes backend', () => {
  let run: VitestRun;

  beforeAll(async () => {
    if (clusterMissing()) return;
    assertBuilt();
    run = await runVitest(join(repoRoot, 'examples/vitest-basic'), {
      env: {
        LAMBDA_TESTKIT_BACKEND: 'kubernetes',
        LAMBDA_TESTKIT_IMAGE: localImage(),
        KUBECONFIG: kubeconfig(),
        LAMBDA_TESTKIT_KUBERNETES_NAMESPACE: namespace(),
      },
    });
  });

  it('passes every test of the three files on Pods', () => {
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.numPassedTests).toBe(11);
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/backend kubernetes/);
  });

  it('starts exactly one Pod per function for three files × many invokes, and leaves none behind', async () => {
    expect(run.summary.map((r) => r.function)).toEqual(['payments-batch', 'slugify', 'todos-api']);
    for (const row of run.summary) {
      expect(row.cold, row.function).toBe(1);
      expect(row.warm, row.function).toBe(row.invokes - 1);
    }
    expect(await objectsWith('dev.lambda-testkit.library=lambda-testkit')).toEqual({
      pods: [],
      configMaps: [],
      leases: [],
    });
  });
});
