// Wiring on a real engine (docs/wiring.md): a service container reached by its alias on a user
// network, declared host ports forwarded from the network's gateway and undeclared ones refused,
// endpoint variables, functions invoking functions. Images: the local one only (nothing is pulled).
import { DockerBackend } from '@lambda-testkit/core';
import { GenericContainer, Network, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { wiringCases } from '../support/wiring-cases.ts';
import { startWiringRun, type WiringRun } from '../support/wiring-run.ts';
import { docker, dockerMissing, localImage, requireDocker } from './helpers.ts';

let run: WiringRun;
let backend: DockerBackend;
let network: StartedNetwork;
let service: StartedTestContainer;

beforeAll(async () => {
  if (dockerMissing()) return;
  network = await new Network().start();
  // A "service container" as a user's global setup would start one: here the local image running a
  // tiny HTTP server instead of the emulator, known on the network as `svc`.
  service = await new GenericContainer(localImage())
    .withEntrypoint(['/var/lang/bin/node'])
    .withCommand(['-e', "require('http').createServer((q, s) => s.end('from svc')).listen(8080)"])
    .withNetwork(network)
    .withNetworkAliases('svc')
    .start();
  backend = new DockerBackend({ images: { 'nodejs22.x': localImage() }, log: () => {} });
  run = await startWiringRun(backend, { network });
});

afterAll(async () => {
  await run?.stop();
  await service?.stop();
  await network?.stop();
});

beforeEach(requireDocker);

describe('wiring on the Docker backend', () => {
  wiringCases(() => run, { sandboxHost: 'host.lambda-testkit.internal' });

  it('reaches a service container by its alias on the network the run joined', async () => {
    expect(await run.probe({ action: 'http', url: 'http://svc:8080/' })).toEqual({
      status: 200,
      body: 'from svc',
    });
    const [container] = backend.instances();
    const info = await (await docker()).getContainer(container?.containerId ?? '').inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([network.getName()]);
  });

  it('refuses a host port on 127.0.0.1 that was not declared, and any other port of the gateway', async () => {
    const host = 'host.lambda-testkit.internal';
    expect(await run.probe({ action: 'tcp', host, port: run.declaredPort })).toBe('connected');
    // A live listener on the host's 127.0.0.1, not declared: nothing answers for it on the gateway.
    expect(await run.probe({ action: 'tcp', host, port: run.undeclaredPort })).toBe('ECONNREFUSED');
    // The gateway address itself, without the alias: the same.
    const gateway = backend.wiring()?.gateway ?? '';
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await run.probe({ action: 'tcp', host: gateway, port: run.undeclaredPort })).toBe('ECONNREFUSED');
    expect(backend.wiring()?.hostPorts).toEqual(
      [run.declaredPort, 4566, Number(new URL(run.handle.url).port)].sort((a, b) => a - b),
    );
  });

  it('fails the wiring with LTK_WIRING_FAILED, naming the network, when it does not exist', async () => {
    const other = new DockerBackend({ log: () => {} });
    try {
      await expect(
        other.wire({ network: 'lambda-testkit-no-such-network', hostPorts: [] }),
      ).rejects.toMatchObject({
        code: 'LTK_WIRING_FAILED',
        message: expect.stringContaining('Docker network "lambda-testkit-no-such-network" does not exist'),
      });
    } finally {
      await other.close();
    }
  });

  it('says in one line that the pool server answers containers, and where', () => {
    const port = new URL(run.handle.url).port;
    const lines = run.log.filter((l) => l.startsWith('wiring:'));
    expect(lines).toHaveLength(1);
    const gateway = backend.wiring()?.gateway;
    expect(lines[0]).toContain(
      `the pool server also answers containers at host.lambda-testkit.internal:${port} (${gateway}:${port}), same token`,
    );
    expect(lines[0]).toContain(`containers join network ${network.getName()}`);
  });
});
