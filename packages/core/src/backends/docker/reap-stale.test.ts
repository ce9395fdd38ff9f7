// Which labelled containers count as left by a dead run (no Docker needed: the decision is on labels).
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { currentProcessIdentity } from '../shared/process-liveness.ts';
import { hostBootId, isOwnerGone as isRunOwnerGone } from '../shared/run-owner.ts';
import { ContainerLabels } from './labels.ts';
import { ownerFromLabels } from './reap-stale.ts';

const isOwnerGone = (labels: Record<string, string>) => isRunOwnerGone(ownerFromLabels(labels));

function ownerLabels(overrides: Record<string, string> = {}): Record<string, string> {
  const me = currentProcessIdentity();
  return {
    [ContainerLabels.ownerPid]: String(me.pid),
    [ContainerLabels.ownerStartTime]: me.startTime ?? '',
    [ContainerLabels.ownerHost]: hostname(),
    [ContainerLabels.ownerBootId]: hostBootId(),
    ...overrides,
  };
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

describe('isOwnerGone', () => {
  it('a live owner (this process) is not gone', () => {
    expect(isOwnerGone(ownerLabels())).toBe(false);
  });

  it('an owner whose process exited is gone', () => {
    expect(isOwnerGone(ownerLabels({ [ContainerLabels.ownerPid]: String(deadPid()) }))).toBe(true);
  });

  // Start times and boot ids come from procfs: Linux only (elsewhere these are reported as skipped).
  it.skipIf(!currentProcessIdentity().startTime)(
    'a reused pid (same pid, another start time) is not mistaken for the owner',
    () => {
      expect(isOwnerGone(ownerLabels({ [ContainerLabels.ownerStartTime]: '1' }))).toBe(true);
    },
  );

  it.skipIf(!hostBootId())(
    'an owner from an earlier boot of this host is gone even if its pid now runs',
    () => {
      expect(isOwnerGone(ownerLabels({ [ContainerLabels.ownerBootId]: 'an-earlier-boot' }))).toBe(true);
    },
  );

  it("another host's containers are never touched (their owner cannot be seen from here)", () => {
    expect(
      isOwnerGone(
        ownerLabels({
          [ContainerLabels.ownerHost]: 'another-host',
          [ContainerLabels.ownerPid]: String(deadPid()),
        }),
      ),
    ).toBe(false);
  });
});
