// `--contend N` of `fmc bench` and the bench scripts: N busy processes (a tight loop each)
// that run for the whole measurement of fmc and of ONNX Runtime, so that both are timed on a
// machine whose cores are taken, as a user's laptop is. The children are killed when the
// measurement ends, when it throws, and when this process exits or is interrupted; a child
// whose parent vanished without that (SIGKILL) notices within a fraction of a second and exits.

import { type ChildProcess, spawn } from 'node:child_process';

/**
 * The busy loop: about every 0.1 s it checks that its parent is still the one that started it
 * (from /proc: Node's process.ppid is read once at start-up), else that the parent is alive.
 */
const LOOP = `const p = process.ppid;
const fs = require('fs');
const parent = () => {
  try { return Number(fs.readFileSync('/proc/self/stat', 'utf8').replace(/^.*\\) /, '').split(' ')[1]); }
  catch { try { process.kill(p, 0); return p; } catch { return -1; } }
};
for (let i = 1; ; i++) if (i % 5e7 === 0 && parent() !== p) process.exit(0);`;

/** More would only measure the scheduler. */
export const MAX_CONTEND = 64;

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

/** The pids of the busy processes running now. */
export const contentionPids = (): number[] => [...live].map((c) => c.pid!);

/** Kills the children at exit and on SIGINT/SIGTERM (then exits as the signal would have). */
function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      killAll();
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    });
}

/** Starts n busy processes and resolves once each is running; returns their pids. */
export async function startContention(n: number): Promise<ChildProcess[]> {
  hook();
  const kids: ChildProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const c = spawn(process.execPath, ['-e', LOOP], { stdio: 'ignore' });
      live.add(c);
      kids.push(c);
      c.once('exit', () => live.delete(c));
      await new Promise<void>((resolve, reject) => {
        c.once('spawn', resolve);
        c.once('error', reject);
      });
    }
  } catch (e) {
    stopContention(kids);
    throw e;
  }
  return kids;
}

/** Kills the given busy processes (synchronously: SIGKILL is delivered before this returns). */
export function stopContention(kids: readonly ChildProcess[]): void {
  for (const c of kids) {
    c.kill('SIGKILL');
    live.delete(c);
  }
}

/** Runs f with n busy processes beside it (none for n = 0); they are gone when it settles. */
export async function withContention<T>(n: number, f: () => Promise<T>): Promise<T> {
  if (n <= 0) return f();
  const kids = await startContention(n);
  try {
    return await f();
  } finally {
    stopContention(kids);
  }
}
