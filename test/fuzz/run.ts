// The long-running whole-pipeline fuzzer: `npm run fuzz -- --count 100000 [--seed S] [--out DIR]`
// (options: args.ts).
//
// Cases (seeds S, S+1, ...) are generated and run in worker processes (worker.ts; --jobs,
// default one per core, at most 4), in batches whose C functions share one compiled library
// per flag set (--batch; every --shipped-every-th seed with the shipped flags, the others at
// -O0: pipeline.ts cFlags). A crash of a worker process or a hang (a stage over its time
// limit: --case-limit seconds for check, lowering, passes and the reference, --compile-limit
// for a batch's C build) is pinned on its case and stage: the rest of such a batch is run
// again one case at a time, and a hang counts only if the case hangs again when run alone. Each failing program is shrunk (delta debugging, shrink.ts,
// --shrink-limit seconds) in a worker too, and written with its failure text to
// DIR/<kind>-<seed>/. `--wgsl K` also runs every K-th seed on the WGSL target (wgsl.ts).
// `--resume DIR` does a long run in pieces (progress.ts). Progress lines, the time spent in
// each stage and the final counts go to stdout; the exit status is 1 when anything failed.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Options, parseArgs, stopTime } from './args.js';
import { generate, printProgram } from './gen.js';
import type { Failure, Stage } from './pipeline.js';
import {
  type Piece,
  type Progress,
  addCounts,
  caseCounts,
  countsLine,
  nextSeed,
  readProgress,
  report,
  writeProgress,
  zeroCounts,
} from './progress.js';
import { shrink } from './shrink.js';
import { type CaseReport, type Job, Worker, workerMain } from './worker.js';

const failureLine = (seed: number, f: Failure): string =>
  `seed ${seed}: ${f.kind} in ${f.stage}${f.fn ? ` (${f.fn})` : ''}: ${f.message.split('\n')[0]}`;

/** The run this invocation continues (--resume) or starts. */
function theRun(o: Options): Progress {
  const fresh: Progress = {
    seed: o.seed,
    count: o.count,
    options: { batch: o.batch, cEvery: o.cEvery, wgslEvery: o.wgslEvery, shippedEvery: o.shippedEvery },
    pieces: [],
  };
  const had = o.resume === undefined ? undefined : readProgress(o.resume);
  if (had) console.log(`resuming ${o.resume}: seeds and options from its progress file`);
  return had ?? fresh;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.report !== undefined) {
    const p = readProgress(o.report);
    if (!p) throw new Error(`no progress file in ${o.report}`);
    console.log(report(p));
    return;
  }
  const run = theRun(o);
  const { batch, cEvery, wgslEvery, shippedEvery } = run.options;
  const out = o.out ?? (o.resume !== undefined ? path.join(o.resume, 'failures') : 'fuzz-failures');
  const started = Date.now();
  let stopAt = stopTime(o, started);
  const end = Math.min(run.seed + run.count, o.piece > 0 ? nextSeed(run) + o.piece : Infinity);
  const piece: Piece = {
    from: nextSeed(run),
    to: nextSeed(run),
    started: new Date(started).toISOString(),
    seconds: 0,
    counts: zeroCounts(),
    failures: [],
  };
  const save = (): void => {
    if (o.resume === undefined) return;
    writeProgress(o.resume, { ...run, pieces: [...run.pieces, ...(piece.to > piece.from ? [piece] : [])] });
  };
  const queue: number[][] = [];
  for (let s = piece.from; s < end; s += batch)
    queue.push(Array.from({ length: Math.min(batch, end - s) }, (_, i) => s + i));
  // Batches finish out of order (several workers, crashes re-run one by one); the piece takes
  // them in seed order, so it is always a contiguous range.
  const finished = new Map<number, CaseReport[]>();
  const failures: { seed: number; failure: Failure }[] = [];
  const live = zeroCounts();
  const take = (cases: CaseReport[]): void => {
    for (const c of cases) {
      addCounts(live, caseCounts(c));
      for (const f of c.failures) console.log(failureLine(c.seed, f));
    }
    finished.set(cases[0]!.seed, cases);
    for (let next = finished.get(piece.to); next; next = finished.get(piece.to)) {
      finished.delete(piece.to);
      for (const c of next) {
        addCounts(piece.counts, caseCounts(c));
        for (const f of c.failures) {
          failures.push({ seed: c.seed, failure: f });
          piece.failures.push({
            seed: c.seed,
            kind: f.kind,
            stage: f.stage,
            ...(f.fn ? { fn: f.fn } : {}),
            line: failureLine(c.seed, f),
          });
        }
      }
      piece.to = next.at(-1)!.seed + 1;
      piece.seconds = (Date.now() - started) / 1000;
      save();
    }
  };
  const line = (): string => {
    const secs = (Date.now() - started) / 1000;
    return `of ${end - piece.from} seeds from ${piece.from}: ${countsLine(live, secs)}`;
  };
  const timer = setInterval(() => console.log(line()), 10_000);
  const stageMs = new Map<Stage, number>();
  const self = import.meta.url;
  const workers = Array.from(
    { length: o.jobs },
    () => new Worker(self, { caseMs: o.caseLimit * 1000, compileMs: o.compileLimit * 1000 }, stageMs),
  );
  const retried = new Set<number>();
  let signals = 0;
  const onSignal = (sig: string): void => {
    if (++signals === 1) {
      console.log(`${sig}: no new batches; finishing the ones in flight (again to stop now)`);
      stopAt = 0;
      return;
    }
    for (const w of workers) w.stop();
    save();
    console.log(`${sig}: stopped; ${countsLine(piece.counts, piece.seconds)} (seeds ${piece.from}..${piece.to - 1})`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await Promise.all(
    workers.map(async (w) => {
      for (let seeds = queue.shift(); seeds && Date.now() < stopAt; seeds = queue.shift()) {
        const job: Job = { type: 'batch', seeds, cEvery, wgslEvery, shippedEvery };
        const r = await w.run(job);
        if (r.type === 'done') take(r.cases);
        else if (r.type === 'lost') {
          // One case at a time, so the crash or hang is pinned on its case. A hang is timed by
          // the wall clock, which a starved worker (a loaded machine, nice 19) also runs out:
          // the case runs once more, alone in a fresh worker, and counts only if it hangs again.
          if (seeds.length > 1) queue.unshift(...seeds.map((s) => [s]));
          else if (r.kind === 'hang' && !retried.has(r.seed)) {
            retried.add(r.seed);
            console.log(`seed ${r.seed}: ${r.why}; running it again to confirm the hang`);
            queue.unshift(seeds);
          } else {
            const failure: Failure = { kind: r.kind, stage: r.stage, message: r.why };
            take([
              {
                seed: r.seed,
                failures: [failure],
                compared: 0,
                shipped: false,
                comparedWgsl: 0,
                wideI64: 0,
                nonFinite: 0,
                graphs: 0,
              },
            ]);
          }
        }
      }
    }),
  );
  clearInterval(timer);
  piece.seconds = (Date.now() - started) / 1000;
  save();
  const busy = [...stageMs.values()].reduce((a, b) => a + b, 0);
  console.log(
    `time by stage (all workers, ${(busy / 1000).toFixed(0)} s): ` +
      [...stageMs]
        .sort((a, b) => b[1] - a[1])
        .map(([s, ms]) => `${s} ${(ms / 1000).toFixed(1)} s (${((100 * ms) / Math.max(busy, 1)).toFixed(0)}%)`)
        .join(', '),
  );
  if (failures.length > 0) await writeFailures(failures, out, workers[0]!, o, shippedEvery);
  for (const w of workers) w.stop();
  console.log(`done: seeds ${piece.from}..${piece.to - 1}: ${countsLine(piece.counts, piece.seconds)}`);
  if (o.resume !== undefined) console.log(report(readProgress(o.resume)!));
  process.exitCode = failures.length > 0 ? 1 : 0;
}

/** Shrinks every failure (in a worker) and writes it to `out`/<kind>-<seed>/. */
async function writeFailures(
  failures: readonly { seed: number; failure: Failure }[],
  out: string,
  w: Worker,
  o: Options,
  shippedEvery: number,
): Promise<void> {
  fs.mkdirSync(out, { recursive: true });
  for (const { seed, failure } of failures) {
    const program = generate(seed);
    const wgsl = failure.stage.startsWith('wgsl');
    const result = await shrink(
      program,
      failure,
      async (q) => {
        const r = await w.run({ type: 'program', program: q, wgsl, shippedEvery });
        if (r.type === 'program') return r.failures;
        if (r.type === 'lost') return [{ kind: r.kind, stage: r.stage, message: r.why }];
        return [];
      },
      o.shrinkLimit * 1000,
    );
    const dir = path.join(out, `${failure.kind}-${seed}${failure.fn ? `-${failure.fn}` : ''}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'program.fm'), printProgram(result.program));
    fs.writeFileSync(path.join(dir, 'original.fm'), printProgram(program));
    fs.writeFileSync(path.join(dir, 'program.json'), `${JSON.stringify(result.program, null, 1)}\n`);
    const text = (f: Failure): string => `${f.kind} in ${f.stage}${f.fn ? ` (${f.fn})` : ''}\n${f.message}\n`;
    fs.writeFileSync(
      path.join(dir, 'failure.txt'),
      `seed ${seed} (replay: npm run fuzz -- --seed ${seed} --count 1 --shipped-every ${shippedEvery}` +
        `${wgsl ? ` --wgsl 1` : ''})\n` +
        `dims ${JSON.stringify(program.dims)}\n\n` +
        `shrunk (${result.tries} candidates tried):\n${text(result.failure)}\noriginal:\n${text(failure)}`,
    );
    console.log(`wrote ${dir} (${result.tries} candidates tried)`);
  }
}

if (process.argv.includes('--worker')) workerMain();
else
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  });
