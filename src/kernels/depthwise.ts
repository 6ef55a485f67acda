// Depthwise convolutions: an einsum such as "nclk,ck->ncl" (window taps k summed, channel c in
// both operands and the output, no letter of the weight outside c and the taps). gemm.ts
// rejects it (no N letter) and einsum.ts's plain loops read the weight with a stride and test
// the padding on every tap. Here the channel is the innermost, SIMD loop, where the data
// operand is contiguous in it (a channel-last input, as conformer's conv module reads its
// [B, T, d] activations): per block of TB output rows the weight is copied once into a local
// [taps][channel] array, and each output row accumulates channel-wide vectors over the taps.
// The sums run over the taps in einsum.ts's order with the same fused multiply-adds, so the
// results are the plain kernel's, bit for bit.

import type { Dim } from '../ir/dims.js';
import type { NodeOf } from '../ir/graph.js';
import { parseEinsum } from '../ir/infer.js';
import { type KExpr, type KStmt, add, dot, f32, int, ix, ivar, loop, mul } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { numelOf } from './elementwise.js';
import { type Fuser, stridesOf } from './expr.js';

/** Output rows (positions of the last non-channel output letter) that share one weight copy. */
const TB = 16;
/** The most taps × channels held in the local weight copy (64 KiB). */
const MAX_LOCAL = 16384;

/** The letters of a depthwise einsum: data and weight operand, channel, taps, other outputs. */
interface Shape {
  readonly data: number;
  readonly weight: number;
  readonly channel: string;
  readonly taps: readonly string[];
  readonly rows: readonly string[];
}

/** The depthwise reading of an einsum, or undefined when it has another form. */
function depthwiseShape(n: NodeOf<'einsum'>): Shape | undefined {
  if (n.inputs.length !== 2 || n.type.dtype !== 'f32') return undefined;
  const { ins, out } = parseEinsum(n.args.spec, 2);
  const specs = ins.map((s) => [...s]);
  if (specs.some((s) => new Set(s).size !== s.length) || new Set(out).size !== out.length) return undefined;
  const taps = [...new Set(specs.flat())].filter((c) => !out.includes(c)).sort();
  if (taps.length === 0 || !taps.every((c) => specs[0]!.includes(c) && specs[1]!.includes(c))) return undefined;
  for (const weight of [1, 0]) {
    const outs = specs[weight]!.filter((c) => out.includes(c));
    const channel = outs[0];
    if (outs.length !== 1 || !specs[1 - weight]!.includes(channel!)) continue;
    const rows = [...out].filter((c) => c !== channel);
    if (rows.length > 0) return { data: 1 - weight, weight, channel: channel!, taps, rows };
  }
  return undefined;
}

/** Whether a kernel expression mentions loop variable `v`. */
function mentions(e: KExpr, v: string): boolean {
  if (e.k === 'var') return e.name === v;
  return Object.values(e).some((x) => typeof x === 'object' && x !== null && 'k' in x && mentions(x as KExpr, v));
}

/** The constant coefficient of `v` in an index expression, or undefined when it is not one. */
function coefficient(e: KExpr, v: string): number | undefined {
  if (!mentions(e, v)) return 0;
  if (e.k === 'var') return 1;
  if (e.k !== 'ix') return undefined;
  const [a, b] = [coefficient(e.a, v), coefficient(e.b, v)];
  if (a === undefined || b === undefined) return undefined;
  if (e.op === '+') return a + b;
  if (e.op === '-') return a - b;
  if (e.op === '*' && b === 0 && e.b.k === 'const') return a * e.b.v;
  if (e.op === '*' && a === 0 && e.a.k === 'const') return b * e.a.v;
  return undefined;
}

/** Whether every load of `e` that depends on `v` reads consecutive elements as `v` steps. */
function contiguousIn(e: KExpr, v: string): boolean {
  if (e.k === 'load' && mentions(e.index, v)) return coefficient(e.index, v) === 1;
  if (e.k === 'load') return true;
  return Object.values(e).every((x) => typeof x !== 'object' || x === null || !('k' in x) || contiguousIn(x, v));
}

/** The depthwise kernel of `n` into buffer `out`, or undefined when einsum.ts's loops should run it. */
export function depthwiseKernel(kb: KernelBuilder, f: Fuser, n: NodeOf<'einsum'>, out: number): KStmt[] | undefined {
  const shape = depthwiseShape(n);
  if (!shape) return undefined;
  const { ins, out: outSpec } = parseEinsum(n.args.spec, 2);
  const sizes = new Map<string, Dim>();
  ins.forEach((s, i) => [...s].forEach((c, j) => sizes.set(c, n.inputs[i]!.type.shape[j]!)));
  const { channel, taps, rows } = shape;
  const constant = (c: string): number | undefined => {
    const d = kb.dim(sizes.get(c)!);
    return d.k === 'const' ? d.v : undefined;
  };
  const channels = constant(channel);
  const tapSizes = taps.map(constant);
  if (channels === undefined || tapSizes.some((s) => s === undefined)) return undefined;
  const tapCount = tapSizes.reduce<number>((a, s) => a * s!, 1);
  if (tapCount * channels > MAX_LOCAL || tapCount === 0 || channels === 0) return undefined;

  const v = kb.fresh('c');
  const tapVars = taps.map(() => kb.fresh('s'));
  const rowVars = rows.map(() => kb.fresh('i'));
  const env = new Map<string, KExpr>([
    [channel, ivar(v)],
    ...taps.map((c, j) => [c, ivar(tapVars[j]!)] as const),
    ...rows.map((c, j) => [c, ivar(rowVars[j]!)] as const),
  ]);
  const operand = (i: number): KExpr =>
    f.at(
      kb,
      n.inputs[i]!,
      [...ins[i]!].map((c) => env.get(c)!),
    );
  const data = operand(shape.data);
  if (!contiguousIn(data, v)) return undefined;

  // Flat tap index: Σ s_j · (sizes after j); loops over the taps in einsum.ts's (sorted) order.
  const tapFlat = tapVars.reduce<KExpr>((acc, s, j) => add(mul(acc, int(tapSizes[j]!)), ivar(s)), int(0));
  const overTaps = (body: KStmt[]): KStmt[] =>
    tapVars.reduceRight<KStmt[]>((inner, s, j) => [loop(s, int(tapSizes[j]!), inner)], body);
  const [wt, acc] = [kb.fresh('wt'), kb.fresh('acc')];
  const at = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
  const wIndex = add(mul(tapFlat, int(channels)), ivar(v));
  const copyWeights = overTaps([
    loop(v, int(channels), [{ k: 'astore', name: wt, index: wIndex, value: operand(shape.weight) }], 'simd'),
  ]);

  const o = kb.param(out, 'write');
  const st = stridesOf(n.type.shape, kb);
  const outIndex = dot(
    [...outSpec].map((c) => env.get(c)!),
    st,
  );
  // One row: channel-wide vectors accumulate over the taps, then the row is stored.
  const row = [
    loop(v, int(channels), [{ k: 'astore', name: acc, index: ivar(v), value: f32(0) }], 'simd'),
    ...overTaps([
      loop(
        v,
        int(channels),
        [
          {
            k: 'astore',
            name: acc,
            index: ivar(v),
            value: { k: 'fma', a: data, b: at(wt, wIndex), c: at(acc, ivar(v)) },
          },
        ],
        'simd',
      ),
    ]),
    loop(v, int(channels), [{ k: 'store', buf: o, index: outIndex, value: at(acc, ivar(v)) }], 'simd'),
  ];

  // The last row letter runs in blocks of TB; the blocks and the other row letters share the threads.
  const last = rowVars.length - 1;
  const lastSize = kb.dim(sizes.get(rows[last]!)!);
  const block = kb.fresh('tb');
  const lo = mul(ivar(block), int(TB));
  const rowLoop = loop(rowVars[last]!, ix('min', lastSize, add(lo, int(TB))), row, 'serial', { lo });
  let stmts: KStmt[] = [
    { k: 'array', name: wt, t: 'f32', size: tapCount * channels, space: 'local' },
    { k: 'array', name: acc, t: 'f32', size: channels, space: 'local' },
    ...copyWeights,
    rowLoop,
  ];
  const blocks = ix('/', add(lastSize, int(TB - 1)), int(TB));
  const outer = [...rowVars.slice(0, last), block];
  const his = [...rows.slice(0, last).map((c) => kb.dim(sizes.get(c)!)), blocks];
  for (let i = outer.length - 1; i >= 0; i--) {
    stmts = [
      i === 0
        ? kb.parallel(outer[i]!, his[i]!, stmts, numelOf([...sizes.values()], kb), { collapse: outer.length })
        : loop(outer[i]!, his[i]!, stmts),
    ];
  }
  return stmts;
}
