/**
 * The locally built image: built without any registry, cached by content hash, and laid out with
 * the base image's contract (docs/lambda-apis.md#base-image-contract,
 * docs/lambda-apis.md#filesystem-layout).
 */
import { buildLocalImage } from '@lambda-testkit/core';
import { ImageLabels } from '@lambda-testkit/core/internal';
import { beforeEach, describe, expect, it } from 'vitest';
import { compileEmulator, ensureLocalImage } from '../image/local-image.ts';
import { docker, localImage, requireDocker } from './helpers.ts';

// Every test fails (loudly, with the reason) when the global setup found no engine.
beforeEach(() => requireDocker());

describe('local Lambda image', () => {
  it('is not rebuilt when its content hash matches', async () => {
    // The first call may build (the emulator sources can change between the global setup and
    // here in a working checkout); the second, with the same inputs, must not.
    const first = await ensureLocalImage();
    const again = await ensureLocalImage();
    expect(again).toMatchObject({ tag: localImage(), built: false, contentHash: first.contentHash });
    const info = await (await docker()).getImage(localImage()).inspect();
    expect(info.Config.Labels?.[ImageLabels.hash]).toBe(again.contentHash);
  });

  it("has the base image's entrypoint, workdir and environment", async () => {
    const { Config } = await (await docker()).getImage(localImage()).inspect();
    expect(Config.Entrypoint).toEqual(['/lambda-entrypoint.sh']);
    expect(Config.WorkingDir).toBe('/var/task');
    const major = process.versions.node.split('.')[0];
    expect(Config.Env).toEqual(
      expect.arrayContaining([
        'LAMBDA_TASK_ROOT=/var/task',
        'LAMBDA_RUNTIME_DIR=/var/runtime',
        'LANG=en_US.UTF-8',
        'TZ=:/etc/localtime',
        'PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
        `NODE_PATH=/opt/nodejs/node${major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
      ]),
    );
  });

  it('its entrypoint wants exactly one argument (the handler), as AWS images do: exit 142', async () => {
    const engine = await docker();
    const container = await engine.createContainer({ Image: localImage(), Cmd: [] });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      expect(StatusCode).toBe(142);
      const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
      expect(logs).toContain('entrypoint requires the handler name to be the first argument');
    } finally {
      await container.remove({ force: true });
    }
  });

  it('a forced build under another tag gives the same content hash (the build is reproducible)', async () => {
    const tag = 'lambda-testkit/nodejs:suite-rebuild';
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const scratch = await mkdtemp(join(tmpdir(), 'ltk-rebuild-'));
    try {
      await compileEmulator(scratch);
      const original = await ensureLocalImage();
      const rebuilt = await buildLocalImage({
        tag,
        force: true,
        emulatorBuild: scratch,
        entrypointScript: new URL('../../packages/core/src/emulator/lambda-entrypoint.sh', import.meta.url)
          .pathname,
      });
      expect(rebuilt).toMatchObject({ tag, built: true, contentHash: original.contentHash });
    } finally {
      await (await docker())
        .getImage(tag)
        .remove({ force: true })
        .catch(() => {});
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
