// The interpreter's einsum. Two float operands take a fast but plain path: both are copied
// into [batch, free, summed] order, so every dot product runs over contiguous memory; every
// other case is the one-sum-per-element reference loop. Both compute the same sums. i64
// operands are summed exactly in bigint and wrap at 2^63.

import { isInt } from './dtype.js';
import { parseEinsum } from './infer.js';
import { affinePositions, flatAt, forEachIndex, intBinary, result, strides } from './interp-ops.js';
import { type HostTensor, i64Of, i64Tensor, shapeSize } from './value.js';

export function einsum(spec: string, ops: readonly HostTensor[], shape: readonly number[]): HostTensor {
  const { ins, out } = parseEinsum(spec, ops.length);
  const [a, b] = ops as [HostTensor, HostTensor | undefined];
  if (!b || isInt(a.dtype)) return einsumGeneric(spec, ops, shape);
  const [la, lb] = [ins[0]!, ins[1]!];
  // Every letter must be batch (in a, b and out), free (in one operand and out) or summed (in both, not out).
  const onlyOne = [...la, ...lb].some((c) => !out.includes(c) && !(la.includes(c) && lb.includes(c)));
  if (onlyOne) return einsumGeneric(spec, ops, shape);
  const batch = [...out].filter((c) => la.includes(c) && lb.includes(c));
  const m = [...out].filter((c) => la.includes(c) && !lb.includes(c));
  const n = [...out].filter((c) => lb.includes(c) && !la.includes(c));
  const k = [...la].filter((c) => lb.includes(c) && !out.includes(c));
  const size = new Map<string, number>();
  [...la].forEach((c, i) => size.set(c, a.shape[i]!));
  [...lb].forEach((c, i) => size.set(c, b.shape[i]!));
  const count = (ls: string[]) => ls.reduce((p, c) => p * size.get(c)!, 1);
  const [B, M, N, K] = [count(batch), count(m), count(n), count(k)];
  const pa = arrange(a, la, [...batch, ...m, ...k], size);
  const pb = arrange(b, lb, [...batch, ...n, ...k], size);
  const c = new Float64Array(B * M * N);
  for (let bi = 0; bi < B; bi++)
    for (let i = 0; i < M; i++) {
      const ra = (bi * M + i) * K;
      for (let j = 0; j < N; j++) {
        const rb = (bi * N + j) * K;
        let acc = 0;
        for (let q = 0; q < K; q++) acc += pa[ra + q]! * pb[rb + q]!;
        c[(bi * M + i) * N + j] = acc;
      }
    }
  // c is in [batch, m, n] letter order; move it to the output's order.
  const have = [...batch, ...m, ...n].join('');
  const data = arrange({ dtype: a.dtype, shape: [...have].map((l) => size.get(l)!), data: c }, have, [...out], size);
  return result(a.dtype, shape, data);
}

/** A copy of `t` (letters `from`) with its axes in the order `to`. */
function arrange(t: HostTensor, from: string, to: readonly string[], size: ReadonlyMap<string, number>): Float64Array {
  if (to.join('') === from) return t.data;
  const st = strides(t.shape);
  const step = to.map((l) => st[from.indexOf(l)]!);
  const at = affinePositions(
    to.map((l) => size.get(l)!),
    0,
    step,
    t.data.length,
  );
  const data = new Float64Array(t.data.length);
  for (let i = 0; i < data.length; i++) data[i] = t.data[at[i]!]!;
  return data;
}

/** Letters-only einsum of one or two operands: letters missing from the output are summed. */
/** The reference einsum: one clear sum per output element (integers, one operand, odd specs). */
export function einsumGeneric(spec: string, ops: readonly HostTensor[], shape: readonly number[]): HostTensor {
  const { ins, out } = parseEinsum(spec, ops.length);
  const dtype = ops[0]!.dtype;
  const size = new Map<string, number>();
  ins.forEach((s, k) => [...s].forEach((c, i) => size.set(c, ops[k]!.shape[i]!)));
  // Summed letters, smallest first: the last one is the float path's plain inner loop.
  const summed = [...new Set(ins.join(''))].filter((c) => !out.includes(c)).sort((x, y) => size.get(x)! - size.get(y)!);
  // step[k][l]: how far operand k's flat position moves when letter l (output letters, then summed) grows by one.
  const step = ops.map((t, k) => {
    const st = strides(t.shape);
    return [...out, ...summed].map((c) => (ins[k]!.includes(c) ? st[ins[k]!.indexOf(c)]! : 0));
  });
  const sumShape = summed.map((c) => size.get(c)!);
  if (dtype === 'i64') {
    const exact = ops.map(i64Of);
    const res = new BigInt64Array(shapeSize(shape));
    forEachIndex(shape, (o, flat) => {
      const base = step.map((st) => flatAt(st, o));
      let acc = 0n;
      forEachIndex(sumShape, (s) => {
        let prod = 1n;
        exact.forEach((e, k) => {
          prod = BigInt.asIntN(64, prod * e[base[k]! + s.reduce((p, v, j) => p + v * step[k]![out.length + j]!, 0)]!);
        });
        acc = BigInt.asIntN(64, acc + prod);
      });
      res[flat] = acc;
    });
    return i64Tensor(shape, res);
  }
  const data = new Float64Array(shapeSize(shape));
  const [mul, add] = isInt(dtype)
    ? [(x: number, y: number) => intBinary('mul', dtype, x, y), (x: number, y: number) => intBinary('add', dtype, x, y)]
    : [(x: number, y: number) => x * y, (x: number, y: number) => x + y];
  forEachIndex(shape, (o, flat) => {
    const base = step.map((st) => flatAt(st, o));
    let acc = 0;
    forEachIndex(sumShape, (s) => {
      let prod = 1;
      ops.forEach((t, k) => {
        const at = base[k]! + s.reduce((p, v, j) => p + v * step[k]![out.length + j]!, 0);
        prod = k === 0 ? t.data[at]! : mul(prod, t.data[at]!);
      });
      acc = add(acc, prod);
    });
    data[flat] = acc;
  });
  return result(dtype, shape, data);
}
