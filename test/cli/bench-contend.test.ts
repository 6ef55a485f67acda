// `--contend N`: the busy processes run while the measurement runs and are gone afterwards,
// when it throws, and when the process is interrupted; `fmc bench` reports N.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentionPids, startContention, stopContention, withContention } from '../../src/cli/bench-contend.js';

const ROOT = path.resolve(__dirname, '../..');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    // A killed child that its parent has not reaped yet is a zombie: not running.
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Waits up to 5 s for every pid to be gone. */
async function gone(pids: readonly number[]): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!pids.some(alive)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** CPU time (user + system, clock ticks) a process has used. */
const cpuTicks = (pid: number): number => {
  const f = fs
    .readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return Number(f[11]) + Number(f[12]);
};

describe('--contend', () => {
  it('runs N busy processes during the measurement and none after it', async () => {
    let pids: number[] = [];
    const r = await withContention(2, async () => {
      pids = (await startContention(0)).map((c) => c.pid!);
      expect(pids).toEqual([]);
      return 7;
    });
    expect(r).toBe(7);
    await withContention(2, async () => {
      const kids = await startContention(1);
      pids = kids.map((c) => c.pid!);
      const before = cpuTicks(pids[0]!);
      await new Promise((res) => setTimeout(res, 300));
      expect(cpuTicks(pids[0]!)).toBeGreaterThan(before); // it is busy, not sleeping
      stopContention(kids);
    });
    expect(await gone(pids)).toBe(true);
  });

  it('kills them when the measurement throws', async () => {
    let pids: number[] = [];
    let running = false;
    const failing = withContention(3, async () => {
      pids = contentionPids();
      running = pids.every(alive); // while the measurement runs (after it, they are being killed)
      throw new Error('measurement failed');
    });
    await expect(failing).rejects.toThrow('measurement failed');
    expect(pids).toHaveLength(3);
    expect(running).toBe(true);
    expect(await gone(pids)).toBe(true);
  });

  it('kills them when the process is interrupted (SIGINT)', async () => {
    const script = `import { startContention } from ${JSON.stringify(path.join(ROOT, 'dist/src/cli/bench-contend.js'))};
const kids = await startContention(2);
console.log(kids.map((c) => c.pid).join(' '));
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((res) => child.stdout.once('data', (d: Buffer) => res(d.toString())));
    const pids = line.trim().split(' ').map(Number);
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await gone(pids)).toBe(true);
  });

  it('is reported by fmc bench and bounded', { timeout: 120_000 }, () => {
    const env = { ...process.env, FMC_CACHE_DIR: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-cont-')), 'c') };
    const fmc = (...args: string[]) =>
      spawnSync(process.execPath, [path.join(ROOT, 'bin', 'fmc.js'), 'bench', 'models/mlp.fm', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env,
        timeout: 110_000,
      });
    const r = fmc('--runs', '2', '--warmup', '0', '--contend', '2', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ contend: 2, runs: 2 });
    const text = fmc('--runs', '2', '--warmup', '0', '--contend', '1');
    expect(text.stdout).toContain('; 1 busy process beside;');
    expect(fmc('--contend', '65').status).toBe(2);
    expect(fmc('--contend', '-1').status).toBe(2);
  });
});
