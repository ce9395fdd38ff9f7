// Pull progress and pull errors, against a fake engine that replays a pull stream (no Docker needed).
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { PrepareProgress } from '../../backend.ts';
import { ErrorCodes } from '../../errors.ts';
import { ensureImage } from './image-pull.ts';

const MB = 1024 * 1024;

/** An engine where `image` appears once its pull stream ended without error. */
function fakeEngine(events: object[], options: { pullThrows?: Error } = {}): Dockerode {
  let present = false;
  let pulled = false;
  const fake = {
    getImage: () => ({
      inspect: async () => {
        if (present) return { Id: 'sha256:x' };
        throw Object.assign(new Error('no such image'), { statusCode: 404 });
      },
    }),
    pull: async () => {
      if (options.pullThrows) throw options.pullThrows;
      pulled = true;
      return Readable.from(events.map((e) => `${JSON.stringify(e)}\n`));
    },
    modem: {
      followProgress(
        stream: Readable,
        onFinished: (e: Error | null) => void,
        onProgress: (e: object) => void,
      ) {
        let text = '';
        stream.on('data', (c: Buffer | string) => {
          text += c.toString();
        });
        stream.on('end', () => {
          for (const line of text.split('\n').filter(Boolean)) onProgress(JSON.parse(line) as object);
          if (pulled && !events.some((e) => 'error' in e)) present = true;
          onFinished(null);
        });
      },
    },
  };
  return fake as unknown as Dockerode;
}

describe('ensureImage', () => {
  it('reports layers and megabytes while pulling, and a last line when done', async () => {
    const progress: PrepareProgress[] = [];
    const result = await ensureImage(
      fakeEngine([
        { id: 'l1', status: 'Pulling fs layer' },
        { id: 'l2', status: 'Pulling fs layer' },
        { id: 'l1', status: 'Downloading', progressDetail: { current: 10 * MB, total: 100 * MB } },
        { id: 'l1', status: 'Pull complete' },
        { id: 'l2', status: 'Downloading', progressDetail: { current: 5 * MB, total: 50 * MB } },
        { id: 'l2', status: 'Pull complete' },
      ]),
      'public.ecr.aws/lambda/nodejs:22',
      (p) => progress.push(p),
    );
    expect(result).toBe('pulled');
    const messages = progress.map((p) => p.message);
    expect(messages[0]).toBe('pulling public.ecr.aws/lambda/nodejs:22');
    expect(messages).toContain('pulling public.ecr.aws/lambda/nodejs:22: 1/2 layers, 100.0/100.0 MB');
    expect(messages).toContain('pulling public.ecr.aws/lambda/nodejs:22: 2/2 layers, 150.0/150.0 MB');
    expect(messages.at(-1)).toBe('pulled public.ecr.aws/lambda/nodejs:22');
  });

  it('an error line in the pull stream is IMAGE_UNAVAILABLE naming the image and the way out', async () => {
    const error = await ensureImage(
      fakeEngine([{ error: 'manifest for public.ecr.aws/lambda/nodejs:99 not found' }]),
      'public.ecr.aws/lambda/nodejs:99',
      () => {},
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
    expect((error as Error).message).toContain('"public.ecr.aws/lambda/nodejs:99"');
    expect((error as Error).message).toContain('manifest for public.ecr.aws/lambda/nodejs:99 not found');
    expect((error as Error).message).toContain('lambda-testkit build-image');
  });

  it('a registry that cannot be reached is IMAGE_UNAVAILABLE too', async () => {
    const error = await ensureImage(
      fakeEngine([], { pullThrows: new Error('dial tcp: lookup public.ecr.aws: no such host') }),
      'public.ecr.aws/lambda/nodejs:22',
      () => {},
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
    expect((error as Error).message).toContain('no such host');
  });
});
