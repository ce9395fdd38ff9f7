import { describe, expect, it } from 'vitest';
import { BodyBudget } from './body-budget.ts';

describe('BodyBudget', () => {
  it('lets reservations through up to its capacity, then in arrival order as bytes come back', async () => {
    const budget = new BodyBudget(100);
    const a = await budget.reserve(60);
    const granted: string[] = [];
    const b = budget.reserve(50).then((release) => {
      granted.push('b');
      return release;
    });
    // Fits, but waits behind b: a stream of small calls must not starve a large one.
    const c = budget.reserve(10).then((release) => {
      granted.push('c');
      return release;
    });
    await Promise.resolve();
    expect(granted).toEqual([]);
    expect(budget.inUse).toBe(60);
    a();
    a(); // giving back twice gives back once
    const releaseB = await b;
    const releaseC = await c;
    expect(granted).toEqual(['b', 'c']);
    expect(budget.inUse).toBe(60);
    releaseB();
    releaseC();
    expect(budget.inUse).toBe(0);
  });

  it('caps a reservation larger than the whole budget at the budget', async () => {
    const budget = new BodyBudget(100);
    const release = await budget.reserve(1_000);
    expect(budget.inUse).toBe(100);
    release();
    expect(budget.inUse).toBe(0);
  });
});
