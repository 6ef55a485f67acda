import { describe, it, expect } from 'vitest';
import { type Dim, dimConst, dimSym } from '../../src/ir/dims.js';
import { type Graph, GraphBuilder, IRError, type Node, type NodeOf, type TType } from '../../src/ir/graph.js';
import type { OpArgs, OpName } from '../../src/ir/ops.js';
import { parseGraph } from '../../src/ir/parse.js';
import { verify, verifyProblems } from '../../src/ir/verify.js';

const c = dimConst;
const N = dimSym('N');
const f32 = (...shape: Dim[]): TType => ({ dtype: 'f32', shape });

/** A node made by hand, bypassing the builder (and its checks). */
function raw<K extends OpName>(id: number, op: K, args: OpArgs[K], inputs: Node[], type: TType, path = ''): NodeOf<K> {
  return { id, op, args, inputs, type, path } as unknown as NodeOf<K>;
}
const input = (id: number, name: string, index: number, type = f32(c(2))) =>
  raw(id, 'input', { name, index, dtype: type.dtype, shape: type.shape }, [], type);
const buffer = (id: number, path: string, type = f32(c(2)), role: 'param' | 'buffer' = 'buffer') =>
  raw(id, 'param', { path, role, dtype: type.dtype, shape: type.shape, init: { fn: 'zeros', args: {} } }, [], type);

function graph(parts: Partial<Graph>): Graph {
  return { name: 'g', dims: [], inputs: [], outputs: [], updates: [], ...parts };
}

/** The problems verify reports (and checks that verify throws an IRError listing them). */
function problems(g: Graph): string[] {
  const ps = verifyProblems(g);
  if (ps.length > 0) {
    expect(() => verify(g)).toThrow(IRError);
    expect(() => verify(g)).toThrow(`${ps.length} problem`);
  } else expect(() => verify(g)).not.toThrow();
  return ps;
}

describe('verify', () => {
  it('accepts well-formed graphs', () => {
    const g = parseGraph(`graph f(x: f32[N, 2]) -> (y: f32[N, 2], s: f32[2]) dims [N]
  %0 = input "x" #0 : f32[N, 2]
  %1 = buffer "bn.mean" zeros() : f32[2]
  %2 = binary.add (%0, %1) : f32[N, 2]
  %3 = reduce.sum {axes: [0], keepdim: false} (%2) : f32[2]
  %4 = param "w" normal(std=1) : f32[2]
  %5 = binary.mul (%3, %4) : f32[2]
  return y = %2
  return s = %5
  update "bn.mean" = %3
`);
    expect(problems(g)).toEqual([]);
  });

  it('re-infers every node type', () => {
    const x = input(0, 'x', 0);
    const e = raw(1, 'unary', { fn: 'exp' }, [x], f32(c(3)));
    const i = input(2, 'i', 1, { dtype: 'i32', shape: [c(2)] });
    const s = raw(3, 'binary', { fn: 'add' }, [e, i], f32(c(2)));
    const bad = raw(4, 'reshape', { shape: [c(3)] }, [x], f32(c(3)));
    const g = graph({
      inputs: [x, i],
      outputs: [
        { name: 'a', node: s },
        { name: 'b', node: bad },
      ],
    });
    expect(problems(g)).toEqual([
      '%1 (unary): stored type f32[3] but its op and inputs give f32[2]',
      '%3 (binary): binary add: f32 with i32',
      '%4 (reshape): reshape [2] to [3]',
    ]);
  });

  it('checks ids and unknown ops', () => {
    const x = input(0, 'x', 0);
    const late = raw(5, 'unary', { fn: 'exp' }, [x], f32(c(2)));
    const early = raw(1, 'unary', { fn: 'neg' }, [late], f32(c(2)));
    const twin = raw(1, 'unary', { fn: 'sin' }, [x], f32(c(2)));
    const odd = raw(6, 'frobnicate' as 'where', {}, [x], f32(c(2)));
    const g = graph({
      inputs: [x],
      outputs: [
        { name: 'a', node: early },
        { name: 'b', node: twin },
        { name: 'c', node: odd },
      ],
    });
    expect(problems(g)).toEqual([
      'two different nodes have id %1 (mixed builders?)',
      '%1 (unary): input %5 does not precede it (ids must increase)',
      '%6 (frobnicate): unknown op',
    ]);
  });

  it('checks the graph inputs', () => {
    const x = input(0, 'x', 1);
    const y = input(1, 'x', 1);
    const z = input(2, 'z', 2);
    const notInput = raw(3, 'full', { value: 0, dtype: 'f32', shape: [c(2)] }, [], f32(c(2)));
    const stray = input(4, 'w', 3);
    const g = graph({
      inputs: [x, y, notInput as unknown as NodeOf<'input'>],
      outputs: [{ name: 'a', node: raw(5, 'binary', { fn: 'add' }, [z, stray], f32(c(2))) }],
    });
    expect(problems(g)).toEqual([
      'graph input 0 (x) has index 1',
      'two graph inputs are named x',
      'graph input 2 is %3 (full), not an input op',
      '%2 (input) is not one of the graph inputs',
      '%4 (input) is not one of the graph inputs',
    ]);
  });

  it('checks the output names', () => {
    const x = input(0, 'x', 0);
    const g = graph({
      inputs: [x],
      outputs: [
        { name: '', node: x },
        { name: 'y', node: x },
        { name: 'y', node: x },
      ],
    });
    expect(problems(g)).toEqual(['an output has an empty name', 'two outputs are named y']);
  });

  it('checks the dims against the symbols used', () => {
    const x = input(0, 'x', 0, f32(N, dimSym('T')));
    const p = raw(
      1,
      'pad',
      {
        pads: [
          [c(0), dimSym('P')],
          [c(0), c(0)],
        ],
        value: 0,
      },
      [x],
      f32(dimSym('P') as Dim),
    );
    const ok = graph({ dims: ['N', 'T'], inputs: [x], outputs: [{ name: 'y', node: x }] });
    expect(problems(ok)).toEqual([]);
    const g = graph({ dims: ['T', 'B', 'T'], inputs: [x], outputs: [{ name: 'y', node: x }] });
    expect(problems(g)).toEqual([
      'dims [T, B, T] has repeats',
      "dims lacks N, used by the graph's shapes",
      'dims lists B, used by no live node',
    ]);
    // Symbols in args count too (P appears only in the pad widths and the bad type).
    const h = graph({ dims: ['N', 'T'], inputs: [x], outputs: [{ name: 'y', node: p }] });
    expect(problems(h)).toContain("dims lacks P, used by the graph's shapes");
  });

  it('checks buffer updates (a param may be updated: a train step does)', () => {
    const x = input(0, 'x', 0);
    const mean = buffer(1, 'bn.mean');
    const w = buffer(2, 'w', f32(c(2)), 'param');
    const small = raw(3, 'full', { value: 0, dtype: 'f32', shape: [c(1)] }, [], f32(c(1)));
    const g = graph({
      inputs: [x],
      outputs: [
        { name: 'a', node: mean },
        { name: 'b', node: w },
      ],
      updates: [
        { path: 'bn.mean', node: x },
        { path: 'bn.mean', node: x },
        { path: 'bn.var', node: x },
        { path: 'w', node: x },
        { path: 'bn.mean', node: small },
      ],
    });
    expect(problems(g)).toEqual([
      'update "bn.mean" is repeated',
      'update "bn.var": no param or buffer with that path in the graph',
      'update "bn.mean" is repeated',
      'update "bn.mean": value %3 (full) is f32[1] but the buffer is f32[2]',
    ]);
  });

  it('checks that params sharing a path agree', () => {
    const a = buffer(0, 'p');
    const b = raw(
      1,
      'param',
      { path: 'p', role: 'buffer', dtype: 'f32', shape: [c(2)], init: { fn: 'ones', args: {} } },
      [],
      f32(c(2)),
    );
    const d = buffer(2, 'p', f32(c(3)));
    const e = buffer(3, 'p', f32(c(2)), 'param');
    const g = graph({
      outputs: [b, d, e, a].map((node, i) => ({ name: `o${i}`, node })),
    });
    expect(problems(g)).toEqual([
      '%0 (param) and %1 (param) are both "p" but differ in role, type or init',
      '%0 (param) and %2 (param) are both "p" but differ in role, type or init',
      '%0 (param) and %3 (param) are both "p" but differ in role, type or init',
    ]);
  });

  it('lists every problem in one IRError', () => {
    const b = new GraphBuilder();
    const x = b.node('input', { name: 'x', index: 0, dtype: 'f32', shape: [N] }, []);
    const g = graph({ inputs: [x], outputs: [{ name: '', node: x }], updates: [{ path: 'q', node: x }] });
    expect(() => verify(g)).toThrow(
      [
        'graph g: 3 problems',
        '  - an output has an empty name',
        "  - dims lacks N, used by the graph's shapes",
        '  - update "q": no param or buffer with that path in the graph',
      ].join('\n'),
    );
  });
});
