/**
 * DockerBackend itself against the real engine: what a container looks like (loopback-only port,
 * labels, tmpfs, copied code), terminate semantics, image preparation and its errors, and the sweep
 * of containers whose owning process was SIGKILLed (by the backend and by `lambda-testkit clean`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BackendError,
  DockerBackend,
  ErrorCodes,
  type PrepareProgress,
  type ResolvedFunction,
} from '@lambda-testkit/core';
import { ContainerLabels } from '@lambda-testkit/core/internal';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  appFunction,
  containerExists,
  docker,
  dockerMissing,
  fixturesDir,
  launchContext,
  localImage,
  requireDocker,
  waitFor,
} from './helpers.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Run ids unique to this run of the suite: several runs may share one engine (labels are filtered by them). */
const suiteRun = randomUUID().slice(0, 8);
const run = (name: string) => `${name}-${suiteRun}`;
const cli = join(repoRoot, 'packages/core/src/cli/lambda-testkit.ts');

let backend: DockerBackend;

// Every test fails (loudly, with the reason) when the global setup found no engine.
beforeEach(() => requireDocker());

beforeAll(() => {
  backend = new DockerBackend({ log: () => {} });
});

afterAll(async () => {
  await backend.close();
  expect(backend.instances()).toEqual([]);
});

/** Starts a process that launches a container and is then SIGKILLed: its container is left behind. */
async function orphanContainer(runId: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [join(fixturesDir, 'owner-child.ts'), localImage(), join(fixturesDir, 'app'), runId],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TESTCONTAINERS_RYUK_DISABLED: 'true' } },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const containerId = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { containerId: string }).containerId);
    });
    child.once('exit', (code) =>
      reject(new Error(`owner child exited (${code}) before launching: ${stderr}`)),
    );
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return containerId;
}

describe('DockerBackend containers', () => {
  let fn: ResolvedFunction;
  let launched: Awaited<ReturnType<DockerBackend['launch']>>;
  let inspect: Awaited<ReturnType<ReturnType<Awaited<ReturnType<typeof docker>>['getContainer']>['inspect']>>;

  beforeAll(async () => {
    if (dockerMissing()) return;
    // One credential given by the user: it wins; the others stay dummies.
    fn = await appFunction({
      name: 'inspected',
      memorySize: 256,
      environment: { AWS_SECRET_ACCESS_KEY: 'user-given-secret' },
    });
    launched = await backend.launch(fn, launchContext(run('inspect-run'), 'inspect-1'));
    inspect = await (await docker()).getContainer(launched.handle.containerId).inspect();
  });

  it('publishes the invoke port on 127.0.0.1 only (requested and actually bound)', () => {
    expect(inspect.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }] });
    const bound = inspect.NetworkSettings.Ports['8080/tcp'] ?? [];
    expect(bound.length).toBeGreaterThan(0);
    for (const b of bound) expect(b.HostIp).toBe('127.0.0.1');
    expect(launched.endpoint).toBe(`http://127.0.0.1:${bound[0]?.HostPort}`);
  });

  it('labels the container with the library, run, owner, function and deploy id', () => {
    const labels = inspect.Config.Labels;
    expect(labels).toMatchObject({
      [ContainerLabels.library]: 'lambda-testkit',
      [ContainerLabels.runId]: run('inspect-run'),
      [ContainerLabels.instanceId]: 'inspect-1',
      [ContainerLabels.functionName]: 'inspected',
      [ContainerLabels.deployId]: fn.deployId,
      [ContainerLabels.ownerPid]: String(process.pid),
    });
    expect(labels[ContainerLabels.version]).toMatch(/^\d+\.\d+\.\d+/);
    expect(labels[ContainerLabels.ownerHost]).toBeTruthy();
  });

  it('runs the handler as the command of the image entrypoint, read-only but a tmpfs /tmp, code in read-only volumes', () => {
    expect(inspect.Config.Cmd).toEqual(['index.handler']);
    expect(inspect.Config.Entrypoint).toEqual(['/lambda-entrypoint.sh']);
    expect(inspect.HostConfig.ReadonlyRootfs).toBe(true);
    expect(inspect.HostConfig.Tmpfs).toEqual({ '/tmp': 'rw,exec,size=512m' });
    expect(inspect.Mounts.filter((m) => m.Type === 'bind')).toEqual([]);
    // No layers: one volume, the code at /var/task, read-only, labelled with the run.
    const volumes = inspect.Mounts.filter((m) => m.Type === 'volume');
    expect(volumes.map((m) => [m.Destination, m.RW])).toEqual([['/var/task', false]]);
    expect(backend.codeVolumes()).toContain(volumes[0]?.Name);
    const env = inspect.Config.Env;
    expect(env).toContain('AWS_LAMBDA_FUNCTION_NAME=inspected');
    expect(env).toContain('LAMBDA_TESTKIT_RUNTIME=nodejs22.x');
    expect(env.some((e) => e.startsWith('AWS_LAMBDA_RUNTIME_API='))).toBe(false);
  });

  // The variables of docs/lambda-apis.md#sandbox-environment.
  it('sets the sandbox environment: timeout, memory, region, dummy credentials unless given', () => {
    const env = Object.fromEntries(
      inspect.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_TIMEOUT: '10',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/inspected',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_SECRET_ACCESS_KEY: 'user-given-secret',
    });
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^AKIA/);
    expect(env.AWS_SESSION_TOKEN).toContain('dummy');
  });

  it('answers on the endpoint and logs through logs(handle)', async () => {
    const capture = backend.logs(launched.handle)?.capture();
    const res = await fetch(`${launched.endpoint}/2015-03-31/functions/function/invocations`, {
      method: 'POST',
      body: JSON.stringify({ direct: true }),
      headers: { 'x-lambda-testkit-invoke-secret': launched.invokeSecret ?? '' },
    });
    expect(await res.json()).toMatchObject({ echo: { direct: true } });
    const logs = await capture?.finish(5_000);
    // A cold start: INIT_START first, then START (Lambda's order).
    expect(logs?.lines[0]).toMatch(/^INIT_START Runtime Version: /);
    expect(logs?.lines).toContain(`START RequestId: ${logs?.requestId} Version: $LATEST`);
    expect(logs?.lines.at(-1)).toMatch(/^REPORT RequestId: /);
  });

  describe('against other local processes (docs/security.md)', () => {
    const invokeUrl = () => `${launched.endpoint}/2015-03-31/functions/function/invocations`;
    const withSecret = () => ({ 'x-lambda-testkit-invoke-secret': launched.invokeSecret ?? '' });

    it("the local image's emulator answers only calls with the instance's invoke secret, which the handler never sees", async () => {
      expect(launched.invokeSecret).toMatch(/^[\w-]{43}$/);
      for (const headers of [{}, { 'x-lambda-testkit-invoke-secret': 'guessed' }]) {
        const denied = await fetch(invokeUrl(), { method: 'POST', body: '{}', headers });
        expect(denied.status).toBe(403);
        expect(await denied.json()).toMatchObject({ errorType: 'AccessDenied' });
      }
      const byGet = await fetch(invokeUrl(), { headers: { origin: 'http://evil.example' } });
      expect(byGet.status).toBe(403);
      await byGet.arrayBuffer();
      const allowed = await fetch(invokeUrl(), {
        method: 'POST',
        body: JSON.stringify({ action: 'guards' }),
        headers: withSecret(),
      });
      expect(await allowed.json()).toMatchObject({
        secret: null,
        runtimeApi: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      });
    });

    it('publishes the invoke port and nothing else: the Runtime API stays inside the container', () => {
      expect(Object.keys(inspect.Config.ExposedPorts ?? {})).toEqual(['8080/tcp']);
      expect(Object.keys(inspect.NetworkSettings.Ports ?? {})).toEqual(['8080/tcp']);
    });

    it("another process in the container can neither take the runtime's events nor answer them", async () => {
      const res = await fetch(invokeUrl(), {
        method: 'POST',
        body: JSON.stringify({ action: 'guards' }),
        headers: withSecret(),
      });
      const { runtimeApi } = (await res.json()) as { runtimeApi: string };
      const script = `const api = 'http://${runtimeApi}/2018-06-01/runtime';
        const next = await fetch(api + '/invocation/next', { signal: AbortSignal.timeout(10000) });
        const forged = await fetch(api + '/invocation/some-id/response', { method: 'POST', body: '{}' });
        console.log(JSON.stringify({ next: next.status, forged: forged.status }));`;
      const exec = spawnSync(
        'docker',
        ['exec', launched.handle.containerId, 'node', '--input-type=module', '-e', script],
        { encoding: 'utf8', timeout: 30_000 },
      );
      expect({ stdout: exec.stdout.trim(), stderr: exec.stderr }).toEqual({
        stdout: JSON.stringify({ next: 403, forged: 403 }),
        stderr: '',
      });
      // The runtime itself was not displaced.
      const after = await fetch(invokeUrl(), { method: 'POST', body: '{"n":1}', headers: withSecret() });
      expect(await after.json()).toMatchObject({ echo: { n: 1 } });
    });

    it('a sender dripping a body into the invoke port does not hold the sandbox', async () => {
      const port = Number(new URL(launched.endpoint).port);
      const slow = connect(port, '127.0.0.1');
      slow.on('error', () => {});
      // `100 Continue` comes back once the emulator has the headers: only then is the race set up.
      const headersIn = new Promise<void>((resolve) =>
        slow.on('data', (chunk: Buffer) => {
          if (chunk.toString('latin1').includes(' 100 ')) resolve();
        }),
      );
      slow.write(
        `POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n` +
          `x-lambda-testkit-invoke-secret: ${launched.invokeSecret}\r\nContent-Length: 1000\r\n\r\n`,
      );
      await headersIn;
      slow.write('{');
      const drip = setInterval(() => slow.write(' '), 50);
      try {
        for (let n = 1; n <= 2; n++) {
          const res = await fetch(invokeUrl(), {
            method: 'POST',
            body: JSON.stringify({ n }),
            headers: withSecret(),
          });
          expect(res.status).toBe(200);
          expect(await res.json()).toMatchObject({ echo: { n } });
        }
      } finally {
        clearInterval(drip);
        slow.destroy();
      }
    });
  });

  it('bounds the sandbox like Lambda: memory without swap, 1024 processes, only the capabilities the emulator needs', async () => {
    expect(inspect.HostConfig).toMatchObject({
      Memory: (256 + 96) * 1024 * 1024,
      MemorySwap: (256 + 96) * 1024 * 1024,
      PidsLimit: 1024,
      CapDrop: ['ALL'],
      CapAdd: ['SETUID', 'SETGID', 'KILL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
    });
    // Measured inside: the emulator (PID 1) holds kill (bit 5), setgid (6) and setuid (7) only, and
    // cannot gain more.
    const exec = await (await docker()).getContainer(launched.handle.containerId).exec({
      Cmd: [
        '/var/lang/bin/node',
        '-e',
        'process.stdout.write(require("fs").readFileSync("/proc/1/status", "utf8"))',
      ],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({});
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => stream.on('end', resolve));
    const status = Buffer.concat(chunks).toString('latin1');
    expect(status).toMatch(/CapEff:\s+0{14}e0/);
    expect(status).toMatch(/CapBnd:\s+0{14}e0/);
    expect(status).toMatch(/NoNewPrivs:\s+1/);
  });

  it('terminate removes the container and is idempotent (also in parallel)', async () => {
    const { handle } = launched;
    await Promise.all([backend.terminate(handle), backend.terminate(handle)]);
    await backend.terminate(handle);
    expect(await containerExists(handle.containerId)).toBe(false);
  });
});

/** Names of the volumes the engine holds for a run (by lambda-testkit's run label). */
async function volumesOfRun(runId: string): Promise<string[]> {
  const { Volumes } = await (await docker()).listVolumes({
    filters: { label: [`${ContainerLabels.runId}=${runId}`] },
  });
  return (Volumes ?? []).map((v) => v.Name);
}

describe('DockerBackend file system: only /tmp is writable (docs/emulator.md#file-system)', () => {
  const paths = ['/tmp', '/var/task', '/opt', '/', '/var/runtime', '/etc', '/var'];

  async function writes(fn: ResolvedFunction, runId: string) {
    const launched = await backend.launch(fn, launchContext(runId, `fs-${randomUUID()}`));
    try {
      const res = await fetch(`${launched.endpoint}/2015-03-31/functions/function/invocations`, {
        method: 'POST',
        headers: { 'x-lambda-testkit-invoke-secret': launched.invokeSecret ?? '' },
        body: JSON.stringify({ action: 'write-paths', paths }),
      });
      return (await res.json()) as { results: Record<string, string>; tmpMiB: number };
    } finally {
      await backend.terminate(launched.handle);
    }
  }

  it('a handler gets EROFS everywhere but /tmp, which is 512 MiB by default', async () => {
    const out = await writes(await appFunction({ name: 'fs-default' }), run('fs-run'));
    expect(out.results).toEqual({
      '/tmp': 'written',
      '/var/task': 'EROFS',
      '/opt': 'EROFS',
      '/': 'EROFS',
      '/var/runtime': 'EROFS',
      '/etc': 'EROFS',
      '/var': 'EROFS',
    });
    expect(out.tmpMiB).toBe(512);
  });

  it('/opt holds the layers read-only too, and ephemeralStorage sizes /tmp', async () => {
    const fn = await appFunction({
      name: 'fs-layers',
      ephemeralStorage: 1024,
      layers: [join(fixturesDir, 'layer-greeting')],
    });
    const out = await writes(fn, run('fs-run'));
    expect(out.results).toMatchObject({ '/tmp': 'written', '/var/task': 'EROFS', '/opt': 'EROFS' });
    expect(out.tmpMiB).toBe(1024);
  });

  it('copies the code once per function version: instances share its volumes, a new version gets new ones', async () => {
    const own = new DockerBackend({ log: () => {} });
    const runId = run('volumes-run');
    try {
      const v1 = await appFunction({ name: 'versions', environment: { V: '1' } });
      const a = await own.launch(v1, launchContext(runId, 'v1-a'));
      const b = await own.launch(v1, launchContext(runId, 'v1-b'));
      const first = await volumesOfRun(runId);
      expect(first).toHaveLength(1);
      const v2 = await appFunction({ name: 'versions', environment: { V: '2' } });
      const c = await own.launch(v2, launchContext(runId, 'v2-a'));
      expect(await volumesOfRun(runId)).toHaveLength(2);
      // The old version's volume goes once its last container is gone.
      await own.terminate(a.handle);
      expect(await volumesOfRun(runId)).toContain(first[0]);
      await own.terminate(b.handle);
      await waitFor(
        async () => !(await volumesOfRun(runId)).includes(first[0] ?? ''),
        10_000,
        'old volume removed',
      );
      expect(await containerExists(c.handle.containerId)).toBe(true);
    } finally {
      await own.close();
    }
    expect(await volumesOfRun(runId)).toEqual([]);
  });
});

describe('DockerBackend prepared instances (created ahead, started on demand)', () => {
  it('prepareInstance creates the container without starting it; startPrepared starts it as a cold start', async () => {
    const fn = await appFunction({ name: 'prepared', environment: { CUSTOM_VAR: 'set-at-prepare' } });
    const prepared = await backend.prepareInstance(fn, launchContext(run('prepared-run'), 'prepared-1'));
    const engine = await docker();
    const before = await engine.getContainer(prepared.containerId).inspect();
    expect(before.State.Status).toBe('created');
    expect(before.HostConfig.ReadonlyRootfs).toBe(true);
    expect(backend.instances()).toContainEqual(prepared);

    const started = await backend.startPrepared(prepared);
    try {
      expect(started.handle).toBe(prepared);
      const capture = backend.logs(prepared)?.capture();
      const headers = { 'x-lambda-testkit-invoke-secret': started.invokeSecret ?? '' };
      const url = `${started.endpoint}/2015-03-31/functions/function/invocations`;
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ action: 'env' }) });
      expect(await res.json()).toMatchObject({ functionName: 'prepared', custom: 'set-at-prepare' });
      // The runtime started at the first invoke, after the start: its REPORT carries an Init Duration.
      const lines = (await capture?.finish(5_000))?.lines ?? [];
      expect(lines.find((l) => l.startsWith('REPORT'))).toMatch(/Init Duration: /);
      await expect(backend.startPrepared(prepared)).rejects.toThrow(/already started/);
    } finally {
      await backend.terminate(prepared);
    }
    expect(await containerExists(prepared.containerId)).toBe(false);
  });

  it('a prepared container never started is removed by terminate and by close', async () => {
    const own = new DockerBackend({ log: () => {} });
    const fn = await appFunction({ name: 'prepared-unused' });
    const a = await own.prepareInstance(fn, launchContext(run('prepared-run'), 'unused-1'));
    const b = await own.prepareInstance(fn, launchContext(run('prepared-run'), 'unused-2'));
    await own.terminate(a);
    expect(await containerExists(a.containerId)).toBe(false);
    await own.close();
    expect(await containerExists(b.containerId)).toBe(false);
    expect(own.codeVolumes()).toEqual([]);
  });
});

describe('DockerBackend sandbox limits at work', () => {
  async function invokeOnce(memorySize: number, event: unknown) {
    const fn = await appFunction({ name: `limits-${memorySize}`, memorySize, timeout: 60 });
    const launched = await backend.launch(fn, launchContext(run('limits-run'), `limits-${randomUUID()}`));
    // The local image's emulator answers only calls that carry the instance's invoke secret.
    const headers = { 'x-lambda-testkit-invoke-secret': launched.invokeSecret ?? '' };
    try {
      const res = await fetch(`${launched.endpoint}/2015-03-31/functions/function/invocations`, {
        method: 'POST',
        headers,
        body: JSON.stringify(event),
      });
      const again = await fetch(`${launched.endpoint}/2015-03-31/functions/function/invocations`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ after: true }),
      }).then(
        (r) => r.status,
        () => 'unreachable',
      );
      return { status: res.status, body: (await res.json()) as Record<string, unknown>, again };
    } finally {
      await backend.terminate(launched.handle);
    }
  }

  it('a fork bomb is refused at the pids limit, inside its container, and the function still runs', async () => {
    // Without the limit all 1100 shells start. (512 MiB: 1024 idle shells fit in memory.)
    const { status, body, again } = await invokeOnce(512, { action: 'spawn-until-refused', max: 1100 });
    expect(status).toBe(200);
    expect(body.refusal).toBe('EAGAIN');
    expect(body.spawned).toBeGreaterThan(900);
    expect(body.spawned).toBeLessThan(1024);
    expect(again).toBe(200);
  });

  it('a handler that holds more than memorySize does not succeed; one within it does', async () => {
    const within = await invokeOnce(128, { action: 'hold-memory', mb: 32 });
    expect(within.body).toEqual({ held: 32 });
    // Without the limit this returns { held: 300 }. How the end is reported is the pool's business.
    const over = await invokeOnce(128, { action: 'hold-memory', mb: 300 });
    expect(over.body).not.toEqual({ held: 300 });
    expect(JSON.stringify(over.body)).toMatch(/error/i);
  });
});

describe('DockerBackend launch failures', () => {
  it('a container that exits at start fails the launch at once, with its exit code and output', async () => {
    // The entrypoint runs LAMBDA_TESTKIT_EMULATOR when set: a command that does not exist.
    const fn = await appFunction({
      name: 'broken',
      environment: { LAMBDA_TESTKIT_EMULATOR: '/nonexistent/emulator' },
    });
    const runId = run('broken-run');
    const error = await backend.launch(fn, launchContext(runId, 'broken-1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: ErrorCodes.LAUNCH_FAILED });
    const message = (error as Error).message;
    expect(message).toContain('"broken"');
    expect(message).toMatch(/exited \(code 127\) while starting/);
    expect(message.match(/exited \(code/g)).toHaveLength(1);
    expect(message).toContain('/nonexistent/emulator');
    // "At once", proven without a clock: the launch did not sit out Testcontainers' fixed 10 s wait
    // for port bindings, which an exited container never gets (its timeout message would be here).
    expect(message).not.toContain('waiting for container ports to be bound');
    // Removed: the removal may still be under way when the launch rejects (the engine then lists the
    // container as "Removal In Progress", and a second removal request gets 409), so it is awaited.
    const left = async () =>
      (await docker()).listContainers({
        all: true,
        filters: { label: [`${ContainerLabels.runId}=${runId}`] },
      });
    await waitFor(async () => (await left()).length === 0, 15_000, 'the exited container to be removed');
  });

  it('a container that cannot even start (its entrypoint is missing) is removed, and the error says why', async () => {
    const engine = await docker();
    const tag = `lambda-testkit/no-entrypoint:${suiteRun}`;
    const base = await engine.createContainer({ Image: localImage(), Cmd: ['index.handler'] });
    await base.commit({
      repo: tag.split(':')[0],
      tag: tag.split(':')[1],
      changes: 'ENTRYPOINT ["/missing-entrypoint"]',
    });
    await base.remove({ force: true });
    try {
      const runId = run('nostart-run');
      const error = await backend
        .launch(await appFunction({ name: 'nostart', image: tag }), launchContext(runId, 'nostart-1'))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCodes.LAUNCH_FAILED });
      expect((error as Error).message).toContain('/missing-entrypoint');
      const left = await engine.listContainers({
        all: true,
        filters: { label: [`${ContainerLabels.runId}=${runId}`] },
      });
      expect(left).toEqual([]);
    } finally {
      await engine
        .getImage(tag)
        .remove({ force: true })
        .catch(() => {});
    }
  });
});

describe('DockerBackend images', () => {
  it('prepare: an image that is present needs no pull', async () => {
    const progress: PrepareProgress[] = [];
    await backend.prepare(await appFunction(), (p) => progress.push(p));
    expect(progress.filter((p) => p.message.startsWith('pulling'))).toEqual([]);
  });

  it('prepare: an unreachable registry gives IMAGE_UNAVAILABLE naming the image and the way out', async () => {
    const fn = await appFunction({ image: 'public.ecr.aws/lambda/nodejs:22-lambda-testkit-absent' });
    const error = await backend.prepare(fn, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
    expect((error as Error).message).toContain('public.ecr.aws/lambda/nodejs:22-lambda-testkit-absent');
    expect((error as Error).message).toContain('lambda-testkit build-image');
  });

  it('launch with an unpullable image fails fast with IMAGE_UNAVAILABLE, not a timeout', async () => {
    // A tag no registry has: the pull fails here (no registry) and where the registry answers alike.
    const absent = 'public.ecr.aws/lambda/nodejs:24-lambda-testkit-absent';
    const fn = { ...(await resolveOfficial()), image: absent };
    const started = Date.now();
    const error = await backend
      .launch(fn, launchContext(run('image-run'), 'image-1'))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
    expect((error as Error).message).toContain(absent);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a failed pull is remembered: the next launch of that image fails at once, without pulling again', async () => {
    const absent = 'public.ecr.aws/lambda/nodejs:22-lambda-testkit-absent-twice';
    const own = new DockerBackend({ log: () => {} });
    try {
      const fn = await appFunction({ image: absent });
      const first: PrepareProgress[] = [];
      const error = await own.prepare(fn, (p) => first.push(p)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
      expect(first.map((p) => p.message)).toContain(`pulling ${absent}`);

      const again: PrepareProgress[] = [];
      const second = await own.prepare(fn, (p) => again.push(p)).catch((e: unknown) => e);
      expect(second).toBe(error);
      const third = await own.launch(fn, launchContext(run('image-run'), 'image-2')).catch((e: unknown) => e);
      expect(third).toBe(error);
      expect(again).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('the official base image per runtime is the default; the backend-wide images map overrides it', async () => {
    const official = await resolveOfficial();
    expect(backend.imageFor(official)).toBe('public.ecr.aws/lambda/nodejs:24');
    const overridden = new DockerBackend({ images: { 'nodejs24.x': localImage() }, log: () => {} });
    expect(overridden.imageFor(official)).toBe(localImage());
    // A function's own image wins over the run's map.
    expect(overridden.imageFor({ ...official, image: 'my/image:1' })).toBe('my/image:1');
  });
});

async function resolveOfficial(): Promise<ResolvedFunction> {
  const fn = await appFunction({ name: 'official', runtime: 'nodejs24.x' });
  const { image: _drop, ...rest } = fn;
  return rest;
}

describe('sweep of containers whose owning process is gone', () => {
  it('reapStale() removes what a SIGKILLed run left, and leaves live runs alone', async () => {
    const live = await backend.launch(
      await appFunction({ name: 'live' }),
      launchContext(run('live-run'), 'live-1'),
    );
    const orphan = await orphanContainer(run('orphan-run-a'));
    expect(await containerExists(orphan)).toBe(true);
    expect(await volumesOfRun(run('orphan-run-a'))).toHaveLength(1);
    const removed = await new DockerBackend({ log: () => {} }).reapStale();
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(await containerExists(orphan)).toBe(false);
    // Its code volume goes with it; the live run's stays.
    expect(await volumesOfRun(run('orphan-run-a'))).toEqual([]);
    expect(await volumesOfRun(run('live-run'))).toHaveLength(1);
    expect(await containerExists(live.handle.containerId)).toBe(true);
    await backend.terminate(live.handle);
  });

  it('the first launch of a new backend sweeps, and `lambda-testkit clean` does it by hand', async () => {
    const swept = await orphanContainer(run('orphan-run-b'));
    const fresh = new DockerBackend({ log: () => {} });
    const l = await fresh.launch(
      await appFunction({ name: 'fresh' }),
      launchContext(run('fresh-run'), 'fresh-1'),
    );
    expect(await containerExists(swept)).toBe(false);
    await fresh.close();
    expect(await containerExists(l.handle.containerId)).toBe(false);

    const orphan = await orphanContainer(run('orphan-run-c'));
    const result = spawnSync(process.execPath, [cli, 'clean'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(run('orphan-run-c'));
    expect(result.stdout).toMatch(/\d+ container\(s\) removed\./);
    expect(await containerExists(orphan)).toBe(false);
  });
});

describe("Ryuk (Testcontainers' reaper) where its image cannot be pulled", () => {
  function launchWithRyuk(mode: 'auto' | 'required') {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      RYUK_CONTAINER_IMAGE: 'lambda-testkit/no-such-ryuk:never',
    };
    delete env.TESTCONTAINERS_RYUK_DISABLED;
    const result = spawnSync(
      process.execPath,
      [join(fixturesDir, 'ryuk-child.ts'), localImage(), join(fixturesDir, 'app'), mode],
      { encoding: 'utf8', env },
    );
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
      launched?: boolean;
      lines?: string[];
      code?: string;
      message?: string;
    };
  }

  it("ryuk: 'auto' (the default) goes on without it and says so in one line", () => {
    const outcome = launchWithRyuk('auto');
    expect(outcome.launched).toBe(true);
    expect(outcome.lines?.filter((l) => l.includes('Ryuk'))).toHaveLength(1);
    expect(outcome.lines?.[0]).toContain('lambda-testkit clean');
  });

  it("ryuk: 'required' fails the launch, saying how to run without it", () => {
    const outcome = launchWithRyuk('required');
    expect(outcome.code).toBe(ErrorCodes.LAUNCH_FAILED);
    expect(outcome.message).toContain('Ryuk');
    expect(outcome.message).toContain('TESTCONTAINERS_RYUK_DISABLED=true');
  });
});
