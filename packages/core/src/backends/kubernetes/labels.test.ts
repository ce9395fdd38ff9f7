import { describe, expect, it } from 'vitest';
import { labelValue, objectName } from './labels.ts';

const LABEL = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('Kubernetes label values and object names', () => {
  it('keeps a valid value as it is', () => {
    expect(labelValue('orders-1.2_x')).toBe('orders-1.2_x');
  });

  it('cleans and shortens other values, with a hash that keeps them apart', () => {
    const long = 'a'.repeat(80);
    for (const v of ['my function!', long, '-lead', '$LATEST', `${long}b`]) {
      expect(labelValue(v)).toMatch(LABEL);
      expect(labelValue(v).length).toBeLessThanOrEqual(63);
    }
    expect(labelValue(long)).not.toBe(labelValue(`${long}b`));
  });

  it('object names are lowercase RFC 1123 labels of at most 63 characters', () => {
    for (const part of ['Orders_Fn', 'x'.repeat(100), '---', 'ÄÖ']) {
      const name = objectName('lambda-testkit', part, 'abcd1234');
      expect(name).toMatch(NAME);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });
});
