// examples/vitest-integration on both backends, run the way a user runs it: an orders function
// writes to dynalite (started by the example's own global setup on 127.0.0.1, reached through
// awsEndpoints) and invokes a notifier function with the AWS SDK (functionsCanInvoke). The Docker
// run uses the locally built image and FAILS when no engine answers: it never skips.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalImage } from '../image/local-image.ts';
import { assertBuilt, repoRoot, runVitest, type VitestRun } from './run-vitest.ts';

const example = join(repoRoot, 'examples/vitest-integration');

function expectPassingRun(run: () => VitestRun, backend: string) {
  it('passes every test of the example', () => {
    expect(run().report.numFailedTests, run().output).toBe(0);
    expect(run().report.numPassedTests, run().output).toBe(4);
    expect(run().code).toBe(0);
    expect(run().output).toMatch(new RegExp(`backend ${backend}`));
  });

  it('starts one instance per function; the notifier, called by orders-api only, is reused', () => {
    expect(run().summary.map((r) => r.function)).toEqual(['notifier', 'orders-api']);
    for (const row of run().summary) {
      expect(row.cold, row.function).toBe(1);
      expect(row.errors, row.function).toBe(0);
    }
    expect(run().summary.find((r) => r.function === 'notifier')).toMatchObject({ invokes: 2, warm: 1 });
  });
}

describe('examples/vitest-integration on the process backend', () => {
  let run: VitestRun;
  beforeAll(async () => {
    assertBuilt();
    run = await runVitest(example, { env: { LAMBDA_TESTKIT_BACKEND: 'process' } });
  });
  expectPassingRun(() => run, 'process');
  it('reaches the host as it is', () => {
    expect(run.output).toMatch(
      /wiring: functions reach host port\(s\) \d+ at 127\.0\.0\.1; functions invoke functions/,
    );
  });
});

describe('examples/vitest-integration on the Docker backend', () => {
  let run: VitestRun;
  beforeAll(async () => {
    assertBuilt();
    const { tag } = await ensureLocalImage();
    run = await runVitest(example, { env: { LAMBDA_TESTKIT_BACKEND: 'docker', LAMBDA_TESTKIT_IMAGE: tag } });
  });
  expectPassingRun(() => run, 'docker');
  it('forwards the dynalite port and the pool server to the containers, and says so', () => {
    expect(run.output).toMatch(
      /wiring: functions reach host port\(s\) \d+ at host\.lambda-testkit\.internal \(forwarded on [\d.]+\); the pool server also answers containers/,
    );
  });
});
