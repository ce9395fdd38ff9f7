import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackendWiring, WiredHost } from '../backend.ts';
import type { FunctionSpec, ResolvedFunction } from '../function-spec.ts';
import { resolveFunction } from '../packaging/resolve-function.ts';
import { FakeBackend } from '../testing/index.ts';
import { RunWiring } from './run-wiring.ts';

/** A fake backend that says its sandboxes reach the host as `sandbox-host`, and records `wire` calls. */
class WiredFake extends FakeBackend {
  readonly sandboxHost = 'sandbox-host';
  readonly wired: BackendWiring[] = [];
  async wire(wiring: BackendWiring): Promise<WiredHost> {
    this.wired.push(wiring);
    return { address: '10.9.0.1' };
  }
}

const spec = (name: string, environment?: Record<string, string>): FunctionSpec => ({
  name,
  runtime: 'nodejs22.x',
  handler: 'index.handler',
  code: '.',
  ...(environment ? { environment } : {}),
});

describe('RunWiring', () => {
  it('wires the union of what every loaded configuration declares, and says it in one line', async () => {
    const backend = new WiredFake();
    const log: string[] = [];
    const wiring = new RunWiring({ backend, token: 't', serverPort: 5000, log: (l) => log.push(l) });
    await wiring.apply({ hostPorts: [8000], network: 'net-a' }, '/a');
    const env = await wiring.apply(
      { awsEndpoints: { s3: 'http://localhost:9000' }, functionsCanInvoke: true },
      '/b',
    );
    expect(backend.wired.at(-1)).toEqual({ network: 'net-a', hostPorts: [5000, 8000, 9000] });
    expect(env).toMatchObject({
      LAMBDA_TESTKIT_HOST: 'sandbox-host',
      AWS_ENDPOINT_URL_S3: 'http://sandbox-host:9000',
      AWS_ENDPOINT_URL_LAMBDA: 'http://sandbox-host:5000',
    });
    expect(log.at(-1)).toBe(
      'wiring: containers join network net-a; functions reach host port(s) 8000, 9000 at sandbox-host (forwarded on ' +
        '10.9.0.1); the pool server also answers containers at sandbox-host:5000 (10.9.0.1:5000), same token, for ' +
        'functions that invoke functions',
    );
  });

  it("puts the wiring's variables under the function's own, and gives credentials to invokers only", async () => {
    const wiring = new RunWiring({
      backend: new WiredFake(),
      token: 'run-token',
      serverPort: 5000,
      log: () => {},
    });
    const onEnv = await wiring.apply({ functionsCanInvoke: true }, '/on');
    const offEnv = await wiring.apply({}, '/off');
    const caller = wiring.applyTo(spec('caller', { AWS_ENDPOINT_URL_LAMBDA: 'http://mine' }), '/on', onEnv);
    expect(caller.environment).toMatchObject({
      AWS_ENDPOINT_URL_LAMBDA: 'http://mine',
      LAMBDA_TESTKIT_HOST: 'sandbox-host',
    });
    wiring.applyTo(spec('plain'), '/off', offEnv);
    const resolved = (name: string) => ({ name }) as ResolvedFunction;
    expect(wiring.launchEnvironment(resolved('caller'), 'i-1')).toMatchObject({
      AWS_ACCESS_KEY_ID: 'run-token',
      AWS_SESSION_TOKEN: 'lambda-testkit-instance.i-1',
    });
    expect(wiring.launchEnvironment(resolved('plain'), 'i-2')).toBeUndefined();
  });

  it('says nothing when nothing is wired', async () => {
    const log: string[] = [];
    const wiring = new RunWiring({
      backend: new WiredFake(),
      token: 't',
      serverPort: 5000,
      log: (l) => log.push(l),
    });
    await wiring.apply({}, '/a');
    expect(log).toEqual([]);
  });

  it('gives a new deploy id when the wiring changes what a function sees', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ltk-wiring-'));
    await writeFile(join(root, 'index.js'), 'exports.handler = async () => 1;\n');
    const wiring = new RunWiring({ backend: new WiredFake(), token: 't', serverPort: 5000, log: () => {} });
    const deployId = async (config: Parameters<RunWiring['apply']>[0]) => {
      const env = await wiring.apply(config, root);
      return (await resolveFunction(wiring.applyTo(spec('fn'), root, env), { root })).deployId;
    };
    const plain = await deployId({});
    const endpoints = await deployId({ awsEndpoints: { dynamodb: 'http://127.0.0.1:8000' } });
    const moved = await deployId({ awsEndpoints: { dynamodb: 'http://127.0.0.1:8001' } });
    const networked = await deployId({ network: 'other-net' });
    expect(new Set([plain, endpoints, moved, networked]).size).toBe(4);
    expect(await deployId({ awsEndpoints: { dynamodb: 'http://127.0.0.1:8000' } })).toBe(endpoints);
    await rm(root, { recursive: true, force: true });
  });
});
