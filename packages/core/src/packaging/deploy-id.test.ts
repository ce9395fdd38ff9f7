import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, computeDeployId, type DeployIdInput, type LaunchConfiguration } from './deploy-id.ts';

const launch: LaunchConfiguration = {
  runtime: 'nodejs22.x',
  handler: 'index.handler',
  timeout: 3,
  memorySize: 128,
  environment: { A: '1', B: '2' },
  architecture: 'x86_64',
};
const base: DeployIdInput = {
  codeSha256: 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=',
  launch,
  layers: [Buffer.from('layer-one'), Buffer.from('layer-two')],
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe('computeDeployId', () => {
  it('is stable across calls and independent of key order', () => {
    const reordered: DeployIdInput = {
      layers: [Buffer.from('layer-one'), Buffer.from('layer-two')],
      launch: {
        environment: { B: '2', A: '1' },
        architecture: 'x86_64',
        memorySize: 128,
        timeout: 3,
        handler: 'index.handler',
        runtime: 'nodejs22.x',
      },
      codeSha256: base.codeSha256,
    };
    const id = computeDeployId(base);
    expect(computeDeployId(base)).toBe(id);
    expect(computeDeployId(reordered)).toBe(id);
    // The documented construction, spelled out by hand: a drift would re-launch every instance.
    const sha = (s: string) => createHash('sha256').update(s).digest('base64');
    const expected = createHash('sha256')
      .update(
        base.codeSha256 +
          '{"architecture":"x86_64","environment":{"A":"1","B":"2"},"handler":"index.handler",' +
          '"memorySize":128,"runtime":"nodejs22.x","timeout":3}' +
          `:${sha('layer-one')}:${sha('layer-two')}`,
      )
      .digest('base64url');
    expect(id).toBe(expected);
  });

  it('accepts layer hashes in place of layer bytes', () => {
    const hashed = base.layers.map((l) => createHash('sha256').update(l).digest('base64'));
    expect(computeDeployId({ ...base, layers: hashed })).toBe(computeDeployId(base));
  });

  const changes: [string, DeployIdInput][] = [
    ['code', { ...base, codeSha256: 'AAAAv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=' }],
    ['runtime', { ...base, launch: { ...launch, runtime: 'nodejs24.x' } }],
    ['handler', { ...base, launch: { ...launch, handler: 'index.other' } }],
    ['timeout', { ...base, launch: { ...launch, timeout: 4 } }],
    ['memorySize', { ...base, launch: { ...launch, memorySize: 256 } }],
    ['environment value', { ...base, launch: { ...launch, environment: { A: '1', B: '3' } } }],
    ['environment key', { ...base, launch: { ...launch, environment: { A: '1', B: '2', C: '' } } }],
    ['architecture', { ...base, launch: { ...launch, architecture: 'arm64' } }],
    ['image', { ...base, launch: { ...launch, image: 'example/custom:1' } }],
    ['a layer', { ...base, layers: [Buffer.from('layer-one'), Buffer.from('layer-2')] }],
    ['layer order', { ...base, layers: [Buffer.from('layer-two'), Buffer.from('layer-one')] }],
    ['a removed layer', { ...base, layers: [Buffer.from('layer-one')] }],
  ];
  it.each(changes)('changes when the %s changes', (_what, changed) => {
    expect(computeDeployId(changed)).not.toBe(computeDeployId(base));
  });

  it('never contains "/", "+" or "="', () => {
    for (let i = 0; i < 300; i++) {
      const id = computeDeployId({ ...base, launch: { ...launch, environment: { N: String(i) } } });
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });
});
