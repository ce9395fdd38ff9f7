import { describe, expect, it } from 'vitest';
import { isTraceHeader, newTraceHeader, traceHeaderFor } from './trace-id.ts';

const SHAPE = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=0$/;

describe('trace headers', () => {
  it('makes well-formed X-Ray headers stamped with the epoch seconds', () => {
    const header = newTraceHeader(Date.UTC(2024, 0, 1) + 999);
    const [, seconds] = SHAPE.exec(header) ?? [];
    expect(seconds).toBe((Date.UTC(2024, 0, 1) / 1000).toString(16));
    expect(isTraceHeader(header)).toBe(true);
  });

  it('never repeats a root or parent id, also across refills of its random buffer', () => {
    const roots = new Set<string>();
    const parents = new Set<string>();
    const count = 1_000; // several refills of the buffer (128 headers each)
    for (let i = 0; i < count; i++) {
      const [, , root, parent] = SHAPE.exec(newTraceHeader()) ?? [];
      expect(root).toBeDefined();
      roots.add(root!);
      parents.add(parent!);
    }
    expect(roots.size).toBe(count);
    expect(parents.size).toBe(count);
  });

  it("keeps a caller's well-formed header and replaces a malformed one", () => {
    const caller = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    expect(traceHeaderFor(caller)).toBe(caller);
    expect(traceHeaderFor('Root=nope')).toMatch(SHAPE);
    expect(traceHeaderFor(undefined)).toMatch(SHAPE);
  });
});
