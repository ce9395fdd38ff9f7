import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oomKillCount } from './oom-kills.ts';

describe('oomKillCount', () => {
  it('reads oom_kill from memory.events (v2) or memory.oom_control (v1); undefined without either', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ltk-oom-'));
    try {
      const v2 = join(dir, 'memory.events');
      const v1 = join(dir, 'memory.oom_control');
      await writeFile(v2, 'low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n');
      await writeFile(v1, 'oom_kill_disable 0\nunder_oom 0\noom_kill 7\n');
      expect(oomKillCount([v2, v1])).toBe(2);
      expect(oomKillCount([join(dir, 'absent'), v1])).toBe(7);
      expect(oomKillCount([join(dir, 'absent')])).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
