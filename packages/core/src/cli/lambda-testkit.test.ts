// The `lambda-testkit` command without an engine: usage, bad input, and `clean` where Docker is absent.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('./lambda-testkit.ts', import.meta.url));
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ltk-cli-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function run(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    // A temp dir of its own (the process sandboxes it sweeps), and an engine that cannot answer.
    env: {
      ...process.env,
      TMPDIR: scratch,
      DOCKER_HOST: 'unix:///tmp/lambda-testkit-cli-no-engine.sock',
    },
  });
}

describe('lambda-testkit CLI', () => {
  it('help prints the commands and succeeds; no command prints them and fails', () => {
    const help = run(['help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('clean [--all]');
    expect(help.stdout).toContain('build-image');
    const none = run([]);
    expect(none.status).toBe(1);
    expect(none.stdout).toContain('Usage: lambda-testkit');
  });

  it('an unknown command or option fails, naming it, with the usage', () => {
    const unknown = run(['sweep']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('unknown command "sweep"');
    expect(unknown.stderr).toContain('Usage: lambda-testkit');
    const option = run(['clean', '--everything']);
    expect(option.status).toBe(1);
    expect(option.stderr).toContain('--everything');
    expect(option.stderr).toContain('Usage: lambda-testkit');
  });

  it('clean without an engine sweeps the process sandboxes and says why containers were not checked', () => {
    const result = run(['clean']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`0 process sandbox(es) removed from ${join(scratch, 'lambda-testkit')}`);
    expect(result.stdout).toContain('containers not checked');
    expect(result.stdout).toContain('DOCKER_HOST=unix:///tmp/lambda-testkit-cli-no-engine.sock');
  });

  it('clean --kubernetes without a reachable cluster fails with KUBERNETES_UNAVAILABLE, naming the way out', async () => {
    const kubeconfig = join(scratch, 'unreachable.kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]',
        'users: [{ name: u, user: { token: t } }]',
        'contexts: [{ name: x, context: { cluster: c, user: u } }]',
        'current-context: x',
        '',
      ].join('\n'),
    );
    const result = run(['clean', '--kubernetes', '--kubeconfig', kubeconfig]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('No Kubernetes cluster is reachable');
    expect(result.stderr).toContain('https://127.0.0.1:1');
    expect(result.stderr).toContain('[LTK_KUBERNETES_UNAVAILABLE]');
  });
});
