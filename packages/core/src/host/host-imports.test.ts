// The host path loads a dependency when a run uses what it is for (docs/architecture.md#loading-on-first-use):
// a fresh Node goes through a process-backend run (__fixtures__/load-probe.mjs) and reports the
// packages loaded after each step. Importing the host entry, reading an inline configuration and
// starting the run's host on zipped code load none of the heavy ones; zipping a folder loads archiver,
// launching a function yauzl, a streamed answer @smithy/core, each only then.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipDirectory } from '../packaging/zip.ts';

/** Packages a process-backend run of inline functions must not load until a feature needs them. */
const HEAVY = [
  'yaml', // SAM/CloudFormation YAML templates
  'archiver', // zipping a code folder
  'zip-stream',
  'compress-commons',
  'crc32-stream',
  'tar-stream',
  'readdir-glob',
  'minimatch',
  'readable-stream',
  'yauzl', // unpacking code for a launch
  '@smithy/core', // response streaming's event stream
  'esbuild', // bundling an `entry`
  'testcontainers', // Docker backend
  'dockerode',
  '@kubernetes/client-node', // Kubernetes backend
];

/** archiver and the packages it loads with it. */
const ARCHIVER = [
  'archiver',
  'zip-stream',
  'compress-commons',
  'crc32-stream',
  'tar-stream',
  'readdir-glob',
  'minimatch',
  'readable-stream',
];

const HANDLERS = `
export const echo = async (event) => event;
export const stream = awslambda.streamifyResponse(async (_event, responseStream) => {
  responseStream.write('streamed ');
  responseStream.end('answer');
});
`;

interface ProbeReport {
  steps: Record<'entry' | 'acquireZip' | 'acquireFolder' | 'invoke' | 'invokeStream', string[]>;
  echoed: unknown;
  streamed: string;
  outcome: string;
}

let dir: string;
let report: ProbeReport;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ltk-host-imports-'));
  mkdirSync(join(dir, 'handler'));
  writeFileSync(join(dir, 'handler', 'index.mjs'), HANDLERS);
  writeFileSync(join(dir, 'code.zip'), await zipDirectory(join(dir, 'handler')));
  const probe = fileURLToPath(new URL('./__fixtures__/load-probe.mjs', import.meta.url));
  // From core's folder, so `@lambda-testkit/core/host` resolves to this package (by its own name).
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=lambda-testkit-source', probe, dir],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 60_000 },
  );
  report = JSON.parse(stdout) as ProbeReport;
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const heavyIn = (packages: string[], except: string[] = []) =>
  packages.filter((name) => HEAVY.includes(name) && !except.includes(name));

describe('@lambda-testkit/core/host loads dependencies on first use', () => {
  it('loads none of the heavy packages with the entry', () => {
    expect(report.steps.entry).toContain('undici'); // the probe sees packages: the pool's client is one
    expect(heavyIn(report.steps.entry)).toEqual([]);
  });

  it('reads an inline configuration and starts a process-backend host on zipped code without them', () => {
    expect(heavyIn(report.steps.acquireZip)).toEqual([]);
  });

  it('loads archiver when a code folder is zipped, and still nothing else', () => {
    expect(report.steps.acquireFolder).toEqual(expect.arrayContaining(ARCHIVER));
    expect(heavyIn(report.steps.acquireFolder, ARCHIVER)).toEqual([]);
  });

  it('loads yauzl when a function is launched, not @smithy/core', () => {
    expect(report.echoed).toEqual({ hello: 'probe' });
    expect(report.steps.invoke).toContain('yauzl');
    expect(report.steps.invoke).not.toContain('@smithy/core');
    expect(report.steps.invoke).not.toContain('yaml');
  });

  it('loads @smithy/core with the first streamed invoke, which still streams', () => {
    expect(report.streamed).toBe('streamed answer');
    expect(report.outcome).toBe('success');
    expect(report.steps.invokeStream).toContain('@smithy/core');
    expect(report.steps.invokeStream).not.toContain('yaml');
  });
});
