import { describe, expect, it } from 'vitest';
import { DurationSamples } from './duration-summary.ts';

describe('DurationSamples', () => {
  it('summarises nearest-rank percentiles', () => {
    const s = new DurationSamples();
    for (let i = 100; i >= 1; i--) s.add(i);
    expect(s.summary()).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  });

  it('is all zeros when empty', () => {
    expect(new DurationSamples().summary()).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });

  it('keeps counting and the max past the sample bound', () => {
    const s = new DurationSamples();
    s.add(1_000);
    for (let i = 0; i < 10_500; i++) s.add(1);
    expect(s.summary()).toMatchObject({ count: 10_501, p99: 1, max: 1_000 });
  });
});
