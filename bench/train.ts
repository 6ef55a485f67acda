// Benchmark: fmc's compiled train step (forward, loss, backward and AdamW in one launch list,
// src/api/train.ts) against PyTorch's (torch with OpenBLAS, bench/torch_train_step.py) on
// three workloads: the MLP 784-256-256-10 at batch 128, the CNN on 28×28 digits at batch 64, and a 4-layer Transformer encoder (d 256, 4 heads, FFN 1024, T 128,
// batch 8; bench/encoder.fm). fp32, AdamW (lr 1e-3, weight decay 0.01, not on biases and
// norms), constant learning rate, no clipping, the same thread count on both sides.
//
// Each side runs in its own long-lived child process driven by JSON lines (so neither Node's
// nor Python's start counts), which also makes each side's peak RSS its own: VmHWM from
// /proc/self/status, reset (/proc/self/clear_refs) after setup and a garbage collection so
// that "steps" is the peak while training, next to the peak during setup (fmc: lowering and
// compiling; torch: building the model). After a warm-up, timed blocks of K steps alternate
// between the two (the order flips every round); the table gives medians of per-step wall
// time and torch/fmc (>1: fmc faster). The first losses must be finite and the loss lower a
// few steps later (both sides train on one fixed synthetic batch, the same one:
// bench/torch_train_step.py's synthetic(), from fmc's initializers).
//
//   node dist/bench/train.js [--only mlp,cnn,encoder] [--threads 2] [--rounds 5] [--block-ms 1500]
//        [--min-steps 12] [--warmup 3] [--busy | --busy both] [--omp as-shipped|spin30k|passive]
//        [--profile] [--json]
//
// --busy starts two `yes > /dev/null` processes for the measurement (and kills them after);
// `--busy both` measures idle, then busy. --omp sets both sides' OpenMP waiting: as shipped
// (fmc: GOMP_SPINCOUNT=30000, docs/runtime.md; torch: libgomp's default, 300,000 spins),
// GOMP_SPINCOUNT=30000 for both, or OMP_WAIT_POLICY=passive for both. --profile adds fmc's
// top kernels per step (Executable.run's per-launch timings) and torch's top ops
// (torch.autograd.profiler). Results also go to bench/out/train.json.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { compileTrainer } from '../src/api/train.js';
import type { Executable, RunOptions } from '../src/runtime/executable.js';
import type { TrainOverrides } from '../src/runtime/schedule.js';
import { Tensor } from '../src/runtime/tensor.js';
import { flags, positive, ROOT, table, writeJson } from './common.js';

const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = path.join(ROOT, 'bench', 'torch_train_step.py');

interface Workload {
  readonly name: string;
  readonly what: string;
  /** A .fm path. */
  readonly file: string;
  readonly set?: Readonly<Record<string, number>>;
  /** The batch (bench/torch_train_step.py's workload() builds the same). */
  readonly batch: (seed: number) => Record<string, Tensor>;
}

/**
 * n values in [0, 1) from a hash of the index (a murmur3 finalizer), the same as
 * bench/torch_train_step.py's synthetic(): both sides train on the same batch.
 */
export function synthetic(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  const s = Math.imul(seed, 0x85ebca77) >>> 0;
  for (let i = 0; i < n; i++) {
    let u = (Math.imul(i, 0x9e3779b1) + s) >>> 0;
    u ^= u >>> 16;
    u = Math.imul(u, 0x85ebca6b) >>> 0;
    u ^= u >>> 13;
    u = Math.imul(u, 0xc2b2ae35) >>> 0;
    u ^= u >>> 16;
    out[i] = (u >>> 0) / 4294967296;
  }
  return out;
}

const labels = (n: number, classes: number, seed: number): Int32Array =>
  Int32Array.from(synthetic(n, seed), (u) => Math.floor(u * classes));

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'mlp',
    what: 'models/mlp.fm 784-256-256-10, batch 128',
    file: path.join(ROOT, 'models', 'mlp.fm'),
    set: { hidden1: 256, hidden2: 256, p_drop: 0 },
    batch: (seed) => ({
      images: new Tensor('f32', synthetic(128 * 784, seed), [128, 784]),
      labels: new Tensor('i32', labels(128, 10, seed + 1), [128]),
    }),
  },
  {
    // Width 32, hidden 256, label smoothing 0.1; the poolings go 28 → 14 → 7 → 3.
    name: 'cnn',
    what: 'models/cnn.fm 1×28×28 digits, batch 64',
    file: path.join(ROOT, 'models', 'cnn.fm'),
    set: { channels: 1, size: 28, p_drop: 0 },
    batch: (seed) => {
      const b = 64;
      return {
        images: new Tensor('f32', synthetic(b * 28 * 28, seed), [b, 1, 28, 28]),
        labels: new Tensor('i32', labels(b, 10, seed + 1), [b]),
      };
    },
  },
  {
    name: 'encoder',
    what: 'bench/encoder.fm 4 layers, d 256, 4 heads, FFN 1024, T 128, batch 8',
    file: path.join(ROOT, 'bench', 'encoder.fm'),
    batch: (seed) => ({
      x: new Tensor(
        'f32',
        synthetic(8 * 128 * 256, seed).map((u) => u * 2 - 1),
        [8, 128, 256],
      ),
      labels: new Tensor('i32', labels(8 * 128, 16, seed + 1), [8, 128]),
    }),
  },
];

/** AdamW as torch_train_step.py's optimizer(): constant rate, no clipping. */
const TRAIN: TrainOverrides = {
  optimizer: 'adamw',
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0.01,
  schedule: 'constant',
  clip: 0,
  accumulate: 1,
};

const OMP_ENV: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'as-shipped': {},
  spin30k: { GOMP_SPINCOUNT: '30000' },
  passive: { OMP_WAIT_POLICY: 'passive' },
};

// ---------------------------------------------------------------------------------------------
// /proc/self/status

function statusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : -1;
}

function resetPeak(): { ok: boolean; error?: string } {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return { ok: true };
  } catch (e) {
    return { ok: false, error: `cannot reset the peak RSS: ${(e as Error).message}` };
  }
}

// ---------------------------------------------------------------------------------------------
// The fmc worker: the same JSON-lines protocol as torch_train_step.py

interface KernelRow {
  readonly kernel: string;
  readonly note: string;
  readonly launches: number;
  readonly ms: number;
  readonly share: number;
}

async function worker(): Promise<void> {
  let step: (() => number) | undefined;
  let apply: Executable | undefined;
  let timings: Float64Array | undefined;
  const reply = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line) as {
      cmd: string;
      workload?: string;
      threads?: number;
      seed?: number;
      steps?: number;
      /** profile: how many kernels to list (default 12). */
      top?: number;
    };
    try {
      switch (msg.cmd) {
        case 'setup': {
          const w = WORKLOADS.find((x) => x.name === msg.workload);
          if (!w) throw new Error(`unknown workload ${msg.workload}`);
          const base = statusKiB('VmRSS');
          const t0 = performance.now();
          const seed = msg.seed ?? 1;
          const c = compileTrainer(w.file, { set: w.set, train: TRAIN, threads: msg.threads ?? 2, seed });
          const compileMs = performance.now() - t0;
          const batch = w.batch(seed);
          const trainer = c.trainer;
          step = () => trainer.step(batch).loss;
          // The step's executable, for per-launch timings.
          apply = trainer.executable('step') as Executable; // compiled for C
          const plan = apply.plan;
          // What the step holds besides the runtime: the arena of intermediates (the memory
          // plan at this batch) and the persistent buffers (params, optimizer state).
          const shapes = new Map(plan.inputs.map((i) => [i.name, batch[i.name]?.dims ?? []] as const));
          const arenaBytes = apply.memoryFor(shapes).peakBytes;
          const persistentBytes = trainer.persistentBytes;
          reply({
            ok: true,
            baseRssKiB: base,
            compileMs,
            warnings: c.warnings,
            launches: plan.launches.length,
            kernels: plan.kernels.length,
            persistent: plan.params.length,
            arenaMiB: arenaBytes / 2 ** 20,
            persistentMiB: persistentBytes / 2 ** 20,
          });
          break;
        }
        case 'run': {
          if (!step) throw new Error('run before setup');
          const ms: number[] = [];
          const loss: number[] = [];
          for (let i = 0; i < (msg.steps ?? 1); i++) {
            const t0 = performance.now();
            loss.push(step());
            ms.push(performance.now() - t0);
          }
          reply({ ok: true, ms, loss });
          break;
        }
        case 'reset_peak':
          // What setup left for the collector (the lowered modules, C source) is not the step's.
          (globalThis as { gc?: () => void }).gc?.();
          reply(resetPeak());
          break;
        case 'stats':
          reply({ ok: true, hwmKiB: statusKiB('VmHWM'), rssKiB: statusKiB('VmRSS') });
          break;
        case 'profile': {
          if (!step || !apply) throw new Error('profile before setup');
          const exe = apply;
          const { kernels, launches } = exe.plan;
          timings ??= new Float64Array(launches.length);
          const t = timings;
          const run = exe.run.bind(exe);
          const total = new Float64Array(kernels.length);
          const count = new Array<number>(kernels.length).fill(0);
          for (const l of launches) count[l.kernel]!++;
          const steps = msg.steps ?? 3;
          let wall = 0;
          exe.run = (inputs: Readonly<Record<string, Tensor>>, opts: RunOptions = {}) =>
            run(inputs, { ...opts, timings: t });
          try {
            for (let s = 0; s < steps; s++) {
              const t0 = performance.now();
              step();
              wall += performance.now() - t0;
              launches.forEach((l, i) => (total[l.kernel] = total[l.kernel]! + t[i]!));
            }
          } finally {
            exe.run = run;
          }
          const kernelNs = total.reduce((a, b) => a + b, 0);
          const top: KernelRow[] = [...total.keys()]
            .sort((a, b) => total[b]! - total[a]!)
            .slice(0, msg.top ?? 12)
            .map((k) => ({
              kernel: kernels[k]!.name,
              note: kernels[k]!.note,
              launches: count[k]!,
              ms: total[k]! / steps / 1e6,
              share: kernelNs > 0 ? total[k]! / kernelNs : 0,
            }));
          // By kind (the kernel name's suffix: gemm, ew, reduce, ...), ms per step.
          const byKind: Record<string, number> = {};
          total.forEach((ns, k) => {
            const kind = kernels[k]!.name.replace(/^k\d+_/, '');
            byKind[kind] = (byKind[kind] ?? 0) + ns / steps / 1e6;
          });
          reply({ ok: true, stepMs: wall / steps, kernelMs: kernelNs / steps / 1e6, byKind, top });
          break;
        }
        case 'quit':
          reply({ ok: true });
          process.exit(0);
          break;
        default:
          reply({ ok: false, error: `unknown command ${msg.cmd}` });
      }
    } catch (e) {
      reply({ ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The driver

/** A child process that answers one JSON line per JSON line sent. */
class Peer {
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  constructor(
    readonly side: 'fmc' | 'torch',
    private readonly child: ChildProcess,
  ) {
    this.lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
  }

  async request<T = Record<string, unknown>>(msg: Record<string, unknown>): Promise<T> {
    this.child.stdin!.write(`${JSON.stringify(msg)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(`${this.side} worker exited:\n${this.stderr}`);
    const r = JSON.parse(next.value) as { ok: boolean; error?: string };
    if (!r.ok) throw new Error(`${this.side}: ${msg.cmd}: ${r.error}`);
    return r as T;
  }

  async close(): Promise<void> {
    try {
      await this.request({ cmd: 'quit' });
    } catch {
      // already gone
    }
    this.child.kill();
  }
}

function startPeer(side: 'fmc' | 'torch', threads: number, omp: Readonly<Record<string, string>>): Peer {
  const env = { ...process.env, ...omp, BENCH_THREADS: String(threads) };
  const child =
    side === 'fmc'
      ? spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--worker', 'fmc'], { env })
      : spawn(PYTHON, [TORCH_SCRIPT], { env });
  return new Peer(side, child);
}

interface Run {
  readonly ms: number[];
  readonly loss: number[];
}

interface SideResult {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  steps: number;
  firstLoss: number;
  lastLoss: number;
  lossOk: boolean;
  baseRssMiB: number;
  setupPeakMiB: number;
  stepsPeakMiB: number;
  peakResetWorked: boolean;
  setup: Record<string, unknown>;
  profile?: unknown;
}

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (i - lo);
};
const median = (xs: readonly number[]): number => quantile(xs, 0.5);
const mib = (kib: number): number => kib / 1024;

function cpuModel(): string {
  try {
    const m = /^Model name:\s*(.+)$/m.exec(execFileSync('lscpu', { encoding: 'utf8' }));
    if (m) return m[1]!.trim();
  } catch {
    // no lscpu
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

const loadavg = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Loss check: finite at the start and lower a few steps later (mean of the last three). */
function lossOk(losses: readonly number[]): boolean {
  if (!losses.every(Number.isFinite) || losses.length < 4) return false;
  const tail = losses.slice(-3);
  return tail.reduce((a, b) => a + b, 0) / tail.length < losses[0]!;
}

interface Options {
  readonly threads: number;
  readonly rounds: number;
  /** At least this many timed steps per side (more rounds when a block is short). */
  readonly minSteps: number;
  readonly warmup: number;
  readonly blockMs: number;
  readonly seed: number;
  readonly profile: boolean;
  readonly omp: Readonly<Record<string, string>>;
}

async function measureWorkload(w: Workload, o: Options): Promise<Record<string, unknown>> {
  const peers = [startPeer('fmc', o.threads, o.omp), startPeer('torch', o.threads, o.omp)] as const;
  try {
    const loadBefore = loadavg();
    const setups: Record<string, unknown>[] = [];
    const setupPeak: number[] = [];
    const resetOk: boolean[] = [];
    for (const p of peers) {
      process.stderr.write(`  ${w.name}: ${p.side} setup...\n`);
      setups.push(await p.request({ cmd: 'setup', workload: w.name, threads: o.threads, seed: o.seed }));
      setupPeak.push((await p.request<{ hwmKiB: number }>({ cmd: 'stats' })).hwmKiB);
      const r = await p.request<{ ok: boolean }>({ cmd: 'reset_peak' }).catch(() => ({ ok: false }));
      resetOk.push(r.ok);
    }
    const runs: Run[][] = [[], []];
    const losses: number[][] = [[], []];
    // Warm-up, alternating; its losses are the first of the loss check.
    for (let i = 0; i < o.warmup; i++)
      for (const [k, p] of peers.entries()) {
        const r = await p.request<Run>({ cmd: 'run', steps: 1 });
        losses[k]!.push(...r.loss);
        runs[k]!.push(r);
      }
    const warm = runs.map((rs) => median(rs.flatMap((r) => r.ms)));
    const block = Math.max(1, Math.min(50, Math.round(o.blockMs / Math.max(...warm))));
    const timed: number[][] = [[], []];
    const rounds = Math.max(o.rounds, Math.ceil(o.minSteps / block));
    process.stderr.write(
      `  ${w.name}: warm-up fmc ${warm[0]!.toFixed(1)} ms, torch ${warm[1]!.toFixed(1)} ms; ${rounds} rounds of ${block} steps each\n`,
    );
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const k of order) {
        const res = await peers[k]!.request<Run>({ cmd: 'run', steps: block });
        timed[k]!.push(...res.ms);
        losses[k]!.push(...res.loss);
      }
    }
    const sides: SideResult[] = [];
    for (const [k, p] of peers.entries()) {
      const peak = (await p.request<{ hwmKiB: number }>({ cmd: 'stats' })).hwmKiB;
      const s: SideResult = {
        medianMs: median(timed[k]!),
        p10Ms: quantile(timed[k]!, 0.1),
        p90Ms: quantile(timed[k]!, 0.9),
        steps: timed[k]!.length,
        firstLoss: losses[k]![0]!,
        lastLoss: losses[k]!.at(-1)!,
        lossOk: lossOk(losses[k]!.slice(0, Math.max(8, o.warmup + 1))),
        baseRssMiB: mib(setups[k]!.baseRssKiB as number),
        setupPeakMiB: mib(setupPeak[k]!),
        stepsPeakMiB: mib(peak),
        peakResetWorked: resetOk[k]!,
        setup: setups[k]!,
      };
      if (o.profile) s.profile = await p.request({ cmd: 'profile', steps: 3 });
      sides.push(s);
    }
    const [fmc, torch] = sides as [SideResult, SideResult];
    return {
      workload: w.name,
      what: w.what,
      block,
      rounds,
      loadBefore,
      loadAfter: loadavg(),
      fmc,
      torch,
      ratio: torch.medianMs / fmc.medianMs,
    };
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
}

/** Two `yes > /dev/null` processes, for the busy measurement. */
function startBusy(): ChildProcess[] {
  return [0, 1].map(() => spawn('yes', [], { stdio: 'ignore' }));
}

function stopBusy(ps: readonly ChildProcess[]): void {
  for (const p of ps) if (p.exitCode === null) p.kill('SIGKILL');
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function printTable(condition: string, results: readonly Record<string, unknown>[]): void {
  const rows = results.map((r) => {
    if (r.error) return [r.workload as string, `failed: ${String(r.error).slice(0, 100)}`, '', '', '', '', '', ''];
    const f = r.fmc as SideResult;
    const t = r.torch as SideResult;
    const range = (s: SideResult) => `${fmt(s.medianMs)} (${fmt(s.p10Ms)}–${fmt(s.p90Ms)})`;
    const mem = (s: SideResult) =>
      `${s.stepsPeakMiB.toFixed(0)} (+${(s.stepsPeakMiB - s.baseRssMiB).toFixed(0)}) /${s.setupPeakMiB.toFixed(0)}`;
    const loss = (s: SideResult) => `${s.firstLoss.toFixed(3)}→${s.lastLoss.toFixed(3)}${s.lossOk ? '' : ' BAD'}`;
    return [
      r.workload as string,
      range(f),
      range(t),
      `${(r.ratio as number).toFixed(2)}×`,
      mem(f),
      mem(t),
      `${loss(f)} | ${loss(t)}`,
      `${r.loadBefore} → ${r.loadAfter}`,
    ];
  });
  console.log(`\n${condition}`);
  console.log(
    table(
      [
        'workload',
        'fmc ms/step (p10–p90)',
        'torch ms/step',
        'torch/fmc',
        'fmc MiB',
        'torch MiB',
        'loss first→last fmc | torch',
        'load avg (1 5 15 min)',
      ],
      rows,
    ),
  );
  for (const r of results) {
    const setup = (r.fmc as SideResult | undefined)?.setup;
    if (!setup) continue;
    console.log(
      `${r.workload}: fmc's step is ${setup.launches} launches of ${setup.kernels} kernels; arena ${fmt(setup.arenaMiB as number)} MiB, ` +
        `params and AdamW state ${fmt(setup.persistentMiB as number)} MiB; ${r.rounds} rounds of ${r.block} steps per side`,
    );
  }
}

function printProfiles(results: readonly Record<string, unknown>[]): void {
  for (const r of results) {
    const f = r.fmc as SideResult | undefined;
    const t = r.torch as SideResult | undefined;
    if (!f?.profile || !t?.profile) continue;
    const fp = f.profile as { stepMs: number; kernelMs: number; byKind: Record<string, number>; top: KernelRow[] };
    const tp = t.profile as { top: { op: string; calls: number; ms: number }[] };
    console.log(
      `\n${r.workload}: fmc top kernels per step (kernels ${fmt(fp.kernelMs)} ms of a ${fmt(fp.stepMs)} ms profiled step; ` +
        Object.entries(fp.byKind)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${fmt(v)} ms`)
          .join(', ') +
        ')',
    );
    console.log(
      table(
        ['kernel', 'launches', 'ms', 'share', 'note'],
        fp.top.map((k) => [k.kernel, String(k.launches), fmt(k.ms), `${(k.share * 100).toFixed(1)}%`, k.note]),
      ),
    );
    console.log(`${r.workload}: torch top ops per step (self CPU time, autograd profiler)`);
    console.log(
      table(
        ['op', 'calls', 'ms'],
        tp.top.map((o) => [o.op, String(o.calls), fmt(o.ms)]),
      ),
    );
  }
}

async function main(): Promise<void> {
  const f = flags({
    only: '',
    threads: '2',
    rounds: '5',
    'min-steps': '12',
    warmup: '3',
    'block-ms': '1500',
    seed: '1',
    busy: '',
    omp: 'as-shipped',
    profile: '',
    json: '',
    worker: '',
  });
  if (f.worker) return worker();
  const omp = OMP_ENV[f.omp!];
  if (!omp) {
    console.error(`--omp: one of ${Object.keys(OMP_ENV).join(', ')}, found ${f.omp}`);
    process.exit(2);
  }
  const o: Options = {
    threads: positive('threads', f.threads!),
    rounds: positive('rounds', f.rounds!),
    minSteps: positive('min-steps', f['min-steps']!),
    warmup: positive('warmup', f.warmup!),
    blockMs: positive('block-ms', f['block-ms']!),
    seed: positive('seed', f.seed!),
    profile: f.profile === 'true',
    omp,
  };
  const only = f.only ? new Set(f.only.split(',')) : undefined;
  const workloads = WORKLOADS.filter((w) => !only || only.has(w.name));
  const conditions = f.busy === 'both' ? ['idle', 'busy'] : f.busy ? ['busy'] : ['idle'];
  const cpu = cpuModel();
  const report: Record<string, unknown> = {
    when: new Date().toISOString(),
    cpu,
    cores: os.cpus().length,
    threads: o.threads,
    omp: f.omp,
    ompEnv: omp,
    rounds: o.rounds,
    minSteps: o.minSteps,
    warmup: o.warmup,
    blockMs: o.blockMs,
    conditions: {},
  };
  let busy: ChildProcess[] = [];
  const cleanup = (): void => stopBusy(busy);
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  for (const condition of conditions) {
    if (condition === 'busy') busy = startBusy();
    const results: Record<string, unknown>[] = [];
    try {
      for (const w of workloads) {
        process.stderr.write(`${condition}: ${w.name}...\n`);
        try {
          results.push(await measureWorkload(w, o));
        } catch (e) {
          results.push({ workload: w.name, error: e instanceof Error ? e.message : String(e) });
        }
      }
    } finally {
      stopBusy(busy);
      busy = [];
    }
    (report.conditions as Record<string, unknown>)[condition] = results;
    if (f.json !== 'true') {
      const what = condition === 'busy' ? 'with 2 busy processes (yes > /dev/null ×2)' : 'idle (no load added)';
      printTable(
        `train step, ${o.threads} threads, fp32, AdamW; ${what}; OpenMP waiting: ${f.omp}; ${cpu} (${os.cpus().length} cores)`,
        results,
      );
      if (o.profile) printProfiles(results);
    }
  }
  const file = writeJson('train.json', report);
  if (f.json === 'true') console.log(JSON.stringify(report, null, 2));
  else {
    console.log(
      '\nms/step: median of the timed steps (10th–90th percentile); torch/fmc > 1 means fmc is faster.\n' +
        'MiB: peak RSS while stepping (+ its excess over the RSS before the model was built: the runtime, Node or Python\n' +
        'with torch, is the rest) / peak during setup (fmc: lowering and compiling the step; torch: building the model).',
    );
    for (const w of workloads) console.log(`${w.name}: ${w.what}`);
    console.log(`wrote ${file}`);
  }
}

await main();
