// Seeded weight initialization: seconds to draw every param of each seed model with init.ts
// (WebAssembly Philox, fused loops) and with init-reference.ts (the first JavaScript version,
// the same numbers), as float64 host tensors (initParam), runs alternating, medians; and with
// seededWeights, the path of `fmc run --target c` (each param stored in its dtype). Seconds are
// CPU seconds of this process (user + system), steadier than wall time on a shared machine; the
// last column is wall time. Checks on the way that both versions give the same bits.
//
//   node dist/bench/init.js [--runs 3] [--only swa_lm] [--seed 0]

import * as fs from 'node:fs';
import * as path from 'node:path';
import { lowerFile } from '../src/frontend/lower.js';
import { dimSymbols } from '../src/ir/dims.js';
import { initParam } from '../src/ir/init.js';
import { referenceInitParam } from '../src/ir/init-reference.js';
import { concreteShape } from '../src/ir/interp.js';
import type { OpArgs } from '../src/ir/ops.js';
import { seededWeights } from '../src/runtime/compile.js';
import { flags, positive, ROOT, table } from './common.js';

const opts = flags({ runs: '3', only: '', seed: '0' });
const runs = positive('runs', opts['runs']!);
const seed = Number(opts['seed']);
const dir = path.join(ROOT, 'models');
const names = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.fm'))
  .map((f) => f.slice(0, -3))
  .filter((m) => !opts['only'] || opts['only'].split(',').includes(m));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** [CPU seconds, wall seconds] of f(). */
const seconds = (f: () => void): [number, number] => {
  const [c, t] = [cpu(), performance.now()];
  f();
  return [cpu() - c, (performance.now() - t) / 1000];
};

const rows: string[][] = [];
for (const name of names) {
  const r = lowerFile(path.join(dir, `${name}.fm`));
  if (!r.ok) throw new Error(`${name}: does not lower`);
  const params: readonly OpArgs['param'][] = r.lowered.params;
  // Symbolic param dims (rare) take 16, as `fmc run` does without --dims.
  const dims = new Map(params.flatMap((p) => p.shape.flatMap((d) => [...dimSymbols(d)].map((s) => [s, 16] as const))));
  const shapes = params.map((p) => concreteShape(p.shape, dims));
  const count = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  const [fast, fastWall, reference, stored]: [number[], number[], number[], number[]] = [[], [], [], []];
  for (let run = 0; run < runs; run++) {
    const [c, w] = seconds(() => params.forEach((p) => initParam(p, dims, seed)));
    fast.push(c);
    fastWall.push(w);
    reference.push(seconds(() => params.forEach((p, i) => referenceInitParam(p, shapes[i]!, seed)))[0]);
    stored.push(seconds(() => seededWeights(r.lowered, seed, dims))[0]);
  }
  for (const [i, p] of params.entries()) {
    const a = initParam(p, dims, seed).data;
    const b = referenceInitParam(p, shapes[i]!, seed);
    if (!a.every((v, j) => Object.is(v, b[j]))) throw new Error(`${name}: ${p.path} differs from the reference`);
  }
  const [f, o] = [median(fast), median(reference)];
  const s = (x: number) => x.toFixed(3);
  rows.push([name, (count / 1e6).toFixed(1), s(o), s(f), (o / f).toFixed(1), s(median(stored)), s(median(fastWall))]);
}
const header = ['model', 'M values', 'reference s', 'init.ts s', 'speed-up', 'stored s', 'init.ts wall s'];
console.log(table(header, rows));
console.log(`CPU seconds, median of ${runs} runs each, alternating; seed ${seed}; same bits checked for every param`);
