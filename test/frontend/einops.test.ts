import { describe, it, expect } from 'vitest';
import { checkEinsum, checkRearrange } from '../../src/frontend/checker/einops.js';
import { Checker, type Ctx, Scope } from '../../src/frontend/checker/context.js';
import { type Dim, dimConst, dimDiv, dimMul, dimSym } from '../../src/ir/dims.js';
import type { Span } from '../../src/frontend/source.js';
import { type Dtype, type TensorT, type V, shapeToString } from '../../src/frontend/types.js';

const span: Span = { file: 't.fm', start: 0, end: 1 };
const specSpan: Span = { file: 't.fm', start: 10, end: 20 };
const sizeSpan: Span = { file: 't.fm', start: 30, end: 35 };

function mkCtx(): Ctx {
  const checker = new Checker(undefined as never);
  return {
    checker,
    scope: new Scope(undefined),
    module: 't.fm',
    owner: undefined,
    allowTensors: true,
    fnEllipsis: undefined,
  };
}

const d = (x: number | string | Dim): Dim =>
  typeof x === 'number' ? dimConst(x) : typeof x === 'string' ? dimSym(x) : x;
function t(dims: (number | string | Dim)[], dtype: Dtype = 'f32', prefix?: string): TensorT {
  return { dtype, shape: { prefix, dims: dims.map(d) }, origin: undefined };
}
function shapeText(v: V): string {
  if (v.kind !== 'tensor') throw new Error(`expected a tensor, got ${v.kind}`);
  return shapeToString(v.t.shape);
}

function einsum(spec: string, ...ops: TensorT[]) {
  const ctx = mkCtx();
  const v = checkEinsum(ctx, spec, specSpan, ops, span);
  return { v, diags: ctx.checker.diagnostics };
}
function ok(spec: string, ...ops: TensorT[]): string {
  const { v, diags } = einsum(spec, ...ops);
  expect(diags).toEqual([]);
  return shapeText(v);
}
function err(code: string, spec: string, ...ops: TensorT[]): string {
  const { v, diags } = einsum(spec, ...ops);
  expect(v).toEqual({ kind: 'error' });
  expect(diags).toHaveLength(1);
  expect(diags[0]!.code).toBe(code);
  return diags[0]!.message;
}

describe('checkEinsum', () => {
  it('matmul and batched matmul', () => {
    expect(ok('ij,jk->ik', t([2, 3]), t([3, 4]))).toBe('[2, 4]');
    expect(ok('bij,bjk->bik', t(['B', 'T', 64]), t(['B', 64, 'T']))).toBe('[B, T, T]');
  });
  it('attention scores, whitespace, result dtype', () => {
    const { v } = einsum(' bhtd , bhsd -> bhts ', t([2, 8, 'T', 64], 'bf16'), t([2, 8, 'S', 64], 'bf16'));
    expect(shapeText(v)).toBe('[2, 8, T, S]');
    expect(v.kind === 'tensor' && v.t.dtype).toBe('bf16');
  });
  it('`...` with a variadic prefix and extra leading dims', () => {
    expect(ok('...i,oi->...o', t([64], 'f32', 'P'), t([128, 64]))).toBe('[..., 128]');
    expect(ok('...i,oi->...o', t([2, 'T', 64]), t([128, 64]))).toBe('[2, T, 128]');
    expect(ok('...ij,...jk->...ik', t([1, 5, 2, 3]), t([4, 1, 3, 6]))).toBe('[4, 5, 2, 6]');
    expect(ok('...ij,jk->...ik', t([3, 4], 'f32', 'P'), t([4, 5]))).toBe('[..., 3, 5]');
    expect(ok('i...,i->...', t([3, 4, 5]), t([3]))).toBe('[4, 5]');
  });
  it('diagonal, transpose, sums, inputs `...` summed when absent from the output', () => {
    expect(ok('ii->i', t([5, 5]))).toBe('[5]');
    expect(ok('ij->ji', t(['T', 3]))).toBe('[3, T]');
    expect(ok('ij->', t([2, 3]))).toBe('[]');
    expect(ok('...i->i', t([2, 3, 4]))).toBe('[4]');
  });
  it('spec syntax errors', () => {
    expect(err('FM0409', 'ij,jk', t([2, 3]), t([3, 4]))).toContain('->');
    expect(err('FM0409', 'ij,jk->ik->i', t([2, 3]), t([3, 4]))).toContain('more than one');
    expect(err('FM0409', 'ij,jk->i,k', t([2, 3]), t([3, 4]))).toContain('single term');
    expect(err('FM0409', 'i2,jk->ik', t([2, 3]), t([3, 4]))).toContain('`2`');
    expect(err('FM0409', '...i...->i', t([2, 3]))).toContain('twice');
    expect(err('FM0409', 'ij,jk->ik', t([2, 3]))).toContain('2 input term(s) but 1 operand(s)');
    expect(err('FM0409', 'i,i,i->i', t([2]), t([2]), t([2]))).toContain('one or two operands');
  });
  it('output letters', () => {
    expect(err('FM0409', 'ij,jk->iz', t([2, 3]), t([3, 4]))).toContain('`z`');
    expect(err('FM0409', 'ij->ii', t([2, 2]))).toMatch(/`i` appears twice/);
    expect(err('FM0409', 'ij->...ij', t([2, 2]))).toContain('no input does');
    expect(err('FM0409', '...i->i...', t([2], 'f32', 'P'))).toContain('must come first');
  });
  it('letter sizes must match exactly (1 does not broadcast)', () => {
    const m = err('FM0409', 'ij,jk->ik', t([2, 64]), t([32, 4]));
    expect(m).toBe('invalid einsum: `j` is 64 in operand 1 but 32 in operand 2');
    expect(err('FM0409', 'ij,jk->ik', t([2, 1]), t([3, 4]))).toContain('`j`');
    expect(err('FM0409', 'ii->i', t([2, 3]))).toContain('`i` is both 2 and 3 in operand 1');
    expect(err('FM0409', 'bij,bjk->bik', t(['B', 2, 3]), t(['C', 3, 4]))).toContain('`b` is B in operand 1 but C');
  });
  it('term rank vs operand rank', () => {
    expect(err('FM0409', 'i,oi->o', t([64]), t([3, 128, 64]))).toContain(
      'operand 2 has rank 3 but its term `oi` has 2 letters',
    );
    expect(err('FM0409', '...ij,jk->...ik', t([3]), t([3, 4]))).toContain('operand 1');
    expect(err('FM0409', 'i,i->i', t([3], 'f32', 'P'), t([3]))).toContain('no `...`');
    expect(err('FM0409', 'i...,i->...', t([3], 'f32', 'P'), t([3]))).toContain('must come first');
  });
  it('`...` parts broadcast (FM0400)', () => {
    expect(err('FM0400', '...i,...i->...i', t([2, 3]), t([4, 3]))).toBe(
      'cannot broadcast f32[2, 3] with f32[4, 3]: dim 2 vs 4',
    );
    expect(err('FM0400', '...i,...i->...', t([3], 'f32', 'P'), t([3], 'f32', 'Q'))).toContain('...P vs ...Q');
    expect(err('FM0400', '...i,...i->...', t([3], 'f32', 'P'), t([5, 3]))).toContain('... vs 5');
    expect(ok('...i,...i->...', t([3], 'f32', 'P'), t([3], 'f32', 'P'))).toBe('[...]');
  });
  it('dtypes: equal (FM0401), not bool', () => {
    expect(err('FM0401', 'ij,jk->ik', t([2, 3], 'f32'), t([3, 4], 'f16'))).toBe('dtype mismatch: f32 vs f16');
    expect(err('FM0409', 'ij->ji', t([2, 3], 'bool'))).toContain('bool');
    expect(ok('ij,jk->ik', t([2, 3], 'i32'), t([3, 4], 'i32'))).toBe('[2, 4]');
  });
});

function rearrange(x: TensorT, pattern: string, sizes: Record<string, number | string | Dim> = {}) {
  const ctx = mkCtx();
  const m = new Map(Object.entries(sizes).map(([k, v]) => [k, { dim: d(v), span: sizeSpan }]));
  const v = checkRearrange(ctx, x, pattern, specSpan, m, span);
  return { v, diags: ctx.checker.diagnostics };
}
function rok(x: TensorT, pattern: string, sizes: Record<string, number | string | Dim> = {}): string {
  const { v, diags } = rearrange(x, pattern, sizes);
  expect(diags).toEqual([]);
  return shapeText(v);
}
function rerr(code: string, x: TensorT, pattern: string, sizes: Record<string, number | string | Dim> = {}) {
  const { v, diags } = rearrange(x, pattern, sizes);
  expect(v).toEqual({ kind: 'error' });
  expect(diags).toHaveLength(1);
  expect(diags[0]!.code).toBe(code);
  return diags[0]!;
}

describe('checkRearrange', () => {
  it('split heads with symbolic T', () => {
    expect(rok(t([2, 'T', 64]), 'b t (h d) -> b h t d', { h: 8 })).toBe('[2, 8, T, 8]');
    expect(rok(t(['B', 'T', 'D']), 'b t (h d) -> b h t d', { h: 'H' })).toBe('[B, H, T, D/H]');
    expect(rok(t([2, 'T', 64]), 'b t (h d) -> b h t d', { h: 8, d: 8 })).toBe('[2, 8, T, 8]');
  });
  it('merge, transpose, `...`', () => {
    expect(rok(t([2, 8, 'T', 8]), 'b h t d -> b t (h d)')).toBe('[2, T, 64]');
    expect(rok(t([2, 3, 4, 5]), 'b c h w -> b (h w) c')).toBe('[2, 20, 3]');
    expect(rok(t([2, 20, 3]), 'b (h w) c -> b c h w', { h: 4 })).toBe('[2, 3, 4, 5]');
    expect(rok(t([64], 'f32', 'P'), '... (h d) -> ... h d', { h: 4 })).toBe('[..., 4, 16]');
    expect(rok(t([2, 'T', 64]), '... (h d) -> ... h d', { d: 16 })).toBe('[2, T, 4, 16]');
    expect(rok(t([2, 3, 4]), 'a ... -> ... a')).toBe('[3, 4, 2]');
  });
  it('symbolic split of a symbolic dim', () => {
    const x = t([dimMul(dimSym('T'), dimConst(2))]);
    expect(rok(x, '(t two) -> two t', { two: 2 })).toBe('[2, T]');
    expect(rok(t(['T']), '(a b) -> a b', { b: 2 })).toBe('[T/2, 2]');
  });
  it('unit axes and the result dtype', () => {
    expect(rok(t(['B', 'T']), 'b t -> b 1 t')).toBe('[B, 1, T]');
    expect(rok(t(['B', 1, 'T']), 'b 1 t -> b t')).toBe('[B, T]');
    expect(rok(t([2, 3]), 'a b -> (a 1 b) ()')).toBe('[6, 1]');
    const { v } = rearrange(t([2, 3], 'i32'), 'a b -> b a');
    expect(v.kind === 'tensor' && v.t.dtype).toBe('i32');
    expect(rerr('FM0410', t(['B', 2, 'T']), 'b 1 t -> b t').message).toContain('size 2');
  });
  it('divisibility and group sizes', () => {
    expect(rerr('FM0410', t([2, 'T', 60]), 'b t (h d) -> b h t d', { h: 8 }).message).toContain(
      'the input dim 60 is not divisible by 8',
    );
    expect(rerr('FM0410', t([2, 64]), 'b (h d) -> b h d').message).toMatch(/2 unknown sizes.*`h`, `d`/);
    expect(rerr('FM0410', t([2, 64]), 'b (h d) -> b h d', { h: 4, d: 4 }).message).toContain('has size 16');
  });
  it('missing, extra and repeated names', () => {
    const m = rerr('FM0410', t([2, 3, 4]), 'a b c -> a b').message;
    expect(m).toContain('`c` on the left but not on the right');
    expect(rerr('FM0410', t([2, 3]), 'a b -> a b z').message).toContain('`z` on the right but not on the left');
    const both = rerr('FM0410', t([2, 3]), 'a b -> a x').message;
    expect(both).toContain('`b`');
    expect(both).toContain('`x`');
    expect(rerr('FM0410', t([2, 3]), 'a a -> a').message).toContain('`a` appears twice on the left');
  });
  it('sizes: unused, conflicting with a bound dim, not positive or not integer', () => {
    const unused = rerr('FM0410', t([2, 3]), 'a b -> b a', { z: 4 });
    expect(unused.message).toContain('`z`');
    expect(unused.span).toEqual(sizeSpan);
    const clash = rerr('FM0410', t([2, 3]), 'a b -> b a', { a: 4 });
    expect(clash.message).toContain('`a` is 2 in the input but is given as 4');
    expect(clash.span).toEqual(sizeSpan);
    expect(rerr('FM0410', t([6]), '(a b) -> a b', { a: 0 }).message).toContain('positive');
    expect(rerr('FM0307', t([6]), '(a b) -> a b', { a: dimDiv(dimConst(3), dimConst(2)) }).message).toContain('`a`');
  });
  it('rank and syntax errors', () => {
    expect(rerr('FM0410', t([2, 3]), 'a b c -> a b c').message).toContain('needs 3 axes');
    expect(rerr('FM0410', t([2], 'f32', 'P'), 'a -> a').message).toContain('f32[..., 2]');
    expect(rerr('FM0410', t([2], 'f32', 'P'), 'a ... -> ... a').message).toContain('must come first');
    expect(rerr('FM0410', t([2, 3]), 'a b').message).toContain('->');
    expect(rerr('FM0410', t([2, 3]), 'a (b -> a b').message).toContain('unclosed');
    expect(rerr('FM0410', t([2, 3]), 'a b) -> a b').message).toContain('unbalanced');
    expect(rerr('FM0410', t([6]), '((a b)) -> a b').message).toContain('nested');
    expect(rerr('FM0410', t([2, 3]), 'a b -> a b 2').message).toContain('only number');
    expect(rerr('FM0410', t([2, 3]), '... a b -> a b').message).toContain('both sides');
    expect(rerr('FM0410', t([2, 3]), '... a ... -> a').message).toContain('twice');
  });
});
