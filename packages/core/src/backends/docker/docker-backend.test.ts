// DockerBackend decisions that need no engine: which image a function runs in, deprecation warnings.
import { describe, expect, it } from 'vitest';
import { resolvedFunction as fn } from '../../testing/resolved-function.ts';
import { DockerBackend, demuxLogLines } from './docker-backend.ts';

describe('DockerBackend.imageFor', () => {
  it("defaults to the runtime's official base image", () => {
    const backend = new DockerBackend({ log: () => {} });
    expect(backend.imageFor(fn())).toBe('public.ecr.aws/lambda/nodejs:22');
    expect(backend.imageFor(fn({ runtime: 'python3.13' }))).toBe('public.ecr.aws/lambda/python:3.13');
  });

  it("uses the run's image per runtime, and a function's own image before it", () => {
    const backend = new DockerBackend({ images: { 'nodejs22.x': 'local/node:22' }, log: () => {} });
    expect(backend.imageFor(fn())).toBe('local/node:22');
    expect(backend.imageFor(fn({ runtime: 'nodejs24.x' }))).toBe('public.ecr.aws/lambda/nodejs:24');
    expect(backend.imageFor(fn({ image: 'mine/fn:1' }))).toBe('mine/fn:1');
  });

  it('warns once per deprecated runtime', () => {
    const lines: string[] = [];
    const backend = new DockerBackend({ log: (l) => lines.push(l) });
    backend.imageFor(fn({ runtime: 'nodejs18.x' }));
    backend.imageFor(fn({ runtime: 'nodejs18.x' }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('nodejs18.x was deprecated');
  });

  it('warns about a deprecated runtime also when an image override replaces its base image', () => {
    const lines: string[] = [];
    const backend = new DockerBackend({
      images: { 'nodejs20.x': 'local/node:20' },
      log: (l) => lines.push(l),
    });
    expect(backend.imageFor(fn({ runtime: 'nodejs20.x' }))).toBe('local/node:20');
    expect(backend.imageFor(fn({ runtime: 'python3.9', image: 'mine/py:3.9' }))).toBe('mine/py:3.9');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('nodejs20.x was deprecated');
    expect(lines[1]).toContain('python3.9 was deprecated');
  });

  it('a supported runtime warns about nothing', () => {
    const lines: string[] = [];
    const backend = new DockerBackend({ log: (l) => lines.push(l) });
    backend.imageFor(fn({ runtime: 'nodejs24.x' }));
    backend.imageFor(fn({ runtime: 'nodejs22.x', image: 'mine/fn:1' }));
    expect(lines).toEqual([]);
  });

  it('an unknown runtime without an image fails with the known ones', () => {
    const backend = new DockerBackend({ log: () => {} });
    expect(() => backend.imageFor(fn({ runtime: 'cobol1.0' }))).toThrow(/Unsupported runtime "cobol1.0"/);
  });
});

describe('demuxLogLines', () => {
  function frame(stream: 1 | 2, text: string): Buffer {
    const body = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
  }

  it('joins the stdout and stderr frames of a logs answer into lines', () => {
    const raw = Buffer.concat([frame(1, 'START one\npart'), frame(2, 'ial\r\n'), frame(1, 'REPORT one\n')]);
    expect(demuxLogLines(raw)).toEqual(['START one', 'partial', 'REPORT one']);
  });

  it('reads an unframed answer (a container with a TTY) as plain text', () => {
    expect(demuxLogLines(Buffer.from('plain line\nsecond\n'))).toEqual(['plain line', 'second']);
  });
});

describe('DockerBackend lifecycle', () => {
  it('`await using` closes it at the end of the scope: a later launch is refused', async () => {
    let scoped: DockerBackend;
    {
      await using backend = new DockerBackend({ log: () => {} });
      scoped = backend;
    }
    const context = { instanceId: 'i-1', runId: 'r', region: 'us-east-1', accountId: '123456789012' };
    await expect(scoped.launch(fn(), context)).rejects.toThrow(/this Docker backend was closed/);
  });
});
