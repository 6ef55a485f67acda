import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { Graph } from '../../src/ir/graph.js';
import { graphParams } from '../../src/ir/graph.js';
import { initParam, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { parseGraph } from '../../src/ir/parse.js';
import { printGraph } from '../../src/ir/print.js';
import type { HostTensor } from '../../src/ir/value.js';
import { verify } from '../../src/ir/verify.js';
import { ARB_N_VALUES, arbGraph, graphStructure } from './random-graph.js';

describe('random graphs', () => {
  it('verify, and print -> parse -> print is the identity', () => {
    fc.assert(
      fc.property(arbGraph(), (g) => {
        verify(g);
        const text = printGraph(g);
        const back = parseGraph(text);
        verify(back);
        expect(printGraph(back)).toBe(text);
        expect(graphStructure(back)).toEqual(graphStructure(g));
      }),
      { numRuns: 300 },
    );
  });

  it('are not trivial', () => {
    const gs = fc.sample(arbGraph(), { numRuns: 200, seed: 1 });
    const ops = new Set(gs.flatMap((g) => printGraph(g).match(/= [a-z_]+/g) ?? []));
    expect([...ops].sort()).toEqual(
      [
        'binary',
        'buffer',
        'cast',
        'concat',
        'cumsum',
        'dim',
        'einsum',
        'expand',
        'full',
        'gather',
        'input',
        'iota',
        'pad',
        'param',
        'permute',
        'random',
        'reduce',
        'reshape',
        'scatter_add',
        'slice',
        'topk',
        'unary',
        'where',
        'window',
      ].map((o) => `= ${o}`),
    );
    const sizes = gs.map((g) => printGraph(g).split('\n').length);
    expect(sizes.reduce((a, b) => a + b, 0) / gs.length).toBeGreaterThan(10);
    expect(gs.filter((g) => g.dims.includes('N')).length).toBeGreaterThan(40);
  });
});

/** Evaluates with random inputs and initial params keyed by `seed`. */
function run(g: Graph, n: number, seed: number) {
  const dims = new Map(g.dims.map((s) => [s, n] as const));
  const inputs = new Map(g.inputs.map((i) => [i.args.name, randomInput(i, dims, seed, 4)] as const));
  const params = new Map(graphParams(g).map((p) => [p.args.path, initParam(p.args, dims, seed)] as const));
  return evaluate(g, { inputs, params, dims });
}

const same = (a: HostTensor, b: HostTensor): boolean =>
  a.dtype === b.dtype &&
  a.shape.length === b.shape.length &&
  a.shape.every((d, i) => d === b.shape[i]) &&
  a.data.length === b.data.length &&
  a.data.every((v, i) => Object.is(v, b.data[i]));

describe('random graphs evaluate', () => {
  it('bit-identically before and after print/parse', () => {
    fc.assert(
      fc.property(arbGraph(), fc.constantFrom(...ARB_N_VALUES), fc.nat(1000), (g, n, seed) => {
        const a = run(g, n, seed);
        const b = run(parseGraph(printGraph(g)), n, seed);
        for (const key of ['outputs', 'updates'] as const) {
          expect([...b[key].keys()]).toEqual([...a[key].keys()]);
          for (const [name, t] of a[key]) expect(same(t, b[key].get(name)!), `${key} ${name}`).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
