// Shape checking for the two pattern-driven operations: `einsum("spec", a[, b])` and the
// einops-style `rearrange(x, "pattern", name = size, ...)`. Both parse their pattern string
// here, bind the letters/names to the operands' dims, and build the result shape.

import {
  type Dim,
  dimConst,
  dimConstValue,
  dimDiv,
  dimEquals,
  dimIsInteger,
  dimMul,
  dimToString,
} from '../../ir/dims.js';
import type { Span } from '../source.js';
import { ERROR, type Shape, type TensorT, type V, shapeToString, tensor, typeToString } from '../types.js';
import type { Ctx } from './context.js';
import { emit, LoweringError, nodeOf } from './emit.js';

const ONE = dimConst(1);
const isOne = (d: Dim): boolean => dimEquals(d, ONE);
const show = dimToString;

// ---------- shared: fitting a pattern with an optional `...` to a shape ----------

interface Fit {
  /** The dims matched by the pattern's explicit axes, in order. */
  readonly axes: readonly Dim[];
  /** What `...` covers: the variadic prefix plus any leading dims left over. */
  readonly rest: Shape;
}

/**
 * Matches `n` explicit axes, with `...` after the first `ellipsisAt` of them (undefined: no
 * `...`), to `shape`. Fails with 'rank' (too few or too many dims), 'variadic' (the shape has
 * a variadic prefix but the pattern no `...`) or 'order' (a prefix but axes before `...`).
 */
function fitShape(shape: Shape, n: number, ellipsisAt: number | undefined): Fit | 'rank' | 'variadic' | 'order' {
  const dims = shape.dims;
  if (ellipsisAt === undefined) {
    if (shape.prefix !== undefined) return 'variadic';
    return dims.length === n ? { axes: dims, rest: { prefix: undefined, dims: [] } } : 'rank';
  }
  if (dims.length < n) return 'rank';
  if (shape.prefix !== undefined && ellipsisAt > 0) return 'order';
  const tailStart = dims.length - (n - ellipsisAt);
  return {
    axes: [...dims.slice(0, ellipsisAt), ...dims.slice(tailStart)],
    rest: { prefix: shape.prefix, dims: dims.slice(ellipsisAt, tailStart) },
  };
}

/** NumPy broadcasting of two `...` parts (right-aligned, 1 stretches), or the two clashing dims as text. */
function broadcast(a: Shape, b: Shape): Shape | readonly [string, string] {
  if (a.prefix !== undefined && b.prefix !== undefined && a.prefix !== b.prefix) {
    return [`...${a.prefix}`, `...${b.prefix}`];
  }
  const out: Dim[] = [];
  for (let i = 1; i <= Math.max(a.dims.length, b.dims.length); i++) {
    const x = a.dims[a.dims.length - i];
    const y = b.dims[b.dims.length - i];
    if (x === undefined || y === undefined) {
      // One side ran out of explicit dims: if it has a variadic prefix, the result is unknowable.
      if ((x === undefined ? a : b).prefix !== undefined) return x === undefined ? ['...', show(y!)] : [show(x), '...'];
      out.unshift((x ?? y)!);
    } else if (dimEquals(x, y) || isOne(y)) out.unshift(x);
    else if (isOne(x)) out.unshift(y);
    else return [show(x), show(y)];
  }
  return { prefix: a.prefix ?? b.prefix, dims: out };
}

// ---------- einsum ----------

interface Term {
  readonly text: string;
  readonly letters: readonly string[];
  /** How many letters come before `...`; undefined when the term has none. */
  readonly ellipsisAt: number | undefined;
}

function parseTerm(text: string): Term | string {
  const letters: string[] = [];
  let ellipsisAt: number | undefined;
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (text.startsWith('...', i)) {
      if (ellipsisAt !== undefined) return `\`...\` appears twice in the term \`${text}\``;
      ellipsisAt = letters.length;
      i += 3;
    } else if (/[A-Za-z]/.test(c)) {
      letters.push(c);
      i++;
    } else return `unexpected character \`${c}\` in the term \`${text}\``;
  }
  return { text, letters, ellipsisAt };
}

/** Checks `einsum(spec, ...operands)` and returns the result tensor (or ERROR after reporting). */
export function checkEinsum(ctx: Ctx, spec: string, specSpan: Span, operands: readonly TensorT[], span: Span): V {
  const fail = (message: string, at: Span = specSpan): V => {
    ctx.checker.error('FM0409', at, [message]);
    return ERROR;
  };
  const s = spec.replace(/\s+/g, '');
  const arrow = s.indexOf('->');
  if (arrow < 0) return fail(`\`${spec}\` has no \`->\`; write the output out, as in \`ij,jk->ik\``);
  const rhs = s.slice(arrow + 2);
  if (rhs.includes('->')) return fail(`\`${spec}\` has more than one \`->\``);
  if (rhs.includes(',')) return fail(`the output \`${rhs}\` must be a single term`);
  if (operands.length < 1 || operands.length > 2)
    return fail(`einsum takes one or two operands, found ${operands.length}`);
  const terms: Term[] = [];
  for (const text of s.slice(0, arrow).split(',')) {
    const t = parseTerm(text);
    if (typeof t === 'string') return fail(t);
    terms.push(t);
  }
  if (terms.length !== operands.length) {
    return fail(`\`${spec}\` has ${terms.length} input term(s) but ${operands.length} operand(s) were given`);
  }
  const out = parseTerm(rhs);
  if (typeof out === 'string') return fail(out);

  // Dtypes: equal, and not bool.
  const [a, b] = operands as [TensorT, TensorT | undefined];
  if (b && a.dtype !== b.dtype) {
    ctx.checker.error('FM0401', span, [a.dtype, b.dtype]);
    return ERROR;
  }
  if (a.dtype === 'bool') return fail('the operands must be numeric, found bool', span);

  // Bind each letter to its size; a letter seen again (in either operand) must have the same size.
  const sizes = new Map<string, { dim: Dim; op: number }>();
  const rests: Shape[] = [];
  const fits: Fit[] = [];
  for (const [i, term] of terms.entries()) {
    const op = operands[i]!;
    const fit = fitShape(op.shape, term.letters.length, term.ellipsisAt);
    const what = `operand ${i + 1} has shape ${shapeToString(op.shape)}`;
    if (fit === 'rank') {
      const n = term.letters.length;
      return fail(
        term.ellipsisAt === undefined
          ? `operand ${i + 1} has rank ${op.shape.dims.length} but its term \`${term.text}\` has ${n} letters`
          : `${what}, too few dims for the ${n} letters of its term \`${term.text}\``,
      );
    }
    if (fit === 'variadic') return fail(`${what} of unknown rank but its term \`${term.text}\` has no \`...\``);
    if (fit === 'order') return fail(`${what}, so \`...\` must come first in its term \`${term.text}\``);
    if (term.ellipsisAt !== undefined) rests.push(fit.rest);
    fits.push(fit);
    for (const [j, letter] of term.letters.entries()) {
      const dim = fit.axes[j]!;
      const prev = sizes.get(letter);
      if (!prev) sizes.set(letter, { dim, op: i + 1 });
      else if (!dimEquals(prev.dim, dim)) {
        return fail(
          prev.op === i + 1
            ? `\`${letter}\` is both ${show(prev.dim)} and ${show(dim)} in operand ${i + 1}`
            : `\`${letter}\` is ${show(prev.dim)} in operand ${prev.op} but ${show(dim)} in operand ${i + 1}`,
        );
      }
    }
  }

  // The `...` parts broadcast together.
  let rest: Shape | undefined = rests[0];
  if (rests.length === 2) {
    const r = broadcast(rests[0]!, rests[1]!);
    if (!('dims' in r)) {
      ctx.checker.error('FM0400', span, [typeToString(a), typeToString(b!), r[0], r[1]]);
      return ERROR;
    }
    rest = r;
  }

  // The output: known letters, each once; `...` only if an input has one. Inputs' `...` dims
  // missing from the output are summed, as in NumPy.
  const dims: Dim[] = [];
  for (const [j, letter] of out.letters.entries()) {
    if (j === out.ellipsisAt) dims.push(...(rest?.dims ?? []));
    const size = sizes.get(letter);
    if (!size) return fail(`the output letter \`${letter}\` does not appear in any input`);
    if (out.letters.indexOf(letter) !== j) return fail(`\`${letter}\` appears twice in the output \`${out.text}\``);
    dims.push(size.dim);
  }
  if (out.ellipsisAt !== undefined) {
    if (!rest) return fail(`the output \`${out.text}\` has \`...\` but no input does`);
    if (out.ellipsisAt === out.letters.length) dims.push(...rest.dims);
    if (rest.prefix !== undefined && out.ellipsisAt > 0) {
      return fail(`\`...\` covers a variadic prefix, so it must come first in the output \`${out.text}\``);
    }
  }
  const prefix = out.ellipsisAt === undefined ? undefined : rest?.prefix;
  return emit(ctx, tensor(a.dtype, { prefix, dims }, span), (mk) => {
    // `...` becomes letters the spec does not use, right-aligned; an operand whose `...`
    // dims broadcast is expanded to the common ones first (the IR's einsum has no broadcasting).
    const used = new Set([...terms, out].flatMap((t) => t.letters));
    const free = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'].filter((c) => !used.has(c));
    const restDims = rest?.dims ?? [];
    if (free.length < restDims.length) throw new LoweringError('an einsum with too many dims under `...`', span);
    const ell = free.slice(0, restDims.length);
    const spell = (t: Term, r: number) => {
      const mid = t.ellipsisAt === undefined ? [] : ell.slice(ell.length - r);
      const at = t.ellipsisAt ?? t.letters.length;
      return [...t.letters.slice(0, at), ...mid, ...t.letters.slice(at)].join('');
    };
    const inputs = operands.map((op, i) => {
      const fit = fits[i]!;
      const r = fit.rest.dims.length;
      const want = restDims.slice(restDims.length - r);
      if (want.every((d, k) => dimEquals(d, fit.rest.dims[k]!))) return nodeOf(op);
      const at = terms[i]!.ellipsisAt!;
      const shape = [...op.shape.dims.slice(0, at), ...want, ...op.shape.dims.slice(at + r)];
      return mk('expand', { shape }, [nodeOf(op)]);
    });
    const lhs = terms.map((t, i) => spell(t, fits[i]!.rest.dims.length));
    // A letter repeated within one term (`ii->i`, a diagonal) is not a letters-only IR spec:
    // zero the operand off the diagonal and sum the second occurrence out as a fresh letter.
    const spare = free.slice(restDims.length);
    for (let i = 0; i < lhs.length; i++) {
      for (let q = 0; q < lhs[i]!.length; q++) {
        const term = lhs[i]!;
        const p = term.indexOf(term[q]!);
        if (p === q) continue;
        const fresh = spare.shift();
        if (fresh === undefined) throw new LoweringError('an einsum with too many letters', span);
        const x = inputs[i]!;
        const shape = x.type.shape.map((d, k) => (k === p || k === q ? d : ONE));
        const at = (axis: number) => mk('iota', { axis, dtype: 'i32', shape }, []);
        const diagonal = mk('binary', { fn: 'eq' }, [at(p), at(q)]);
        inputs[i] = mk('where', {}, [diagonal, x, mk('full', { value: 0, dtype: x.type.dtype, shape: [] }, [])]);
        lhs[i] = term.slice(0, q) + fresh + term.slice(q + 1);
      }
    }
    return mk('einsum', { spec: `${lhs.join(',')}->${spell(out, restDims.length)}` }, inputs);
  });
}

// ---------- rearrange ----------

type Axis =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'unit' }
  | { readonly kind: 'ellipsis' }
  | { readonly kind: 'group'; readonly items: readonly Axis[] };

/** Parses one side of an einops pattern: names, `1`, `...` and parenthesised groups. */
function parseSide(text: string): Axis[] | string {
  const top: Axis[] = [];
  let group: Axis[] | undefined;
  for (const [tok] of text.matchAll(/\.\.\.|[A-Za-z_]\w*|\d+|\S/g)) {
    if (tok === '(') {
      if (group) return 'nested parentheses';
      group = [];
    } else if (tok === ')') {
      if (!group) return 'unbalanced `)`';
      top.push({ kind: 'group', items: group });
      group = undefined;
    } else if (tok === '...') {
      if (group) return '`...` inside parentheses';
      if (top.some((a) => a.kind === 'ellipsis')) return '`...` twice';
      top.push({ kind: 'ellipsis' });
    } else if (tok === '1') (group ?? top).push({ kind: 'unit' });
    else if (/^[A-Za-z_]/.test(tok)) (group ?? top).push({ kind: 'name', name: tok });
    else return `unexpected \`${tok}\`${/^\d/.test(tok) ? ' (the only number allowed is `1`)' : ''}`;
  }
  return group ? 'unclosed `(`' : top;
}

const namesOf = (axes: readonly Axis[]): string[] =>
  axes.flatMap((a) => (a.kind === 'name' ? [a.name] : a.kind === 'group' ? namesOf(a.items) : []));
const axisText = (a: Axis): string =>
  a.kind === 'name'
    ? a.name
    : a.kind === 'unit'
      ? '1'
      : a.kind === 'ellipsis'
        ? '...'
        : `(${a.items.map(axisText).join(' ')})`;
const ticks = (names: readonly string[]): string => names.map((n) => `\`${n}\``).join(', ');

/** Checks `rearrange(x, pattern, name = size, ...)` and returns the result tensor (or ERROR after reporting). */
export function checkRearrange(
  ctx: Ctx,
  x: TensorT,
  pattern: string,
  patternSpan: Span,
  sizes: ReadonlyMap<string, { dim: Dim; span: Span }>,
  span: Span,
): V {
  const fail = (message: string, at: Span = patternSpan): V => {
    ctx.checker.error('FM0410', at, [message]);
    return ERROR;
  };
  const sides = pattern.split('->');
  if (sides.length !== 2) return fail(`\`${pattern}\` needs exactly one \`->\``);
  const lhs = parseSide(sides[0]!);
  if (typeof lhs === 'string') return fail(`${lhs} on the left of \`${pattern}\``);
  const rhs = parseSide(sides[1]!);
  if (typeof rhs === 'string') return fail(`${rhs} on the right of \`${pattern}\``);

  // Structure: each name once per side, the same names on both sides, `...` on both or neither.
  const left = namesOf(lhs);
  const right = namesOf(rhs);
  for (const [names, side] of [
    [left, 'left'],
    [right, 'right'],
  ] as const) {
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) return fail(`\`${dup}\` appears twice on the ${side}`);
  }
  const missing = left.filter((n) => !right.includes(n));
  const extra = right.filter((n) => !left.includes(n));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`${ticks(missing)} on the left but not on the right`);
    if (extra.length > 0) parts.push(`${ticks(extra)} on the right but not on the left`);
    return fail(parts.join('; '));
  }
  const ellipsisAt = lhs.findIndex((a) => a.kind === 'ellipsis');
  if (ellipsisAt >= 0 !== rhs.some((a) => a.kind === 'ellipsis')) return fail('`...` must be on both sides or neither');

  // The given sizes: used in the pattern, positive integers.
  for (const [name, size] of sizes) {
    if (!left.includes(name)) return fail(`size \`${name}\` is not used in the pattern`, size.span);
    if (dimIsInteger(size.dim) === false) {
      ctx.checker.error('FM0307', size.span, [name, show(size.dim)]);
      return ERROR;
    }
    const c = dimConstValue(size.dim);
    if (c !== undefined && c <= 0) return fail(`size \`${name}\` must be positive, found ${c}`, size.span);
  }

  // Left side: match the input dims and bind every name to a size.
  const axes = lhs.filter((a) => a.kind !== 'ellipsis');
  const fit = fitShape(x.shape, axes.length, ellipsisAt < 0 ? undefined : ellipsisAt);
  const lhsText = `\`${lhs.map(axisText).join(' ')}\``;
  if (fit === 'rank' || fit === 'variadic') {
    const need = ellipsisAt < 0 ? `${axes.length} axes` : `at least ${axes.length} axes`;
    return fail(`the left side ${lhsText} needs ${need}, but the input is ${typeToString(x)}`);
  }
  if (fit === 'order') return fail(`the input ${typeToString(x)} has a variadic prefix, so \`...\` must come first`);
  const env = new Map<string, Dim>();
  for (const [i, axis] of axes.entries()) {
    const dim = fit.axes[i]!;
    if (axis.kind === 'unit') {
      if (!isOne(dim)) return fail(`a \`1\` on the left matches an input dim of size ${show(dim)}`);
    } else if (axis.kind === 'name') {
      const given = sizes.get(axis.name);
      if (given && !dimEquals(given.dim, dim)) {
        return fail(`\`${axis.name}\` is ${show(dim)} in the input but is given as ${show(given.dim)}`, given.span);
      }
      env.set(axis.name, dim);
    } else if (axis.kind === 'group') {
      // A group splits one dim: the product of the known sizes times at most one unknown.
      const names = namesOf(axis.items);
      const unknown = names.filter((n) => !sizes.has(n));
      const known = names.reduce((p, n) => (sizes.has(n) ? dimMul(p, sizes.get(n)!.dim) : p), ONE);
      const text = `\`${axisText(axis)}\``;
      if (unknown.length > 1) {
        return fail(`${text} has ${unknown.length} unknown sizes (${ticks(unknown)}); give all but one as arguments`);
      }
      if (unknown.length === 0 && !dimEquals(known, dim)) {
        return fail(`${text} has size ${show(known)}, but the input dim it matches is ${show(dim)}`);
      }
      if (unknown.length === 1) {
        const solved = dimDiv(dim, known);
        if (dimIsInteger(solved) === false) {
          return fail(`the input dim ${show(dim)} is not divisible by ${show(known)}, the known sizes of ${text}`);
        }
        env.set(unknown[0]!, solved);
      }
      for (const n of names) if (sizes.has(n)) env.set(n, sizes.get(n)!.dim);
    }
  }

  // Right side: names and groups (products) in their new order; `...` keeps what it covered.
  const sizeOf = (a: Axis): Dim =>
    a.kind === 'name' ? env.get(a.name)! : a.kind === 'group' ? a.items.map(sizeOf).reduce(dimMul, ONE) : ONE;
  const dims: Dim[] = [];
  for (const [i, axis] of rhs.entries()) {
    if (axis.kind !== 'ellipsis') dims.push(sizeOf(axis));
    else if (fit.rest.prefix !== undefined && i > 0) {
      return fail(`\`...\` covers a variadic prefix, so it must come first on the right`);
    } else dims.push(...fit.rest.dims);
  }
  const result = tensor(x.dtype, { prefix: ellipsisAt < 0 ? undefined : fit.rest.prefix, dims }, span);
  return emit(ctx, result, (mk) => {
    // reshape to the elementary axes, permute them into the right side's order, reshape to the result.
    const rest = fit.rest.dims;
    const elems = (side: readonly Axis[]): { key: string; dim: Dim }[] =>
      side.flatMap((a): { key: string; dim: Dim }[] =>
        a.kind === 'ellipsis'
          ? rest.map((dim, i) => ({ key: `...${i}`, dim }))
          : a.kind === 'name'
            ? [{ key: a.name, dim: env.get(a.name)! }]
            : a.kind === 'group'
              ? elems(a.items)
              : [],
      );
    const from = elems(lhs);
    const to = elems(rhs);
    let node = nodeOf(x);
    const fromDims = from.map((e) => e.dim);
    if (!sameDims(fromDims, x.shape.dims)) node = mk('reshape', { shape: fromDims }, [node]);
    const axes = to.map((e) => from.findIndex((f) => f.key === e.key));
    if (axes.some((a, i) => a !== i)) node = mk('permute', { axes }, [node]);
    return sameDims(
      to.map((e) => e.dim),
      dims,
    )
      ? node
      : mk('reshape', { shape: dims }, [node]);
  });
}

const sameDims = (a: readonly Dim[], b: readonly Dim[]): boolean =>
  a.length === b.length && a.every((d, i) => dimEquals(d, b[i]!));
