// Backend selection without an engine (no Docker needed: DOCKER_HOST points at a socket that does not exist).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DockerBackend } from '../backends/docker/docker-backend.ts';
import { ProcessBackend } from '../backends/process/index.ts';
import { BackendError, ConfigError, ErrorCodes } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import { resolvedFunction } from '../testing/index.ts';
import { processFallbackReason, selectBackend } from './select-backend.ts';

const execFileAsync = promisify(execFile);

const MISSING = 'unix:///tmp/lambda-testkit-no-engine-here.sock';

describe('selectBackend', () => {
  beforeEach(() => {
    vi.stubEnv('DOCKER_HOST', MISSING);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("'docker' without an engine: DOCKER_UNAVAILABLE saying what was tried and how to fix it", async () => {
    const error = await selectBackend('docker', { log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: ErrorCodes.DOCKER_UNAVAILABLE });
    const message = (error as Error).message;
    expect(message).toContain(`DOCKER_HOST=${MISSING}`);
    expect(message).toContain('Start Docker');
    expect(message).toContain("backend 'process'");
  });

  it("'auto' without an engine: the process backend, said in exactly one line", async () => {
    const lines: string[] = [];
    const backend = await selectBackend('auto', { log: (l) => lines.push(l) });
    expect(backend).toBeInstanceOf(ProcessBackend);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(MISSING);
    expect(lines[0]).toContain('local processes');
    await backend.close?.();
  });

  it("'process' never asks for an engine", async () => {
    const lines: string[] = [];
    const backend = await selectBackend('process', { log: (l) => lines.push(l) });
    expect(backend).toBeInstanceOf(ProcessBackend);
    expect(lines).toEqual([]);
    await backend.close?.();
  });

  it('an unknown choice is a ConfigError listing the choices', async () => {
    const error = await selectBackend('podman' as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('docker, process, kubernetes, auto');
  });

  it("'kubernetes' without a reachable cluster: KUBERNETES_UNAVAILABLE naming the server and the way out", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ltk-select-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(
        kubeconfig,
        'apiVersion: v1\nkind: Config\nclusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]\n' +
          'users: [{ name: u, user: { token: t } }]\ncontexts: [{ name: x, context: { cluster: c, user: u } }]\n' +
          'current-context: x\n',
      );
      const error = await selectBackend('kubernetes', { log: () => {}, kubernetes: { kubeconfig } }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ code: ErrorCodes.KUBERNETES_UNAVAILABLE });
      expect((error as Error).message).toContain('https://127.0.0.1:1');
      expect((error as Error).message).toContain('kubernetes.kubeconfig');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("'auto' outside a Pod does not try Kubernetes: the process backend", async () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    const backend = await selectBackend('auto', { log: () => {} });
    expect(backend).toBeInstanceOf(ProcessBackend);
    await backend.close?.();
  });

  it('a DOCKER_HOST with credentials is not printed with them', async () => {
    vi.stubEnv('DOCKER_HOST', 'tcp://user:secret@127.0.0.1:1');
    const error = await new DockerBackend().reapStale().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.DOCKER_UNAVAILABLE });
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).message).toContain('tcp://***@127.0.0.1:1');
  });
});

describe('what a run loads', () => {
  it("loads neither Testcontainers nor the Kubernetes client for 'process' (the adapters' /host entry)", async () => {
    // A fresh Node: this suite's own process has loaded the Docker backend already.
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(new URL('../host-entry.ts', import.meta.url).href)});
      const { selectBackend } = await import(${JSON.stringify(new URL('./select-backend.ts', import.meta.url).href)});
      const backend = await selectBackend('process', { log: () => {} });
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ backend: backend.name, loaded: loaded.filter((f) => /node_modules/.test(f)) }));
    `;
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script]);
    const { backend, loaded } = JSON.parse(stdout) as { backend: string; loaded: string[] };
    expect(backend).toBe('process');
    expect(loaded.length).toBeGreaterThan(0); // the check sees CommonJS packages at all
    expect(loaded.filter((f) => /[/\\](testcontainers|dockerode|@kubernetes)[/\\]/.test(f))).toEqual([]);
  });
});

describe('processFallbackReason (auto with an engine)', () => {
  const fn = (runtime: string): ResolvedFunction => resolvedFunction({ runtime, deployId: 'd' });
  const unavailable = new BackendError(ErrorCodes.IMAGE_UNAVAILABLE, 'Image "x" is not present', {
    details: {
      image: 'public.ecr.aws/lambda/nodejs:22',
      reason: '(HTTP code 500) server error - dial tcp: lookup public.ecr.aws: no such host',
    },
  });

  it('sends a Node.js function whose image cannot be had to the process backend, naming image and reason', () => {
    expect(processFallbackReason(fn('nodejs22.x'), unavailable)).toBe(
      'image "public.ecr.aws/lambda/nodejs:22" cannot be had here (dial tcp: lookup public.ecr.aws: no such host). ' +
        "backend 'docker' would stop here; to keep such a function in a container, build an image (lambda-testkit build-image) and select it",
    );
  });

  it('keeps other runtimes and other errors where they are', () => {
    expect(processFallbackReason(fn('python3.13'), unavailable)).toBeUndefined();
    const launch = new BackendError(ErrorCodes.LAUNCH_FAILED, 'container exited');
    expect(processFallbackReason(fn('nodejs22.x'), launch)).toBeUndefined();
    expect(processFallbackReason(fn('nodejs22.x'), new Error('boom'))).toBeUndefined();
  });
});
