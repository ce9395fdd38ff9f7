import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const cli = join(import.meta.dirname, 'cli.ts');
const entrypoint = join(import.meta.dirname, 'lambda-entrypoint.sh');
const env = { PATH: process.env.PATH ?? '', LAMBDA_TASK_ROOT: import.meta.dirname };

function runCli(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', timeout: 10_000 });
}

describe('emulator CLI contract', () => {
  test('an unknown flag is an error with usage text, exit 1', () => {
    const r = runCli(['--bogus', 'index.handler']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Unknown option '--bogus'");
    expect(r.stderr).toContain('Usage: lambda-testkit-emulator');
  });

  test('a missing handler and a bad profile are usage errors', () => {
    expect(runCli([]).stderr).toContain('Missing the handler argument');
    const r = runCli(['--profile', 'aws', 'index.handler']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Expected --profile to be one of rie, lambda, got "aws"');
  });

  test('a port in use: clear message, exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = runCli(['--port', String(port), 'index.handler']);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`127.0.0.1:${port}: the port is in use`);
    } finally {
      blocker.close();
    }
  });

  test('prints the listening line, sends the ready message over IPC, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [cli, '--port', '0', 'index.handler'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const ready = await new Promise<{ type: string; port: number; runtimeApiPort: number }>((resolve) =>
      child.once('message', (m) => resolve(m as { type: string; port: number; runtimeApiPort: number })),
    );
    expect(ready.type).toBe('ready');
    expect(ready.port).toBeGreaterThan(0);
    expect(ready.runtimeApiPort).toBeGreaterThan(0);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain(`lambda-testkit-emulator listening on 127.0.0.1:${ready.port}\n`);
  });
});

describe('emulator lifetime', () => {
  test('closing the IPC channel (the owner is gone) shuts the emulator down', async () => {
    const child = spawn(process.execPath, [cli, '--port', '0', 'index.handler'], {
      env,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    await new Promise((resolve) => child.once('message', resolve));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.disconnect();
    expect(await exited).toBe(0);
  });
});

describe('lambda-entrypoint.sh', () => {
  test('exactly one argument, else exit 142 with the base images message', () => {
    const r = spawnSync('sh', [entrypoint], { encoding: 'utf8' });
    expect(r.status).toBe(142);
    expect(r.stderr).toContain('entrypoint requires the handler name to be the first argument');
    expect(spawnSync('sh', [entrypoint, 'a', 'b']).status).toBe(142);
  });

  test('without AWS_LAMBDA_RUNTIME_API it execs the emulator with _HANDLER exported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltk-entrypoint-'));
    const fake = join(dir, 'fake-emulator');
    writeFileSync(fake, '#!/bin/sh\necho "handler=$_HANDLER args=$*"\n');
    chmodSync(fake, 0o755);
    const r = spawnSync('sh', [entrypoint, 'app.handler'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', LAMBDA_TESTKIT_EMULATOR: fake },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('handler=app.handler args=--host 0.0.0.0 --port 8080 app.handler\n');
  });

  test("moves NODE_OPTIONS to LAMBDA_TESTKIT_NODE_OPTIONS: the runtime's, not the emulator's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltk-entrypoint-'));
    const fake = join(dir, 'fake-emulator');
    writeFileSync(fake, '#!/bin/sh\necho "node=[$NODE_OPTIONS] runtime=[$LAMBDA_TESTKIT_NODE_OPTIONS]"\n');
    chmodSync(fake, 0o755);
    const env = { PATH: process.env.PATH ?? '', LAMBDA_TESTKIT_EMULATOR: fake };
    const moved = spawnSync('sh', [entrypoint, 'app.handler'], {
      encoding: 'utf8',
      env: { ...env, NODE_OPTIONS: '--enable-source-maps --inspect=0.0.0.0:9229' },
    });
    expect(moved.stdout).toBe('node=[] runtime=[--enable-source-maps --inspect=0.0.0.0:9229]\n');
    const none = spawnSync('sh', [entrypoint, 'app.handler'], { encoding: 'utf8', env });
    expect(none.stdout).toBe('node=[] runtime=[]\n');
  });
});
