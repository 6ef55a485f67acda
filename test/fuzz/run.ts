// The long-running whole-pipeline fuzzer: `npm run fuzz -- --count 100000 [--seed S] [--out DIR]`.
//
// Cases (seeds S, S+1, ...) are generated and run in worker processes (--jobs, default one
// per core, at most 4), in batches whose C functions share one compiled library (--batch).
// A worker reports each stage it enters, so the parent can tell a crash of the process
// (a signal from native code) and a hang (a stage over its time limit: --case-limit seconds
// for check, lowering, passes and the reference, --compile-limit for a batch's C build) from
// the case and stage that caused it; the rest of such a batch is run again one case at a time.
// Each failing program is shrunk (delta debugging, test/fuzz/shrink.ts, --shrink-limit seconds)
// in a worker too, and written with its failure text to DIR/<kind>-<seed>/. `--wgsl K` also
// runs every K-th seed on the WGSL target (test/fuzz/wgsl.ts; graphs whose i64 values leave
// i32 are counted, not compared). Progress lines
// and the final counts go to stdout; the exit status is 1 when anything failed.

import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FuzzProgram, generate, printProgram } from './gen.js';
import { CACHE_DIR, type Failure, type Prepared, type Stage, prepare, runC, runCase } from './pipeline.js';
import { shrink } from './shrink.js';
import { runWgsl } from './wgsl.js';

// ---------- worker side ----------

type Job =
  | { type: 'batch'; seeds: number[]; cEvery: number; wgslEvery: number }
  | { type: 'program'; program: FuzzProgram; wgsl: boolean };
interface CaseReport {
  readonly seed: number;
  readonly failures: Failure[];
  readonly compared: number;
  readonly comparedWgsl: number;
  readonly wideI64: number;
  readonly nonFinite: number;
  readonly graphs: number;
}
type WorkerMessage =
  | { type: 'stage'; seed: number; stage: Stage }
  | { type: 'done'; cases: CaseReport[] }
  | { type: 'program'; failures: Failure[] };

const report = (c: Prepared): CaseReport => ({
  seed: c.program.seed,
  failures: c.failures,
  compared: c.compared,
  comparedWgsl: c.comparedWgsl ?? 0,
  wideI64: c.wideI64 ?? 0,
  nonFinite: c.nonFinite,
  graphs: c.graphs.length,
});

/**
 * FMC_FUZZ_INJECT=crash:SEED or hang:SEED makes the worker die by SIGSEGV or spin at the
 * check stage of that seed's programs: the driver's own test of its crash and hang handling.
 */
function injected(seed: number): void {
  const m = /^(crash|hang):(\d+)$/.exec(process.env.FMC_FUZZ_INJECT ?? '');
  if (!m || Number(m[2]) !== seed) return;
  if (m[1] === 'crash') process.kill(process.pid, 'SIGSEGV');
  for (;;);
}

function worker(): void {
  const send = (m: WorkerMessage): void => void process.send!(m);
  const onStage = (seed: number, stage: Stage): void => send({ type: 'stage', seed, stage });
  process.on('message', async (job: Job) => {
    if (job.type === 'program') {
      send({ type: 'stage', seed: job.program.seed, stage: 'check' });
      injected(job.program.seed);
      const c = runCase(job.program, { cacheDir: CACHE_DIR, onStage });
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
    runC(toC, { cacheDir: CACHE_DIR, onStage });
    if (job.wgslEvery > 0)
      await runWgsl(
        cases.filter((c) => c.failures.length === 0 && c.program.seed % job.wgslEvery === 0),
        onStage,
      );
    send({ type: 'done', cases: cases.map(report) });
  });
}

// ---------- parent side ----------

interface Limits {
  readonly caseMs: number;
  readonly compileMs: number;
}

/** One worker process; `run` resolves with its answer, or with a crash or hang of the case it was in. */
class Worker {
  private proc: ChildProcess | undefined;

  constructor(private readonly limits: Limits) {}

  private start(): ChildProcess {
    const proc = fork(fileURLToPath(import.meta.url), ['--worker'], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: ['--stack-size=4000'],
    });
    proc.stderr?.resume();
    this.proc = proc;
    return proc;
  }

  run(
    job: Job,
  ): Promise<WorkerMessage | { type: 'lost'; seed: number; stage: Stage; kind: 'crash' | 'hang'; why: string }> {
    const proc = this.proc ?? this.start();
    return new Promise((resolve) => {
      let current: { seed: number; stage: Stage } = {
        seed: job.type === 'batch' ? job.seeds[0]! : job.program.seed,
        stage: 'check',
      };
      let timer: NodeJS.Timeout | undefined;
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

interface Options {
  count: number;
  seed: number;
  out: string;
  jobs: number;
  batch: number;
  cEvery: number;
  /** Every K-th seed also on WGSL (0: none). */
  wgslEvery: number;
  caseLimit: number;
  compileLimit: number;
  shrinkLimit: number;
  /** Stop starting batches after this many minutes (0: no limit). */
  minutes: number;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    count: 1000,
    seed: 1,
    out: 'fuzz-failures',
    jobs: Math.max(1, Math.min(4, os.availableParallelism())),
    batch: 40,
    cEvery: 1,
    wgslEvery: 0,
    caseLimit: 60,
    compileLimit: 600,
    shrinkLimit: 300,
    minutes: 0,
  };
  const keys: Record<string, keyof Options> = {
    '--count': 'count',
    '--seed': 'seed',
    '--out': 'out',
    '--jobs': 'jobs',
    '--batch': 'batch',
    '--c-every': 'cEvery',
    '--wgsl': 'wgslEvery',
    '--case-limit': 'caseLimit',
    '--compile-limit': 'compileLimit',
    '--shrink-limit': 'shrinkLimit',
    '--minutes': 'minutes',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      console.log(
        'usage: npm run fuzz -- [--count N] [--seed S] [--out DIR] [--jobs J] [--batch B] [--c-every K] [--wgsl K]\n' +
          '       [--case-limit SEC] [--compile-limit SEC] [--shrink-limit SEC] [--minutes M]\n' +
          'Runs seeds S..S+N-1 through check, lowering, passes, the reference and the C target (every\n' +
          'K-th seed) and, with --wgsl, the WGSL target (every K-th seed; needs a WebGPU adapter);\n' +
          'writes each failure, shrunk, to DIR/<kind>-<seed>/. --minutes stops starting\n' +
          'new batches after M minutes.',
      );
      process.exit(0);
    }
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const key = keys[flag];
    if (!key) throw new Error(`unknown option ${a} (see --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (key === 'out') o.out = value;
    else {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || (n < 1 && key !== 'seed')) throw new Error(`${flag}: bad number ${value}`);
      o[key] = n;
    }
  }
  return o;
}

interface Totals {
  cases: number;
  graphs: number;
  compared: number;
  comparedWgsl: number;
  wideI64: number;
  nonFinite: number;
  diagnostic: number;
  crash: number;
  hang: number;
  mismatch: number;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const limits: Limits = { caseMs: o.caseLimit * 1000, compileMs: o.compileLimit * 1000 };
  const totals: Totals = {
    cases: 0,
    graphs: 0,
    compared: 0,
    comparedWgsl: 0,
    wideI64: 0,
    nonFinite: 0,
    diagnostic: 0,
    crash: 0,
    hang: 0,
    mismatch: 0,
  };
  const failures: { seed: number; failure: Failure }[] = [];
  const queue: number[][] = [];
  for (let s = o.seed; s < o.seed + o.count; s += o.batch)
    queue.push(Array.from({ length: Math.min(o.batch, o.seed + o.count - s) }, (_, i) => s + i));
  const started = Date.now();
  const line = (): string => {
    const secs = (Date.now() - started) / 1000;
    return (
      `${totals.cases}/${o.count} cases (seeds from ${o.seed}), ${(totals.cases / Math.max(secs, 1e-3)).toFixed(2)}/s, ${Math.round(secs)} s: ` +
      `crashes ${totals.crash}, hangs ${totals.hang}, mismatches ${totals.mismatch}, diagnostics ${totals.diagnostic}, ` +
      `graphs ${totals.graphs} (compared on C ${totals.compared}, on WGSL ${totals.comparedWgsl}, ` +
      `of them with i64 values beyond i32 ${totals.wideI64}), calls skipped as non-finite ${totals.nonFinite}`
    );
  };
  const record = (seed: number, f: Failure): void => {
    totals[f.kind]++;
    failures.push({ seed, failure: f });
    console.log(`seed ${seed}: ${f.kind} in ${f.stage}${f.fn ? ` (${f.fn})` : ''}: ${f.message.split('\n')[0]}`);
  };
  const timer = setInterval(() => console.log(line()), 10_000);
  const workers = Array.from({ length: o.jobs }, () => new Worker(limits));
  await Promise.all(
    workers.map(async (w) => {
      const stopAt = o.minutes > 0 ? started + o.minutes * 60_000 : Infinity;
      for (let seeds = queue.shift(); seeds && Date.now() < stopAt; seeds = queue.shift()) {
        const r = await w.run({ type: 'batch', seeds, cEvery: o.cEvery, wgslEvery: o.wgslEvery });
        if (r.type === 'done') {
          for (const c of r.cases) {
            totals.cases++;
            totals.graphs += c.graphs;
            totals.compared += c.compared;
            totals.comparedWgsl += c.comparedWgsl;
            totals.wideI64 += c.wideI64;
            totals.nonFinite += c.nonFinite;
            for (const f of c.failures) record(c.seed, f);
          }
        } else if (r.type === 'lost') {
          // One case at a time, so the crash or hang is pinned on its case.
          if (seeds.length > 1) queue.unshift(...seeds.map((s) => [s]));
          else {
            totals.cases++;
            record(r.seed, { kind: r.kind, stage: r.stage, message: r.why });
          }
        }
      }
    }),
  );
  clearInterval(timer);
  console.log(line());
  // Shrink and write every failure.
  if (failures.length > 0) {
    fs.mkdirSync(o.out, { recursive: true });
    const w = workers[0]!;
    for (const { seed, failure } of failures) {
      const program = generate(seed);
      const result = await shrink(
        program,
        failure,
        async (q) => {
          const r = await w.run({ type: 'program', program: q, wgsl: failure.stage.startsWith('wgsl') });
          if (r.type === 'program') return r.failures;
          if (r.type === 'lost') return [{ kind: r.kind, stage: r.stage, message: r.why }];
          return [];
        },
        o.shrinkLimit * 1000,
      );
      const dir = path.join(o.out, `${failure.kind}-${seed}${failure.fn ? `-${failure.fn}` : ''}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'program.fm'), printProgram(result.program));
      fs.writeFileSync(path.join(dir, 'original.fm'), printProgram(program));
      fs.writeFileSync(path.join(dir, 'program.json'), `${JSON.stringify(result.program, null, 1)}\n`);
      const text = (f: Failure): string => `${f.kind} in ${f.stage}${f.fn ? ` (${f.fn})` : ''}\n${f.message}\n`;
      fs.writeFileSync(
        path.join(dir, 'failure.txt'),
        `seed ${seed} (replay: npm run fuzz -- --seed ${seed} --count 1)\n` +
          `dims ${JSON.stringify(program.dims)}\n\n` +
          `shrunk (${result.tries} candidates tried):\n${text(result.failure)}\noriginal:\n${text(failure)}`,
      );
      console.log(`wrote ${dir} (${result.tries} candidates tried)`);
    }
  }
  for (const w of workers) w.stop();
  console.log(
    `done: ${totals.cases} cases, crashes ${totals.crash}, hangs ${totals.hang}, mismatches ${totals.mismatch}, ` +
      `diagnostics ${totals.diagnostic}; ${totals.graphs} graphs, ${totals.compared} compared on C, ` +
      `${totals.comparedWgsl} on WGSL (${totals.wideI64} with i64 values beyond i32), ` +
      `${totals.nonFinite} calls skipped as non-finite; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  process.exitCode = failures.length > 0 ? 1 : 0;
}

if (process.argv.includes('--worker')) worker();
else
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  });
