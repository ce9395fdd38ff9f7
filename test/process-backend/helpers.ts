/** Shared setup of the process-backend suite: fixtures, layers built on the fly, raw invokes. */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FunctionSpec,
  type LaunchContext,
  type LaunchedInstance,
  resolveFunction,
} from '@lambda-testkit/core';
import { INVOKE_SECRET_HEADER } from '@lambda-testkit/core/emulator';
import { request } from 'undici';

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

export function launchContext(runId: string, instanceId = `i-${randomUUID().slice(0, 8)}`): LaunchContext {
  return { instanceId, runId, region: 'eu-central-1', accountId: '111122223333' };
}

/**
 * Layer trees are written at test time: a fixture folder named `node_modules` would be ignored by git.
 * Returns the folder of each layer by name.
 */
export async function makeLayers(): Promise<Record<'base' | 'override' | 'versioned' | 'bin', string>> {
  const root = await mkdtemp(join(tmpdir(), 'ltk-layers-'));
  const files: Record<string, Record<string, string>> = {
    base: { 'nodejs/node_modules/layer-lib/index.js': "module.exports = { origin: 'base layer' };\n" },
    override: {
      'nodejs/node_modules/layer-lib/index.js': "module.exports = { origin: 'override layer' };\n",
    },
    versioned: {
      'nodejs/node22/node_modules/versioned-lib/index.js': "module.exports = { origin: 'node22 folder' };\n",
    },
    bin: { 'bin/layer-tool': '#!/bin/sh\necho from-layer-bin\n' },
  };
  const out: Record<string, string> = {};
  for (const [name, tree] of Object.entries(files)) {
    out[name] = join(root, name);
    for (const [path, content] of Object.entries(tree)) {
      const file = join(root, name, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
      if (path.startsWith('bin/')) await chmod(file, 0o755);
    }
  }
  return out as Record<'base' | 'override' | 'versioned' | 'bin', string>;
}

export function appFunction(overrides: Partial<FunctionSpec> & { name: string }) {
  return resolveFunction(
    { runtime: 'nodejs22.x', handler: 'index.handler', code: join(fixturesDir, 'app'), ...overrides },
    { root: fixturesDir },
  );
}

export interface RawAnswer {
  status: number;
  text: string;
  json: unknown;
}

/**
 * POSTs an event to an instance's RIE-compatible invoke route, as the pool's client does: with the
 * instance's invoke secret, unless `secret` says otherwise (`null`: no secret header at all).
 */
export async function invoke(
  instance: Pick<LaunchedInstance, 'endpoint' | 'invokeSecret'>,
  event: unknown = {},
  secret: string | null | undefined = instance.invokeSecret,
): Promise<RawAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret) headers[INVOKE_SECRET_HEADER] = secret;
  const res = await request(`${instance.endpoint}${INVOKE_PATH}`, {
    method: 'POST',
    body: JSON.stringify(event),
    headers,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json };
}

/** Whether a pid runs (zombies count as gone: they have exited and wait to be collected). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Pids of running processes whose environment names a sandbox folder (LAMBDA_TESTKIT_SANDBOX, the
 * instance's host folder) under `prefix`: an independent look at what a sandbox left running (written
 * here, not imported from the backend).
 */
export function processesUnder(prefix: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let environ = '';
    try {
      environ = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue;
    }
    const root = environ
      .split('\0')
      .find((e) => e.startsWith('LAMBDA_TESTKIT_SANDBOX='))
      ?.slice('LAMBDA_TESTKIT_SANDBOX='.length);
    if (root?.startsWith(prefix) && isRunning(Number(name))) pids.push(Number(name));
  }
  return pids;
}

export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}
