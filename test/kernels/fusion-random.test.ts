// Random fusion patterns through the C backend, fused and unfused, against the interpreter:
// a product x @ W.T (or a row reduction of x) followed by a random chain of elementwise ops
// whose operands are earlier values of the chain (read again, so the region's nodes are
// used more than once), broadcast params (a bias, a row scale), inputs (a residual, a mask
// for `where`), constants, reductions over the last axis of a chain value (keepdim), and
// chain values returned as extra outputs (which must then be stored). The random-graph
// generator (test/ir/random-graph.ts) rarely builds these shapes; this one always does.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import type { UnaryFn } from '../../src/ir/ops.js';
import { printGraph } from '../../src/ir/print.js';
import { CBatch, MODEL_TOL, assertClean, runAndCompare } from './c-harness.js';

const SEED = Number(process.env.FMC_FC_SEED ?? 4711);
const RUNS = Number(process.env.FMC_FC_RUNS ?? 40);
const UNARY: readonly UnaryFn[] = ['neg', 'exp', 'tanh', 'abs', 'sin'];

/** A graph from a choice stream: [gemm or reduce start, then (op, operand) pairs]. */
function build(choices: readonly number[]): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 40]);
  const xr = g.input('xr', 'f32', ['B', 24, 40]);
  const res = g.input('res', 'f32', ['B', 24]);
  const mask = g.input('mask', 'bool', ['B', 24]);
  const w = g.param('w', 'f32', [24, 40]);
  const bias = g.param('bias', 'f32', [24]);
  let c = 0;
  const next = (n: number): number => (choices[c++] ?? 0) % n;
  const start = next(2) === 0 ? g.einsum('bk,nk->bn', x, w) : g.sum(xr, [2], false);
  const chain: Node[] = [start];
  const outputs: Record<string, Node> = {};
  const steps = 1 + next(8);
  for (let s = 0; s < steps; s++) {
    const a = chain[chain.length - 1 - next(Math.min(3, chain.length))]!;
    const b = [chain[next(chain.length)]!, bias, res, g.full(0.5, 'f32')][next(4)]!;
    let v: Node;
    switch (next(6)) {
      case 0:
        v = g.add(a, b);
        break;
      case 1:
        v = g.mul(a, b);
        break;
      case 2:
        v = g.unary(UNARY[next(UNARY.length)]!, g.mul(a, 0.1));
        break;
      case 3:
        v = g.where(next(2) === 0 ? mask : g.gt(a, b), a, b);
        break;
      case 4:
        v = g.sub(a, next(2) === 0 ? g.amax(a, [1], true) : g.sum(g.mul(a, 0.05), [1], true));
        break;
      default:
        v = g.div(a, g.add(g.sum(g.mul(a, a), [1], true), 1));
    }
    chain.push(v);
    if (next(5) === 0) outputs[`extra${s}`] = v;
  }
  return g.graph('forward', { ...outputs, y: chain[chain.length - 1]! });
}

const arbChoices = fc.array(fc.nat({ max: 1000 }), { minLength: 20, maxLength: 20 });

describe('random GEMM epilogues and row kernels: fused and unfused C vs the interpreter', () => {
  it(`agree on ${RUNS} random graphs (seed ${SEED})`, { timeout: 300_000 }, () => {
    const samples = fc.sample(arbChoices, { seed: SEED, numRuns: RUNS });
    const graphs = samples.map(build);
    const both = graphs.flatMap((g) => [g, g]);
    const batch = CBatch.build(both, { lower: (i) => ({ fusion: i % 2 === 0 }) });
    graphs.forEach((g, i) => {
      for (const B of [3, 7])
        for (const k of [0, 1]) {
          const r = runAndCompare(batch, 2 * i + k, { dims: { B }, seed: i, tol: MODEL_TOL });
          assertClean(g, r.problems, `graph ${i} (fusion ${k === 0 ? 'on' : 'off'}), B = ${B}:\n${printGraph(g)}`);
        }
    });
  });
});
