/**
 * The debugger scenario both backends' suites run: a TypeScript handler bundled with its source
 * map, `debug` on, a debugger attached over the inspector's WebSocket, a breakpoint that pauses the
 * invocation past the function's own timeout, and the result once resumed.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type DebugOptions,
  type InvocationOutcome,
  loadFunctionSpecs,
  type ResolvedFunction,
  resolveFunction,
} from '@lambda-testkit/core';
import { type DebuggerLines, InspectorSession } from './inspector-session.ts';

export const debugFixtureDir = fileURLToPath(new URL('./fixtures/debug-handler/', import.meta.url));
const SOURCE = join(debugFixtureDir, 'handler.ts');
const MARKER = '// BREAKPOINT';

export interface DebugFunctionOptions {
  name?: string;
  debug?: boolean | DebugOptions;
  /** Seconds; short, so that a pause longer than it proves the timeout lifted. */
  timeout?: number;
  image?: string;
}

/** The fixture handler bundled (esbuild, source map on) and resolved, with `debug` as given; and its bundle folder. */
export async function debugFunction(
  options: DebugFunctionOptions = {},
): Promise<{ fn: ResolvedFunction; bundleDir: string }> {
  const name = options.name ?? 'dbg';
  const [spec] = await loadFunctionSpecs(
    {
      functions: {
        [name]: {
          runtime: 'nodejs22.x',
          handler: 'handler.handler',
          entry: 'handler.ts',
          timeout: options.timeout ?? 1,
          debug: options.debug ?? { wait: true },
          ...(options.image ? { image: options.image } : {}),
        },
      },
    },
    debugFixtureDir,
  );
  if (!spec?.code) throw new Error('the debug fixture did not load');
  return { fn: await resolveFunction(spec, { root: debugFixtureDir }), bundleDir: spec.code };
}

/** Where the marker line is: in the TypeScript source (1-based) and in the bundle (0-based, as CDP counts). */
export function breakpointLines(bundleDir: string): { tsLine: number; bundleLine: number; map: SourceMap } {
  const tsLine =
    readFileSync(SOURCE, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(MARKER)) + 1;
  const bundle = readFileSync(join(bundleDir, 'index.js'), 'utf8');
  const bundleLine = bundle.split('\n').findIndex((l) => l.includes('pid: process.pid'));
  const map = new SourceMap(JSON.parse(readFileSync(join(bundleDir, 'index.js.map'), 'utf8')));
  if (tsLine < 1 || bundleLine < 0)
    throw new Error('the breakpoint marker is missing from the fixture or its bundle');
  return { tsLine, bundleLine, map };
}

export interface BreakpointRun {
  /** The debugger line printed for the instance. */
  line: string;
  /** `Debugger.scriptParsed` of the script paused in: its URL and source map URL. */
  script: { url: string; sourceMapURL: string };
  /** Where the runtime paused: 0-based line, and that line mapped through the bundle's source map. */
  pausedLine: number;
  original: { source: string; line: number };
  /** `event.id` evaluated in the paused frame. */
  eventId: unknown;
  expected: { tsLine: number; bundleLine: number; source: string };
  outcome: InvocationOutcome;
}

/**
 * With a function whose runtime waits for its debugger: starts `invoke`, attaches to the address of
 * the printed line, sets a breakpoint on the marker line of the bundle (by URL, before the script
 * loads, as VS Code does), lets the runtime run, stays paused `pauseMs`, resumes, and returns what
 * it saw and the invocation's outcome.
 */
export async function runToBreakpoint(options: {
  invoke: () => Promise<InvocationOutcome>;
  lines: DebuggerLines;
  bundleDir: string;
  pauseMs: number;
}): Promise<BreakpointRun> {
  const expected = breakpointLines(options.bundleDir);
  const invocation = options.invoke();
  // Surfaces an invoke that fails before the debugger line instead of a bare line timeout.
  const early = invocation.then((o) => {
    throw new Error(`the invocation ended before a debugger attached: ${JSON.stringify(o.kind)}`);
  });
  const { url, line } = await Promise.race([options.lines.next(), early]);
  const session = await InspectorSession.connect(url);
  try {
    await session.send('Debugger.enable');
    await session.send('Runtime.enable');
    // Anchored at the task folder: the local image's runtime client is an index.js too.
    await session.send('Debugger.setBreakpointByUrl', {
      urlRegex: '/task/index\\.js$',
      lineNumber: expected.bundleLine,
    });
    await session.send('Runtime.runIfWaitingForDebugger');
    const paused = await session.waitFor('Debugger.paused');
    const frame = (
      paused.callFrames as Array<{
        callFrameId: string;
        location: { scriptId: string; lineNumber: number; columnNumber: number };
      }>
    )[0];
    if (!frame) throw new Error('Debugger.paused without a call frame');
    // The script the runtime paused in (the runtime may compile the bundle more than once).
    const scriptParsed = await session.waitFor(
      'Debugger.scriptParsed',
      (p) => p.scriptId === frame.location.scriptId,
    );
    const entry = expected.map.findEntry(frame.location.lineNumber, frame.location.columnNumber) as {
      originalSource?: string;
      originalLine?: number;
    };
    const evaluated = (await session.send('Debugger.evaluateOnCallFrame', {
      callFrameId: frame.callFrameId,
      expression: 'event.id',
      returnByValue: true,
    })) as { result?: { value?: unknown } };
    await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    await session.send('Debugger.resume');
    const outcome = await Promise.race([
      invocation,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the invocation did not end within 30 s of the resume')), 30_000),
      ),
    ]);
    return {
      line,
      script: { url: String(scriptParsed.url), sourceMapURL: String(scriptParsed.sourceMapURL) },
      pausedLine: frame.location.lineNumber,
      original: { source: entry.originalSource ?? '', line: (entry.originalLine ?? -2) + 1 },
      eventId: evaluated.result?.value,
      expected: { tsLine: expected.tsLine, bundleLine: expected.bundleLine, source: SOURCE },
      outcome,
    };
  } finally {
    early.catch(() => {});
    session.close();
  }
}
