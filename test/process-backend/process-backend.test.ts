/**
 * ProcessBackend against the real emulator and real Node handlers (fixtures/app): lifecycle,
 * environment, layers, zips, timeouts and crashes, and that nothing is left behind — also after
 * the owning process is SIGKILLed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BackendError,
  ConfigError,
  ErrorCodes,
  type LaunchedInstance,
  ProcessBackend,
  type ProcessInstance,
  resolveFunction,
} from '@lambda-testkit/core';
import { zipDirectory } from '@lambda-testkit/core/internal';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  appFunction,
  fixturesDir,
  INVOKE_PATH,
  invoke,
  isRunning,
  launchContext,
  makeLayers,
  processesUnder,
  waitFor,
} from './helpers.ts';

const cli = fileURLToPath(new URL('../../packages/core/src/cli/lambda-testkit.ts', import.meta.url));
let rootDir: string;
let backend: ProcessBackend;
const runId = 'suite-run';
const launched: LaunchedInstance<ProcessInstance>[] = [];

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), 'ltk-process-backend-'));
  backend = new ProcessBackend({ rootDir });
});

afterEach(async () => {
  await Promise.all(launched.splice(0).map((l) => backend.terminate(l.handle)));
});

afterAll(async () => {
  await backend.close();
  await rm(rootDir, { recursive: true, force: true });
});

async function launch(fn: Awaited<ReturnType<typeof appFunction>>) {
  const instance = await backend.launch(fn, launchContext(runId));
  launched.push(instance);
  return instance;
}

interface Counted {
  invocations: number;
  pid: number;
  echo?: unknown;
}

describe('ProcessBackend', () => {
  it('serves a cold start then a warm invoke from the same runtime process', async () => {
    const instance = await launch(await appFunction({ name: 'warm' }));
    const { handle } = instance;
    expect(instance.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(handle.dir.startsWith(join(rootDir, runId))).toBe(true);

    const logs = backend.logs(handle);
    expect(logs).toBeDefined();
    const coldLogs = logs!.capture();
    const cold = await invoke(instance, { n: 1 });
    const coldLines = await coldLogs.finish(2000);
    const warmLogs = logs!.capture();
    const warm = await invoke(instance, { n: 2 });
    const warmLines = await warmLogs.finish(2000);

    expect(cold.status).toBe(200);
    expect(warm.status).toBe(200);
    const c = cold.json as Counted;
    const w = warm.json as Counted;
    expect(c).toMatchObject({ invocations: 1, echo: { n: 1 } });
    expect(w).toMatchObject({ invocations: 2, echo: { n: 2 } });
    expect(w.pid).toBe(c.pid);
    expect(c.pid).not.toBe(process.pid); // the handler runs in a runtime process of its own

    // Lambda's order on a cold start: INIT_START, the init's output, then START.
    expect(coldLines.lines[0]).toMatch(/^INIT_START Runtime Version: nodejs:\d+\.v0\tRuntime Version ARN: /);
    expect(coldLines.lines).toContain(`START RequestId: ${coldLines.requestId} Version: $LATEST`);
    expect(warmLines.lines[0]).toMatch(/^START RequestId: /);
    expect(coldLines.lines.at(-1)).toMatch(/^REPORT RequestId: .*Init Duration/);
    expect(warmLines.lines.at(-1)).toMatch(/^REPORT RequestId: /);
    expect(warmLines.lines.at(-1)).not.toContain('Init Duration');
    expect(warmLines.requestId).not.toBe(coldLines.requestId);
  });

  it('gives the handler a sandbox environment without the host’s credentials or secrets', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAHOSTDEVELOPERKEY',
      AWS_SECRET_ACCESS_KEY: 'host-secret-access-key',
      AWS_PROFILE: 'production',
      LTK_TEST_HOST_SECRET: 'do-not-leak',
    });
    try {
      const fn = await appFunction({
        name: 'env-check',
        handler: 'index.env',
        environment: { TABLE_NAME: 'orders', STAGE: 'test' },
        memorySize: 512,
      });
      const instance = await launch(fn);
      const { handle } = instance;
      const res = await invoke(instance);
      expect(res.status).toBe(200);
      const { env, cwd, tz } = res.json as { env: Record<string, string>; cwd: string; tz: number };

      expect(env).toMatchObject({
        AWS_LAMBDA_FUNCTION_NAME: 'env-check',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
        AWS_REGION: 'eu-central-1',
        AWS_DEFAULT_REGION: 'eu-central-1',
        TABLE_NAME: 'orders',
        STAGE: 'test',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/env-check',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        // Lambda's paths: the runtime runs in its own mount namespace (docs/emulator.md#file-system).
        LAMBDA_TASK_ROOT: '/var/task',
        LAMBDA_RUNTIME_DIR: '/var/runtime',
        HOME: '/tmp',
        TMPDIR: '/tmp',
        TZ: ':UTC',
      });
      expect(handle.confined).toBe(true);
      expect(env.AWS_LAMBDA_RUNTIME_API).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(env._HANDLER).toBe('index.env');
      expect(env.NODE_PATH?.split(':')).toEqual([
        '/opt/nodejs/node22/node_modules',
        '/opt/nodejs/node_modules',
        '/var/task',
      ]);
      expect(env.PATH?.split(':')[0]).toBe('/var/lang/bin');
      expect(env.PATH?.split(':').at(-1)).toBe('/opt/bin');
      expect(cwd).toBe('/var/task');
      expect(tz).toBe(0);

      // Dummy credentials from the sandbox, never the developer's.
      expect(env.AWS_ACCESS_KEY_ID).toBeTruthy();
      expect(env.AWS_ACCESS_KEY_ID).not.toBe('AKIAHOSTDEVELOPERKEY');
      expect(env.AWS_SECRET_ACCESS_KEY).not.toBe('host-secret-access-key');
      expect(env.AWS_PROFILE).toBeUndefined();
      expect(env.LTK_TEST_HOST_SECRET).toBeUndefined();
      expect(JSON.stringify(env)).not.toContain('do-not-leak');
      // The instance's invoke secret stays with the emulator.
      expect(instance.invokeSecret).toMatch(/^[\w-]{43}$/);
      expect(env.LAMBDA_TESTKIT_INVOKE_SECRET).toBeUndefined();
      expect(JSON.stringify(env)).not.toContain(instance.invokeSecret);
      expect(env.HOME).not.toBe(saved.HOME);
      // Nothing of the backend's own plumbing (spare marker, compile cache) reaches the function.
      for (const key of ['LAMBDA_TESTKIT_SPARE', 'LAMBDA_TESTKIT_COMPILE_CACHE', 'NODE_COMPILE_CACHE']) {
        expect(env[key]).toBeUndefined();
      }
    } finally {
      for (const key of [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_PROFILE',
        'LTK_TEST_HOST_SECRET',
      ]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('hands a spare runtime to the next launch of its kind, with the environment of that function alone', async () => {
    const maker = await launch(await appFunction({ name: 'spare-maker', environment: { ONLY_MAKER: 'a' } }));
    expect((await invoke(maker)).status).toBe(200);
    await backend.sparesReady();
    const fn = await appFunction({
      name: 'spare-taker',
      handler: 'index.env',
      environment: { ONLY_TAKER: 'b' },
    });
    const taker = await launch(fn);
    expect(basename(taker.handle.dir)).toMatch(/^spare-/);
    const viaSpare = (await invoke(taker)).json as { env: Record<string, string>; cwd: string };
    // Confined: the spare's own folder, seen at Lambda's path (docs/emulator.md#file-system).
    expect(viaSpare.cwd).toBe('/var/task');
    expect(viaSpare.env.LAMBDA_TESTKIT_SANDBOX).toBe(taker.handle.dir);
    expect(viaSpare.env).toMatchObject({ AWS_LAMBDA_FUNCTION_NAME: 'spare-taker', ONLY_TAKER: 'b' });
    expect(viaSpare.env.ONLY_MAKER).toBeUndefined();

    // The same function started on demand sees the same environment, its own folders aside.
    const onDemand = new ProcessBackend({ rootDir, spareRuntimes: 0 });
    try {
      const fresh = await onDemand.launch(fn, launchContext(runId));
      expect(basename(fresh.handle.dir)).not.toMatch(/^spare-/);
      const direct = (await invoke(fresh)).json as { env: Record<string, string> };
      const comparable = (env: Record<string, string>, dir: string) =>
        Object.fromEntries(
          Object.entries(env)
            // Per instance by design: its Runtime API port and its log stream.
            .filter(([key]) => key !== 'AWS_LAMBDA_RUNTIME_API' && key !== 'AWS_LAMBDA_LOG_STREAM_NAME')
            .map(([key, value]) => [key, value.split(dir).join('<instance>')]),
        );
      expect(comparable(viaSpare.env, taker.handle.dir)).toEqual(comparable(direct.env, fresh.handle.dir));
    } finally {
      await onDemand.close();
    }
  });

  it('gives a spare only to a function whose start-up settings match (memory size → heap limit)', async () => {
    await launch(await appFunction({ name: 'small' }));
    await backend.sparesReady();
    const big = await launch(await appFunction({ name: 'big', handler: 'index.env', memorySize: 1024 }));
    expect(basename(big.handle.dir)).not.toMatch(/^spare-/);
    const { env } = (await invoke(big)).json as { env: Record<string, string> };
    expect(env.NODE_OPTIONS).toContain('--max-old-space-size=1024');
  });

  it('finds layer modules through NODE_PATH, later layers overwriting earlier ones', async () => {
    const layers = await makeLayers();
    try {
      const fn = await appFunction({
        name: 'layers',
        handler: 'index.layer',
        layers: [layers.base, layers.versioned, layers.override, layers.bin],
      });
      const instance = await launch(fn);
      const { handle } = instance;
      const res = await invoke(instance);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        lib: 'override layer',
        versioned: 'node22 folder',
        resolved: '/opt/nodejs/node_modules/layer-lib/index.js',
      });
      // The executable bit survives zipping and unpacking (tools in /opt/bin must run).
      expect(statSync(join(handle.optDir, 'bin/layer-tool')).mode & 0o111).not.toBe(0);

      // Attach order decides: with the base layer last, its file wins.
      const reversed = await appFunction({
        name: 'layers-reversed',
        handler: 'index.layer',
        layers: [layers.override, layers.versioned, layers.base],
      });
      const second = await launch(reversed);
      expect(((await invoke(second)).json as { lib: string }).lib).toBe('base layer');
    } finally {
      await rm(join(layers.base, '..'), { recursive: true, force: true });
    }
  });

  it('runs code given as a .zip file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ltk-zip-code-'));
    try {
      const zipPath = join(dir, 'function.zip');
      await writeFile(zipPath, await zipDirectory(join(fixturesDir, 'app')));
      const fn = await resolveFunction(
        { name: 'zipped', runtime: 'nodejs22.x', handler: 'index.handler', code: zipPath },
        { root: dir },
      );
      const instance = await launch(fn);
      const { handle } = instance;
      expect(existsSync(join(handle.taskRoot, 'index.js'))).toBe(true);
      const res = await invoke(instance, { from: 'zip' });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ invocations: 1, echo: { from: 'zip' } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('recovers on the next invoke after a timeout (fresh runtime process)', async () => {
    // 2 s: the first (cold) call must fit on a loaded machine; the 3 s call still times out.
    const fn = await appFunction({ name: 'slow', handler: 'index.slow', timeout: 2 });
    const instance = await launch(fn);
    const first = (await invoke(instance)).json as Counted;
    const timedOut = await invoke(instance, { sleepMs: 3000 });
    expect(timedOut.text).toContain('Task timed out after 2.00 seconds');
    await waitFor(() => !isRunning(first.pid));
    expect(isRunning(first.pid)).toBe(false);

    const next = await invoke(instance);
    expect(next.status).toBe(200);
    const n = next.json as Counted;
    expect(n.invocations).toBe(1);
    expect(n.pid).not.toBe(first.pid);
  });

  it('recovers on the next invoke after process.exit(1) in the handler', async () => {
    const fn = await appFunction({ name: 'exit', handler: 'index.exit' });
    const instance = await launch(fn);
    const crashed = await invoke(instance, { exit: true });
    expect(crashed.status).toBe(502);
    expect(crashed.text).toContain('Runtime.ExitError');

    const next = await invoke(instance);
    expect(next.status).toBe(200);
    expect((next.json as Counted).invocations).toBe(1);
  });

  it('terminate ends the runtime and its detached children, closes the instance port, removes the folder; twice is fine', async () => {
    const fn = await appFunction({ name: 'terminate-me', handler: 'index.daemon' });
    const instance = await backend.launch(fn, launchContext(runId));
    const { handle } = instance;
    const { pid: runtimePid, daemonPid } = (await invoke(instance)).json as Counted & { daemonPid: number };
    expect(isRunning(runtimePid)).toBe(true);
    expect(isRunning(daemonPid)).toBe(true);
    expect(processesUnder(handle.dir).sort()).toEqual([runtimePid, daemonPid].sort());

    await backend.terminate(handle);
    for (const pid of [runtimePid, daemonPid]) expect(isRunning(pid)).toBe(false);
    await expect(invoke(instance)).rejects.toThrow(/ECONNREFUSED/);
    expect(processesUnder(handle.dir)).toEqual([]);
    expect(existsSync(handle.dir)).toBe(false);
    expect(backend.logs(handle)).toBeUndefined();
    await expect(backend.terminate(handle)).resolves.toBeUndefined();
  });

  it('rejects a non-Node runtime with a ConfigError that points to the Docker backend', async () => {
    const fn = await resolveFunction(
      { name: 'py', runtime: 'python3.13', handler: 'app.handler', code: join(fixturesDir, 'app') },
      { root: fixturesDir },
    );
    const error = await backend.launch(fn, launchContext(runId)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: ErrorCodes.UNSUPPORTED_RUNTIME });
    expect((error as Error).message).toMatch(/python3\.13.*Node\.js functions only.*Docker backend/s);
  });
});

describe('ProcessBackend against other local processes (docs/security.md)', () => {
  it('the instance port answers only calls that carry its invoke secret', async () => {
    const instance = await launch(await appFunction({ name: 'guarded' }));
    for (const secret of [null, 'guessed', `${instance.invokeSecret}x`]) {
      const denied = await invoke(instance, { n: 1 }, secret);
      expect(denied.status).toBe(403);
      expect(denied.json).toMatchObject({ errorType: 'AccessDenied' });
    }
    const byGet = await request(`${instance.endpoint}${INVOKE_PATH}`, {
      method: 'GET',
      headers: { origin: 'http://evil.example', host: 'localhost' },
    });
    expect(byGet.statusCode).toBe(403);
    await byGet.body.dump();
    // Nothing of those reached the handler: the first call that does is its first invocation.
    const allowed = await invoke(instance, { n: 2 });
    expect(allowed.status).toBe(200);
    expect(allowed.json).toMatchObject({ invocations: 1, echo: { n: 2 } });
  });

  it('a sender dripping a body into the instance port does not hold the sandbox', async () => {
    const instance = await launch(await appFunction({ name: 'dripped' }));
    const port = Number(new URL(instance.endpoint).port);
    // Even with the secret (the worst case): the sandbox is taken only once a whole request is in.
    const slow = connect(port, '127.0.0.1');
    slow.on('error', () => {});
    // `100 Continue` comes back once the emulator has the headers: only then is the race set up.
    const headersIn = new Promise<void>((resolve) =>
      slow.on('data', (chunk: Buffer) => {
        if (chunk.toString('latin1').includes(' 100 ')) resolve();
      }),
    );
    slow.write(
      `POST ${INVOKE_PATH} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n` +
        `x-lambda-testkit-invoke-secret: ${instance.invokeSecret}\r\nContent-Length: 1000\r\n\r\n`,
    );
    await headersIn;
    slow.write('{');
    const drip = setInterval(() => slow.write(' '), 50);
    try {
      for (let n = 1; n <= 2; n++) {
        const answer = await invoke(instance, { n });
        expect(answer.status).toBe(200);
        expect(answer.json).toMatchObject({ echo: { n } });
      }
    } finally {
      clearInterval(drip);
      slow.destroy();
    }
  });

  // Which process holds a Runtime API connection is read from /proc: Linux only (docs/security.md).
  it.runIf(process.platform === 'linux')(
    'another process can neither take events from the Runtime API nor answer them',
    async () => {
      const instance = await launch(await appFunction({ name: 'hijack', handler: 'index.note' }));
      // The handler writes to its own /tmp, which is the instance's tmp folder on the host.
      const idFile = join(instance.handle.dir, 'tmp', 'hijack-request-id');
      const warm = await invoke(instance, { idFile: '/tmp/hijack-request-id' });
      const { runtimeApi } = warm.json as { runtimeApi: string };
      expect(runtimeApi).toMatch(/^127\.0\.0\.1:\d+$/);
      const api = `http://${runtimeApi}/2018-06-01/runtime`;

      // The runtime waits on /next; a second /next from here must neither replace it nor wait.
      const stolen = await request(`${api}/invocation/next`, { headersTimeout: 10_000 });
      expect(stolen.statusCode).toBe(403);
      expect(await stolen.body.json()).toMatchObject({ errorType: 'AccessDenied' });

      // A forged answer for the request in flight is refused; the handler's own answer goes through.
      await rm(idFile, { force: true });
      const pending = invoke(instance, { idFile: '/tmp/hijack-request-id', sleepMs: 1_000 });
      expect(await waitFor(() => existsSync(idFile) && readFileSync(idFile, 'utf8') !== '', 10_000)).toBe(
        true,
      );
      const requestId = readFileSync(idFile, 'utf8');
      const forged = await request(`${api}/invocation/${requestId}/response`, {
        method: 'POST',
        body: '{"hijacked":true}',
      });
      expect(forged.statusCode).toBe(403);
      await forged.body.dump();
      expect((await pending).json).toMatchObject({ genuine: true });
    },
  );
});

describe('ProcessBackend launch failures', () => {
  it('reports a bootstrap that does not exist with LAUNCH_FAILED, leaving no folder', async () => {
    const broken = new ProcessBackend({ rootDir, bootstrap: join(fixturesDir, 'no-such-bootstrap.mjs') });
    const ctx = launchContext(runId);
    const error = await broken.launch(await appFunction({ name: 'broken' }), ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: ErrorCodes.LAUNCH_FAILED });
    expect((error as Error).message).toContain('no-such-bootstrap.mjs');
    expect((error as Error).message).toContain('does not exist');
    expect(existsSync(join(rootDir, runId, ctx.instanceId))).toBe(false);
    await broken.close();
  });

  it('refuses a negative number of spare runtimes with a ConfigError', () => {
    expect(() => new ProcessBackend({ rootDir, spareRuntimes: -1 })).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID }),
    );
  });

  it('stops a launch when the pool aborts it, leaving no process and no folder', async () => {
    const aborting = new ProcessBackend({ rootDir });
    const controller = new AbortController();
    const ctx = { ...launchContext(runId), signal: controller.signal };
    controller.abort(new Error('pool stopping'));
    const error = await aborting.launch(await appFunction({ name: 'aborted' }), ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.LAUNCH_FAILED });
    expect((error as Error).message).toContain('aborted');
    expect(processesUnder(join(rootDir, runId, ctx.instanceId))).toEqual([]);
    expect(existsSync(join(rootDir, runId, ctx.instanceId))).toBe(false);
    await aborting.close();
  });

  it('refuses a duplicate instance id without harming the instance that has it', async () => {
    const fn = await appFunction({ name: 'duplicate' });
    const ctx = launchContext(runId);
    const first = await launch(fn);
    const sameId = { ...ctx, instanceId: first.handle.instanceId };
    const error = await backend.launch(fn, sameId).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.LAUNCH_FAILED });
    expect(existsSync(first.handle.taskRoot)).toBe(true);
    expect((await invoke(first)).status).toBe(200);
  });

  it('refuses to launch after close()', async () => {
    const closed = new ProcessBackend({ rootDir });
    await closed.close();
    await closed.close();
    const error = await closed
      .launch(await appFunction({ name: 'late' }), launchContext(runId))
      .catch((e) => e);
    expect(error).toMatchObject({ code: ErrorCodes.LAUNCH_FAILED });
  });
});

describe('ProcessBackend crash safety', () => {
  it('close() terminates every instance still running and removes the run folder', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ltk-close-'));
    const closing = new ProcessBackend({ rootDir: own });
    const fn = await appFunction({ name: 'close-me' });
    const a = await closing.launch(fn, launchContext('close-run'));
    const b = await closing.launch(fn, launchContext('close-run'));
    const pids = [((await invoke(a)).json as Counted).pid, ((await invoke(b)).json as Counted).pid];
    await closing.sparesReady();
    await closing.close();
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    expect(processesUnder(own)).toEqual([]);
    expect(existsSync(join(own, 'close-run'))).toBe(false);
    await rm(own, { recursive: true, force: true });
  });

  it('closing one backend of a run leaves the instances of another backend of that run alone', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ltk-two-backends-'));
    try {
      const fn = await appFunction({ name: 'shared-run' });
      // Without spares: a spare of `first` waiting in the run folder would (rightly) keep it.
      const first = new ProcessBackend({ rootDir: own, spareRuntimes: 0 });
      const second = new ProcessBackend({ rootDir: own, spareRuntimes: 0 });
      const kept = await first.launch(fn, launchContext('shared'));
      await second.launch(fn, launchContext('shared'));
      await second.close();
      expect(existsSync(kept.handle.taskRoot)).toBe(true);
      expect((await invoke(kept)).status).toBe(200);
      // Once no instance is left, a close removes the run folder; the other backend makes it again.
      await first.terminate(kept.handle);
      const third = new ProcessBackend({ rootDir: own, spareRuntimes: 0 });
      await third.launch(fn, launchContext('shared'));
      await third.close();
      expect(existsSync(join(own, 'shared'))).toBe(false);
      const again = await first.launch(fn, launchContext('shared'));
      expect((await invoke(again)).status).toBe(200);
      expect(existsSync(join(own, 'shared', 'owner.json'))).toBe(true);
      await first.close();
      expect(existsSync(join(own, 'shared'))).toBe(false);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('sweeps dead runs on its first launch, and only those', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ltk-first-launch-'));
    const strays: number[] = [];
    try {
      const deadPid = Number(
        spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout,
      );
      const owner = (host: string) =>
        JSON.stringify({ pid: deadPid, hostname: host, runId: 'x', startedAt: '' });
      // A dead run whose instance never got to write instance.json, with a process still running in it.
      await mkdir(join(own, 'dead-run/i-1/task'), { recursive: true });
      await writeFile(join(own, 'dead-run/owner.json'), owner(hostname()));
      const stray = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
        detached: true,
        stdio: 'ignore',
        env: { LAMBDA_TESTKIT_SANDBOX: join(own, 'dead-run/i-1') },
      });
      stray.unref();
      strays.push(stray.pid!);
      // Not ours to judge: another host's run, and a folder without an owner file.
      await mkdir(join(own, 'other-host-run'), { recursive: true });
      await writeFile(join(own, 'other-host-run/owner.json'), owner(`${hostname()}-elsewhere`));
      await mkdir(join(own, 'not-a-run'), { recursive: true });
      expect(await waitFor(() => processesUnder(join(own, 'dead-run')).length === 1)).toBe(true);

      const fresh = new ProcessBackend({ rootDir: own });
      await fresh.launch(await appFunction({ name: 'first' }), launchContext('new-run'));
      expect(existsSync(join(own, 'dead-run'))).toBe(false);
      expect(isRunning(stray.pid!)).toBe(false);
      expect(existsSync(join(own, 'other-host-run'))).toBe(true);
      expect(existsSync(join(own, 'not-a-run'))).toBe(true);
      await fresh.close();
      expect(existsSync(join(own, 'new-run'))).toBe(false);
    } finally {
      for (const pid of strays) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
      await rm(own, { recursive: true, force: true });
    }
  });

  it('`lambda-testkit clean` sweeps dead runs by hand, and says so when no engine answers', async () => {
    // The command sweeps os.tmpdir()/lambda-testkit; TMPDIR points that at a folder of this test.
    const tmp = await mkdtemp(join(tmpdir(), 'ltk-clean-'));
    const root = join(tmp, 'lambda-testkit');
    const strays: number[] = [];
    try {
      const deadPid = Number(
        spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout,
      );
      await mkdir(join(root, 'dead-run/i-1/task'), { recursive: true });
      await writeFile(
        join(root, 'dead-run/owner.json'),
        JSON.stringify({ pid: deadPid, hostname: hostname(), runId: 'dead-run', startedAt: '' }),
      );
      const stray = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
        detached: true,
        stdio: 'ignore',
        env: { LAMBDA_TESTKIT_SANDBOX: join(root, 'dead-run/i-1') },
      });
      stray.unref();
      strays.push(stray.pid!);
      const live = new ProcessBackend({ rootDir: root, reapOnFirstLaunch: false });
      await live.launch(await appFunction({ name: 'live' }), launchContext('live-run'));

      const result = spawnSync(process.execPath, [cli, 'clean'], {
        encoding: 'utf8',
        // A socket nobody listens on: the container half must report, not fail the command.
        env: { ...process.env, TMPDIR: tmp, DOCKER_HOST: `unix://${join(tmp, 'no-docker.sock')}` },
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain(`1 process sandbox(es) removed from ${root}.`);
      expect(result.stdout).toContain('containers not checked:');
      expect(result.stdout).toContain('no-docker.sock');
      expect(existsSync(join(root, 'dead-run'))).toBe(false);
      expect(isRunning(stray.pid!)).toBe(false);
      expect(existsSync(join(root, 'live-run'))).toBe(true);
      await live.close();
    } finally {
      for (const pid of strays) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('a new backend sweeps the processes and folders of a run whose owner was SIGKILLed', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ltk-sweep-'));
    try {
      const owner = spawn(process.execPath, [join(fixturesDir, 'owner-process.mjs'), own, 'doomed-run'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      owner.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const report = await new Promise<{
        runtimePid: number;
        daemonPid: number;
        dir: string;
      }>((resolve, reject) => {
        let out = '';
        owner.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(JSON.parse(out));
        });
        owner.once('exit', (code) => reject(new Error(`owner process exited (${code}): ${stderr}`)));
      });
      const exited = new Promise((r) => owner.once('exit', r));
      owner.kill('SIGKILL');
      await exited;

      // The orphan guard kills the runtimes of a pool that died (the instance's, and the spare
      // its launch asked for), frozen as they are; what the dead run leaves is its folder and
      // the handler's detached daemon, which only the sweep of dead runs finds.
      expect(await waitFor(() => !isRunning(report.runtimePid), 10_000)).toBe(true);
      expect(existsSync(report.dir)).toBe(true);
      expect(isRunning(report.daemonPid)).toBe(true);
      const leftovers = processesUnder(join(own, 'doomed-run'));
      expect(leftovers).toContain(report.daemonPid);

      // A live run in the same root must survive the sweep.
      const neighbour = new ProcessBackend({ rootDir: own, reapOnFirstLaunch: false });
      const live = await neighbour.launch(
        await appFunction({ name: 'neighbour' }),
        launchContext('live-run'),
      );

      const sweeper = new ProcessBackend({ rootDir: own });
      expect(await sweeper.reapStale()).toBe(1);
      for (const pid of [report.runtimePid, report.daemonPid, ...leftovers]) {
        expect(isRunning(pid)).toBe(false);
      }
      expect(processesUnder(join(own, 'doomed-run'))).toEqual([]);
      expect(existsSync(join(own, 'doomed-run'))).toBe(false);

      expect((await invoke(live)).status).toBe(200);
      expect(await sweeper.reapStale()).toBe(0);
      await neighbour.close();
      await sweeper.close();
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
