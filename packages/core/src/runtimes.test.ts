// The runtime table as issue 4 names it: identifier → official base image, deprecations, unknown ids.
import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from './errors.ts';
import { deprecationWarning, findRuntime, RETIRED_RUNTIMES, RUNTIMES, runtimeInfo } from './runtimes.ts';

describe('runtime table', () => {
  it.each([
    ['nodejs22.x', 'public.ecr.aws/lambda/nodejs:22'],
    ['nodejs24.x', 'public.ecr.aws/lambda/nodejs:24'],
    ['python3.12', 'public.ecr.aws/lambda/python:3.12'],
    ['python3.13', 'public.ecr.aws/lambda/python:3.13'],
    ['python3.14', 'public.ecr.aws/lambda/python:3.14'],
    ['java21', 'public.ecr.aws/lambda/java:21'],
    ['java25', 'public.ecr.aws/lambda/java:25'],
    ['dotnet8', 'public.ecr.aws/lambda/dotnet:8'],
    ['dotnet10', 'public.ecr.aws/lambda/dotnet:10'],
    ['ruby3.3', 'public.ecr.aws/lambda/ruby:3.3'],
    ['ruby3.4', 'public.ecr.aws/lambda/ruby:3.4'],
    ['provided.al2023', 'public.ecr.aws/lambda/provided:al2023'],
  ])('%s runs in %s and is not deprecated', (id, image) => {
    const info = runtimeInfo(id);
    expect(info.image).toBe(image);
    expect(deprecationWarning(info)).toBeUndefined();
  });

  it('every row names an image of the official repository, once per identifier', () => {
    const ids = RUNTIMES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of RUNTIMES) expect(r.image).toMatch(/^public\.ecr\.aws\/lambda\/[a-z]+:[a-z0-9.]+$/);
  });

  it('a deprecated runtime is known, and its warning names it and the date', () => {
    const info = runtimeInfo('nodejs18.x');
    expect(info.image).toBe('public.ecr.aws/lambda/nodejs:18');
    expect(deprecationWarning(info)).toBe(
      'lambda-testkit: runtime nodejs18.x was deprecated by AWS on 2025-09-01; new functions cannot use it. Consider a newer runtime.',
    );
  });

  it('an unknown identifier fails with UNSUPPORTED_RUNTIME and the list of known ones', () => {
    expect(findRuntime('nodejs99.x')).toBeUndefined();
    let error: unknown;
    try {
      runtimeInfo('nodejs99.x');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: ErrorCodes.UNSUPPORTED_RUNTIME });
    const message = (error as Error).message;
    expect(message).toContain('"nodejs99.x"');
    for (const r of RUNTIMES) expect(message).toContain(r.id);
    expect(message).toContain('"image"');
  });

  it.each([
    ['go1.x', 'provided.al2023'],
    ['nodejs16.x', 'nodejs22.x'],
    ['python3.8', 'python3.13'],
  ])(
    'a retired identifier (%s) fails with UNSUPPORTED_RUNTIME naming it retired and what to move to',
    (id, successor) => {
      expect(findRuntime(id)).toBeUndefined();
      expect(RETIRED_RUNTIMES[id]).toContain(successor);
      expect(() => runtimeInfo(id)).toThrow(
        expect.objectContaining({
          code: ErrorCodes.UNSUPPORTED_RUNTIME,
          message: expect.stringContaining(`Runtime "${id}" is retired`),
          details: expect.objectContaining({ reason: `runtime ${id} is retired` }),
        }),
      );
      expect(() => runtimeInfo(id)).toThrow(`Move the function to ${successor}`);
    },
  );
});
