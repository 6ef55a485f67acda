// Checker values as a hover shows them, and parameter counts of block instances.

import { type Dim, dimAdd, dimConst, dimConstFrac, dimMul, DimTooComplex, dimToString } from '../ir/dims.js';
import {
  type BlockInstance,
  describe,
  floatText,
  typeToString,
  type V,
  valueKey,
  valueText as hparamText,
} from '../frontend/types.js';

/** A value as the user reads it: `f32[B, T, 512]`, `int = d`, `(f32[N], f32[N])`. */
export function valueText(v: V): string {
  switch (v.kind) {
    case 'tensor':
      return typeToString(v.t);
    case 'int':
      return `int = ${dimToString(v.dim)}`;
    case 'float':
      return v.value === undefined ? 'float' : `float = ${floatText(v.value)}`;
    case 'bool':
      return v.value === undefined ? 'bool' : `bool = ${v.value}`;
    case 'dtype':
      return `dtype = ${v.value}`;
    case 'enum':
      return v.value === undefined ? v.options.join(' | ') : `${v.options.join(' | ')} = ${v.value}`;
    case 'str':
      return JSON.stringify(v.value);
    case 'tuple':
      return `(${v.items.map(valueText).join(', ')})`;
    case 'list':
      // A list of ints is an `[int]` value: `[int] = [0, 2]`.
      if (v.items.length > 0 && v.items.every((x) => x.kind === 'int')) return `[int] = ${hparamText(v)}`;
      return `[${v.items.map(valueText).join(', ')}]`;
    case 'child': {
      // Every hyperparameter's value (the instance's own label names only the arguments
      // given, and a memoized instance may have been made by a call that gave none).
      const { inst, multi: m } = v.child;
      const hps = inst.decl.hparams.flatMap((h) => {
        const b = inst.scope.get(h.name.name);
        return b ? [`${h.name.name} = ${hparamText(b.value)}`] : [];
      });
      return `${m ? `${m.mode} ${dimToString(m.count)} ` : ''}${inst.decl.name.name}(${hps.join(', ')})`;
    }
    case 'block':
      return `${v.decl.isModel ? 'model' : 'block'} ${v.decl.name.name}`;
    case 'fn':
      return `fn ${v.name}`;
    default:
      return describe(v);
  }
}

/** A key equal for equal values (`valueKey`, which does not tell child instances apart). */
export function valueIdentity(v: V): string {
  if (v.kind === 'child')
    return `child:${v.child.inst.key}:${v.child.multi?.mode ?? ''}:${v.child.multi?.count.key ?? ''}`;
  if (v.kind === 'block') return `block:${v.module}:${v.decl.span.start}`;
  if (v.kind === 'tuple' || v.kind === 'list') return `${v.kind}(${v.items.map(valueIdentity).join(',')})`;
  return valueKey(v);
}

export interface ParamCount {
  /** Learnable parameters (elements), symbolic when the instance is generic. */
  readonly params: Dim;
  /** Buffer elements. */
  readonly buffers: Dim;
  /** Number of param and buffer tensors. */
  readonly tensors: number;
}

/** Parameter and buffer elements of an instance, children included (`repeat`/`stack N` count N times). */
export function countParams(inst: BlockInstance): ParamCount | undefined {
  try {
    return count(inst, new Set());
  } catch (e) {
    if (e instanceof DimTooComplex || e instanceof RangeError) return undefined;
    throw e;
  }
}

function count(inst: BlockInstance, seen: Set<BlockInstance>): ParamCount {
  let params = dimConst(0);
  let buffers = dimConst(0);
  let tensors = 0;
  if (seen.has(inst)) return { params, buffers, tensors };
  seen.add(inst);
  for (const [, b] of inst.scope) {
    const v = b.value;
    if ((b.what === 'param' || b.what === 'buffer') && v.kind === 'tensor') {
      const n = v.t.shape.dims.reduce((acc, d) => dimMul(acc, d), dimConst(1));
      if (b.what === 'param') params = dimAdd(params, n);
      else buffers = dimAdd(buffers, n);
      tensors++;
    } else if (v.kind === 'child') {
      const c = count(v.child.inst, seen);
      const k = v.child.multi?.count ?? dimConst(1);
      params = dimAdd(params, dimMul(k, c.params));
      buffers = dimAdd(buffers, dimMul(k, c.buffers));
      const kn = dimConstFrac(k);
      tensors += c.tensors * (kn && kn.den === 1n ? Number(kn.num) : 1);
    }
  }
  seen.delete(inst);
  return { params, buffers, tensors };
}

/** `12,345,678 (12.3M)` for a constant; the polynomial (`4*d^2 + 4*d`) when symbolic. */
export function countText(d: Dim): string {
  const c = dimConstFrac(d);
  if (!c || c.den !== 1n) return dimToString(d);
  const n = c.num;
  const grouped = n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const x = Number(n);
  const short =
    x >= 1e9
      ? `${(x / 1e9).toFixed(2)}B`
      : x >= 1e6
        ? `${(x / 1e6).toFixed(2)}M`
        : x >= 1e4
          ? `${(x / 1e3).toFixed(1)}K`
          : '';
  return short ? `${grouped} (${short})` : grouped;
}
