import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { hostBootId } from '../shared/run-owner.ts';
import { KubernetesLabels } from './labels.ts';
import { isLeaseStale } from './reap-stale.ts';

const now = Date.parse('2026-01-01T00:10:00Z');

function lease(annotations: Record<string, string>, renewed: string, duration = 30) {
  return {
    metadata: { annotations },
    spec: { renewTime: new Date(renewed), leaseDurationSeconds: duration },
  };
}

describe('isLeaseStale', () => {
  it('another host: stale only after twice its duration without renewal', () => {
    const other = { [KubernetesLabels.ownerHost]: 'some-other-host', [KubernetesLabels.ownerPid]: '1' };
    expect(isLeaseStale(lease(other, '2026-01-01T00:09:10Z'), now)).toBe(false);
    expect(isLeaseStale(lease(other, '2026-01-01T00:08:50Z'), now)).toBe(true);
  });

  it('this host: a live owner is not stale however old the renewal; a dead one is, at once', () => {
    const self = {
      [KubernetesLabels.ownerHost]: hostname(),
      [KubernetesLabels.ownerBootId]: hostBootId(),
      [KubernetesLabels.ownerPid]: String(process.pid),
    };
    expect(isLeaseStale(lease(self, '2020-01-01T00:00:00Z'), now)).toBe(false);
    const dead = { ...self, [KubernetesLabels.ownerPid]: '2147483646' };
    expect(isLeaseStale(lease(dead, '2026-01-01T00:09:59Z'), now)).toBe(true);
  });

  it('this host, another boot: stale', () => {
    const rebooted = {
      [KubernetesLabels.ownerHost]: hostname(),
      [KubernetesLabels.ownerBootId]: 'not-this-boot',
      [KubernetesLabels.ownerPid]: String(process.pid),
    };
    expect(isLeaseStale(lease(rebooted, '2026-01-01T00:09:59Z'), now)).toBe(hostBootId() !== '');
  });
});
