// Images before the first test: one prepare per image, and a backend's notices (a function run
// elsewhere) said in one line per notice, naming every function it concerns.
import { describe, expect, it } from 'vitest';
import type { PrepareResult } from '../backend.ts';
import { BackendError, ErrorCodes } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import { FakeBackend, resolvedFunction } from '../testing/index.ts';
import { prepareImages } from './warm-up.ts';

function fn(name: string, image?: string): ResolvedFunction {
  return resolvedFunction({ name, image, deployId: `d-${name}` });
}

class NoticeBackend extends FakeBackend {
  readonly prepared: string[] = [];
  async prepare(f: ResolvedFunction): Promise<PrepareResult | undefined> {
    this.prepared.push(f.name);
    if (f.image === 'broken')
      throw new BackendError(ErrorCodes.IMAGE_UNAVAILABLE, 'Image "broken" is absent');
    return f.image === 'absent' ? { notice: 'run elsewhere: image "absent" cannot be had here' } : undefined;
  }
}

describe('prepareImages', () => {
  it('prepares one function per image; where the backend answers with a notice, the rest of that image too, and says it once', async () => {
    const backend = new NoticeBackend();
    const lines: string[] = [];
    await prepareImages(
      backend,
      [fn('a'), fn('b'), fn('c', 'absent'), fn('d', 'absent'), fn('e', 'absent')],
      (l) => lines.push(l),
    );
    expect(backend.prepared.sort()).toEqual(['a', 'c', 'd', 'e']);
    expect(lines).toEqual(['c, d, e: run elsewhere: image "absent" cannot be had here']);
  });

  it('an image that cannot be had (no notice) still fails the setup', async () => {
    const error = await prepareImages(new NoticeBackend(), [fn('a'), fn('x', 'broken')], () => {}).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
  });
});
