// Wiring on the process backend (docs/wiring.md), with the same configuration as the Docker suite:
// functions are host processes, so LAMBDA_TESTKIT_HOST is 127.0.0.1 and endpoints are used as written.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessBackend } from '@lambda-testkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wiringCases } from '../support/wiring-cases.ts';
import { startWiringRun, type WiringRun } from '../support/wiring-run.ts';

let run: WiringRun;
let rootDir: string;
const backendLog: string[] = [];

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), 'ltk-wiring-'));
  run = await startWiringRun(new ProcessBackend({ rootDir, log: (line) => backendLog.push(line) }), {
    network: 'ignored-here',
  });
});

afterAll(async () => {
  await run?.stop();
  await rm(rootDir, { recursive: true, force: true });
});

describe('wiring on the process backend', () => {
  wiringCases(() => run, { sandboxHost: '127.0.0.1' });

  it('says that a network cannot be joined by processes, and how functions talk to the pool server', () => {
    const port = new URL(run.handle.url).port;
    expect(backendLog).toEqual([
      expect.stringContaining('network "ignored-here" is ignored on the process backend'),
    ]);
    expect(run.log).toContain(
      `wiring: functions reach host port(s) 4566, ${run.declaredPort} at 127.0.0.1; functions invoke functions through the pool server (127.0.0.1:${port})`,
    );
  });
});
