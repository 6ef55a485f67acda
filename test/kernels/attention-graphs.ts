// Attention graphs as std/attention.fm lowers them, with the masks the attention kernels'
// tests cover (test/kernels/attention.test.ts on the C target, test/cuda/attention-shim.test.ts
// and test/wgsl/attention.test.ts on the GPU ones).

import { Builder } from '../../src/ir/build.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import type { HostTensor } from '../../src/ir/value.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import type { Plan } from '../../src/kernels/plan.js';
import { type RunSpec, ht } from './c-harness.js';

export type Mask = 'none' | 'causal' | 'window' | 'padding' | 'shifted' | 'from' | 'bias';

export interface Case {
  readonly mask: Mask;
  /** masked_softmax (a row with no visible key gives 0) or softmax (NaN). */
  readonly guarded?: boolean;
  readonly H?: number;
  readonly D?: number;
  readonly E?: number;
  readonly W?: number;
  /** Letters of q, k, v and the output in another order (heads outermost on the output). */
  readonly permuted?: boolean;
  /** Scores without the 1/√D scale: the softmax reads the einsum itself. */
  readonly unscaled?: boolean;
}

/** softmax(q kᵀ / √D [+ bias], masked) v, as std/attention.fm lowers it. */
export function attention(c: Case): Graph {
  const { H = 2, D = 8, E = 8, W = 5 } = c;
  const g = new Builder();
  const q = g.input('q', 'f32', ['B', H, 'T', D]);
  const k = g.input('k', 'f32', ['B', H, 'S', D]);
  const v = c.permuted ? g.input('v', 'f32', ['B', 'S', H, E]) : g.input('v', 'f32', ['B', H, 'S', E]);
  const valid = c.mask === 'padding' ? g.input('valid', 'bool', ['B', 'S']) : undefined;
  const shape = ['B', H, 'T', 'S'] as const;
  const qk = g.einsum('bhtd,bhsd->bhts', q, k);
  let x = c.unscaled ? qk : g.mul(qk, g.full(1 / Math.sqrt(D), 'f32'));
  const i = g.iota(0, 'i32', ['T', 'S']);
  const j = g.iota(1, 'i32', ['T', 'S']);
  let mask: Node | undefined;
  if (c.mask === 'causal') mask = g.le(j, i);
  if (c.mask === 'window') mask = g.and(g.le(j, i), g.lt(g.sub(i, j), g.full(W, 'i32')));
  // Key j visible from query i when j ≤ i - 3: the first three rows see nothing.
  if (c.mask === 'shifted') mask = g.le(g.add(j, g.full(3, 'i32')), i);
  // Keys from the query on (j ≥ i) and a window ahead (j - i < W): bounds from below.
  if (c.mask === 'from') mask = g.and(g.ge(j, i), g.gt(g.full(W, 'i32'), g.sub(j, i)));
  if (c.mask === 'padding') mask = g.expand(g.reshape(valid!, ['B', 1, 1, 'S']), shape);
  if (c.mask === 'bias') {
    // An additive per-head bias from a table and the relative distance, with a causal mask.
    const table = g.input('table', 'f32', [H, 16]);
    const rel = g.min(g.max(g.add(g.sub(j, i), g.full(8, 'i32')), g.full(0, 'i32')), g.full(15, 'i32'));
    x = g.add(x, g.gather(table, rel, 1));
    mask = g.le(j, i);
  }
  const guarded = c.guarded ?? true;
  const xm = mask ? g.where(g.expand(mask, shape), x, g.full(-Infinity, 'f32')) : x;
  const m = g.amax(xm, [3], true);
  const ninf = g.full(-Infinity, 'f32');
  const zero = g.full(0, 'f32');
  const e = g.exp(g.sub(xm, guarded ? g.where(g.eq(m, ninf), zero, m) : m));
  const l = g.sum(e, [3], true);
  const p = g.div(e, guarded ? g.where(g.eq(l, zero), g.full(1, 'f32'), l) : l);
  const y = c.permuted ? g.einsum('bhts,bshe->hbte', p, v) : g.einsum('bhts,bhse->bhte', p, v);
  return g.graph('forward', { y });
}

/** valid[b, s]: the last b + 1 keys of sequence b are padding. */
export function paddingValid(B: number, S: number): HostTensor {
  return ht(
    'bool',
    [B, S],
    Array.from({ length: B * S }, (_, x) => (x % S < S - 1 - Math.floor(x / S) ? 1 : 0)),
  );
}

/**
 * The GPU kernel's cases (test/cuda/attention-shim.test.ts, test/wgsl/attention.test.ts), each at
 * bindings 'B,T,S': tiles of 16 queries and keys at head sizes 32 and 64, 32 at 4 and 6
 * (attention-gpu.ts flashTile).
 */
export const ATTENTION_CASES: readonly [string, Case, string][] = [
  ['no mask, D 32', { mask: 'none', guarded: false, D: 32, E: 32 }, '1,5,7 2,45,70'],
  ['causal, D 64, 4 heads', { mask: 'causal', D: 64, E: 64, H: 4 }, '1,37,37'],
  ['sliding window', { mask: 'window', W: 5, D: 32, E: 32 }, '1,70,70'],
  ['sliding window wider than a tile', { mask: 'window', W: 40, D: 32, E: 32 }, '1,100,100'],
  ['padding', { mask: 'padding', H: 3, D: 32, E: 32 }, '3,6,11 2,20,35'],
  ['rows with no visible key, masked_softmax', { mask: 'shifted', D: 32, E: 32 }, '2,8,8'],
  ['rows with no visible key, softmax (NaN)', { mask: 'shifted', guarded: false, D: 32, E: 32 }, '1,8,8'],
  ['bounds from below', { mask: 'from', W: 4, D: 32, E: 32 }, '1,40,40'],
  // Query tiles past S see no key at all: no key tile runs, the output is 0.
  ['bounds from below, S < T', { mask: 'from', W: 40, D: 32, E: 32 }, '1,100,60'],
  ['cross attention, S ≠ T, causal', { mask: 'causal', D: 32, E: 32 }, '2,7,3 1,33,70'],
  ['relative position bias', { mask: 'bias', D: 32, E: 32 }, '1,20,20'],
  ['other letter orders, D ≠ E', { mask: 'causal', D: 4, E: 6, permuted: true, H: 3 }, '2,35,35'],
];

export const attentionPlan = (c: Case): Plan => bindPlanGrids(lowerGraph(attention(c), { target: 'gpu' }));

/** The runs of a case: its bindings, and for padding an all-padding sequence too. */
export function attentionRuns(c: Case, bindings: string): RunSpec[] {
  const runs = bindings.split(' ').map((text, n): RunSpec => {
    const [B, T, S] = text.split(',').map(Number) as [number, number, number];
    return { dims: { B, T, S }, seed: 3 + n, inputs: c.mask === 'padding' ? { valid: paddingValid(B, S) } : undefined };
  });
  if (c.mask !== 'padding') return runs;
  const valid = paddingValid(2, 9);
  valid.data.fill(0, 0, 9);
  return [...runs, { dims: { B: 2, T: 5, S: 9 }, inputs: { valid } }];
}

/** The kinds of a plan's kernels, in order. */
export const planKinds = (plan: Plan): string[] => plan.kernels.map((k) => k.name.replace(/^k\d+_/, ''));
