// The worker processes of the long-running fuzzer (run.ts). A worker prepares a batch of
// seeds (check, lowering, passes, reference), builds their C in one library per flag set
// (pipeline.ts cFlags: the shipped flags on every `shippedEvery`-th seed, -O0 on the others),
// runs and compares them, optionally runs a share on WGSL, and reports each stage it enters,
// so the parent can tell a crash of the process (a signal from native code) and a hang (a
// stage over its time limit) from the case and stage that caused it. The parent sums the
// wall time between stage reports per stage (the profile run.ts prints).

import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FuzzProgram, generate } from './gen.js';
import { CACHE_DIR, type Failure, type Prepared, type Stage, cFlags, prepare, runC, runCase } from './pipeline.js';
import { runWgsl } from './wgsl.js';

export type Job =
  | { type: 'batch'; seeds: number[]; cEvery: number; wgslEvery: number; shippedEvery: number }
  | { type: 'program'; program: FuzzProgram; wgsl: boolean; shippedEvery: number };
export interface CaseReport {
  readonly seed: number;
  readonly failures: Failure[];
  readonly compared: number;
  /** Whether its C was built with the shipped flags. */
  readonly shipped: boolean;
  readonly comparedWgsl: number;
  readonly wideI64: number;
  readonly nonFinite: number;
  readonly graphs: number;
}
type WorkerMessage =
  | { type: 'stage'; seed: number; stage: Stage }
  | { type: 'done'; cases: CaseReport[] }
  | { type: 'program'; failures: Failure[] };
export type Answer = WorkerMessage | Lost;
export interface Lost {
  readonly type: 'lost';
  readonly seed: number;
  readonly stage: Stage;
  readonly kind: 'crash' | 'hang';
  readonly why: string;
}

/**
 * FMC_FUZZ_INJECT=crash:SEED, hang:SEED or stall:SEED makes the worker die by SIGSEGV or spin
 * at the check stage of that seed's programs (stall: only the first time in a run, as a
 * starved worker would): the driver's own test of its crash and hang handling.
 */
function injected(seed: number): void {
  const m = /^(crash|hang|stall):(\d+)$/.exec(process.env.FMC_FUZZ_INJECT ?? '');
  if (!m || Number(m[2]) !== seed) return;
  if (m[1] === 'crash') process.kill(process.pid, 'SIGSEGV');
  if (m[1] === 'stall') {
    // The driver's pid scopes the mark to one run.
    const mark = path.join(os.tmpdir(), `fmc-fuzz-stall-${seed}-${process.ppid}`);
    if (fs.existsSync(mark)) return fs.rmSync(mark);
    fs.writeFileSync(mark, '');
  }
  for (;;);
}

/** The worker process's side: answers jobs until killed. */
export function workerMain(): void {
  const send = (m: WorkerMessage): void => void process.send!(m);
  const onStage = (seed: number, stage: Stage): void => send({ type: 'stage', seed, stage });
  process.on('message', async (job: Job) => {
    if (job.type === 'program') {
      const seed = job.program.seed;
      send({ type: 'stage', seed, stage: 'check' });
      injected(seed);
      const c = runCase(job.program, { cacheDir: CACHE_DIR, onStage, flags: cFlags(seed, job.shippedEvery) });
      if (job.wgsl && c.failures.length === 0) await runWgsl([c], onStage);
      send({ type: 'program', failures: c.failures });
      return;
    }
    const cases: Prepared[] = [];
    for (const seed of job.seeds) {
      send({ type: 'stage', seed, stage: 'check' });
      injected(seed);
      cases.push(prepare(generate(seed), (stage) => send({ type: 'stage', seed, stage })));
    }
    const toC = cases.filter((c) => c.failures.length === 0 && c.program.seed % job.cEvery === 0);
    const shipped = (c: Prepared): boolean => c.program.seed % job.shippedEvery === 0;
    for (const share of [toC.filter(shipped), toC.filter((c) => !shipped(c))])
      if (share.length > 0)
        runC(share, { cacheDir: CACHE_DIR, onStage, flags: cFlags(share[0]!.program.seed, job.shippedEvery) });
    if (job.wgslEvery > 0)
      await runWgsl(
        cases.filter((c) => c.failures.length === 0 && c.program.seed % job.wgslEvery === 0),
        onStage,
      );
    const report = (c: Prepared): CaseReport => ({
      seed: c.program.seed,
      failures: c.failures,
      compared: c.compared,
      shipped: shipped(c),
      comparedWgsl: c.comparedWgsl ?? 0,
      wideI64: c.wideI64 ?? 0,
      nonFinite: c.nonFinite,
      graphs: c.graphs.length,
    });
    send({ type: 'done', cases: cases.map(report) });
  });
}

export interface Limits {
  /** Milliseconds a stage may take (check, lowering, passes, reference, a run). */
  readonly caseMs: number;
  /** Milliseconds a batch's C build may take. */
  readonly compileMs: number;
}

/** One worker process; `run` resolves with its answer, or with a crash or hang of the case it was in. */
export class Worker {
  private proc: ChildProcess | undefined;

  /** `stageMs`: the wall time spent in each stage, summed (the stage messages' intervals). */
  constructor(
    private readonly script: string,
    private readonly limits: Limits,
    private readonly stageMs: Map<Stage, number> = new Map(),
  ) {}

  private start(): ChildProcess {
    const proc = fork(fileURLToPath(this.script), ['--worker'], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: ['--stack-size=4000'],
    });
    proc.stderr?.resume();
    this.proc = proc;
    return proc;
  }

  run(job: Job): Promise<Answer> {
    const proc = this.proc ?? this.start();
    return new Promise((resolve) => {
      let current: { seed: number; stage: Stage } = {
        seed: job.type === 'batch' ? job.seeds[0]! : job.program.seed,
        stage: 'check',
      };
      let timer: NodeJS.Timeout | undefined;
      let since = Date.now();
      const tick = (): void => {
        const now = Date.now();
        this.stageMs.set(current.stage, (this.stageMs.get(current.stage) ?? 0) + now - since);
        since = now;
      };
      const arm = (): void => {
        clearTimeout(timer);
        const ms = current.stage === 'c-compile' ? this.limits.compileMs : this.limits.caseMs;
        timer = setTimeout(() => {
          cleanup();
          proc.kill('SIGKILL');
          this.proc = undefined;
          resolve({
            type: 'lost',
            ...current,
            kind: 'hang',
            why: `no progress for ${ms / 1000} s in ${current.stage}`,
          });
        }, ms);
      };
      const onMessage = (m: WorkerMessage): void => {
        tick();
        if (m.type === 'stage') {
          current = { seed: m.seed, stage: m.stage };
          arm();
          return;
        }
        cleanup();
        resolve(m);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        this.proc = undefined;
        resolve({ type: 'lost', ...current, kind: 'crash', why: `worker exited (${signal ?? `code ${code}`})` });
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
      };
      proc.on('message', onMessage);
      proc.on('exit', onExit);
      arm();
      proc.send(job);
    });
  }

  stop(): void {
    this.proc?.kill('SIGKILL');
    this.proc = undefined;
  }
}
