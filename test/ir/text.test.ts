import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  dimAdd,
  dimConst,
  dimDiv,
  dimEquals,
  dimFloorDiv,
  dimFrac,
  dimMod,
  dimMul,
  dimSub,
  dimSym,
  dimToString,
} from '../../src/ir/dims.js';
import { DimParseError, parseDim, parseDimAt } from '../../src/ir/dim-text.js';
import { type Graph, GraphBuilder } from '../../src/ir/graph.js';
import { IRParseError, parseGraph, parseModule } from '../../src/ir/parse.js';
import { formatNumber, printGraph, printModule } from '../../src/ir/print.js';
import { arbDim, arbGraph, graphStructure } from './random-graph.js';

const c = dimConst;
const T = dimSym('T');
const B = dimSym('B');

describe('parseDim', () => {
  it('parses what dimToString prints', () => {
    fc.assert(
      fc.property(arbDim, (d) => {
        const s = dimToString(d);
        const back = parseDim(s);
        expect(dimToString(back)).toBe(s);
        expect(dimEquals(back, d)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('keeps opaque atoms apart', () => {
    const x = dimSym('x');
    const cases = [
      dimDiv(dimMul(c(3), T), c(2)), // 3*T/2
      dimDiv(x, dimAdd(T, c(1))), // x/(T + 1)
      dimDiv(x, dimMul(dimAdd(T, c(1)), dimAdd(B, c(1)))), // one atom 1/(B*T + B + T + 1)
      dimDiv(dimDiv(x, dimAdd(T, c(1))), dimAdd(B, c(1))), // two atoms
      dimDiv(dimDiv(x, dimAdd(T, c(1))), dimAdd(T, c(1))), // x/(T + 1)**2
      dimDiv(x, dimAdd(dimMul(c(2), T), c(2))), // x/(2*(T + 1))
      dimSub(c(0), dimMod(T, c(2))), // -T % 2
      dimMod(dimSub(c(0), T), c(2)), // (-T) % 2
      dimFloorDiv(dimAdd(T, c(6)), c(2)),
      dimFloorDiv(dimMul(c(2), T), c(3)),
      dimFloorDiv(T, dimAdd(B, c(1))),
      dimMul(dimSym('floor'), dimFloorDiv(T, c(2))),
      dimDiv(c(1), dimMod(T, c(3))),
      dimFrac(-7, 3),
    ];
    for (const d of cases) expect(dimToString(parseDim(dimToString(d))), dimToString(d)).toBe(dimToString(d));
    expect(dimToString(cases[3]!)).toBe('x/((B + 1)*(T + 1))');
    expect(dimEquals(parseDim('x/((B + 1)*(T + 1))'), cases[2]!)).toBe(false);
  });

  it('reads general expressions', () => {
    expect(dimToString(parseDim('(T**2 - 1)/(T + 1)'))).toBe('T - 1');
    expect(dimToString(parseDim('2 * (B + T) - 2*B'))).toBe('2*T');
    expect(dimToString(parseDim('T**-2'))).toBe('1/T**2');
    expect(dimToString(parseDim('123456789012345678901234567890 - 123456789012345678901234567889'))).toBe('1');
    expect(parseDimAt('[B*T, 3]', 1)).toMatchObject({ end: 4 });
  });

  it('reports errors with their offset', () => {
    const err = (s: string): DimParseError => {
      try {
        parseDim(s);
      } catch (e) {
        expect(e).toBeInstanceOf(DimParseError);
        return e as DimParseError;
      }
      throw new Error(`parsed ${s}`);
    };
    expect(err('T +')).toMatchObject({ offset: 3 });
    expect(err('T / 0').message).toMatch(/division by zero/);
    expect(err('floor(T)').message).toMatch(/expected '\/'/);
    expect(err('T**x').message).toMatch(/integer exponent/);
    expect(err('T)').message).toMatch(/unexpected '\)'/);
    expect(err('('.repeat(500) + 'T' + ')'.repeat(500)).message).toMatch(/nested too deeply/);
    expect(err('(T + 1)**100000').message).toMatch(/too large|more than/);
  });

  it('never throws anything but DimParseError', () => {
    const tok = fc.constantFrom(
      'T',
      'B',
      '1',
      '0',
      '12',
      '+',
      '-',
      '*',
      '/',
      '%',
      '**',
      '(',
      ')',
      'floor',
      ' ',
      'x.y',
      '$',
    );
    fc.assert(
      fc.property(fc.array(tok, { maxLength: 30 }), (ts) => {
        try {
          parseDim(ts.join(''));
        } catch (e) {
          expect(e).toBeInstanceOf(DimParseError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

// ---------- graphs ----------

function example(): Graph {
  const b = new GraphBuilder();
  const tokens = b.node('input', { name: 'tokens', index: 0, dtype: 'i32', shape: [B, T] }, []);
  const table = b.node(
    'param',
    {
      path: 'embed.table',
      role: 'param',
      dtype: 'f32',
      shape: [c(1000), c(64)],
      init: { fn: 'normal', args: { std: 0.02, mean: 0 } },
    },
    [],
  );
  const e = b.node('gather', { axis: 0 }, [table, tokens], 'embed');
  const mean = b.node(
    'param',
    { path: 'bn.mean', role: 'buffer', dtype: 'f32', shape: [c(64)], init: { fn: 'zeros', args: {} } },
    [],
  );
  const x = b.node('binary', { fn: 'add' }, [e, mean], 'bn');
  const m = b.node('reduce', { fn: 'sum', axes: [0, 1], keepdim: false }, [x], 'bn');
  const upd = b.node('binary', { fn: 'mul' }, [m, b.node('full', { value: -0, dtype: 'f32', shape: [] }, [])], 'bn');
  const win = b.node('window', { axes: [1], size: [3], stride: [2], dilation: [1] }, [x]);
  const pad = b.node(
    'pad',
    {
      pads: [
        [c(0), c(0)],
        [c(1), dimSub(T, c(2))],
        [c(0), c(0)],
      ],
      value: NaN,
    },
    [x],
  );
  const sl = b.node('slice', { starts: [c(0), c(1), c(0)], sizes: [B, dimFrac(1, 1), c(64)], steps: [1, 2, 1] }, [pad]);
  const ein = b.node('einsum', { spec: 'btd,bsd->bts' }, [x, x]);
  const top = b.node('topk', { k: 2, axis: 2, output: 'indices' }, [ein]);
  const dimv = b.node('dim', { value: dimFloorDiv(T, c(2)), dtype: 'i32' }, []);
  return {
    name: 'forward',
    dims: ['B', 'T'],
    inputs: [tokens],
    outputs: [
      { name: 'win', node: win },
      { name: 'sliced out', node: sl },
      { name: 'top', node: top },
      { name: 'half', node: dimv },
    ],
    updates: [{ path: 'bn.mean', node: upd }],
  };
}

const EXAMPLE = `graph forward(tokens: i32[B, T]) -> (win: f32[B, floor((T - 3)/2) + 1, 64, 3], "sliced out": f32[B, 1, 64], top: i32[B, T, 2], half: i32[]) dims [B, T]
  %0 = input "tokens" #0 : i32[B, T]
  %1 = param "embed.table" normal(mean=0, std=0.02) : f32[1000, 64]
  %2 = gather {axis: 0} (%1, %0) : f32[B, T, 64] @"embed"
  %3 = buffer "bn.mean" zeros() : f32[64]
  %4 = binary.add (%2, %3) : f32[B, T, 64] @"bn"
  %5 = window {axes: [1], size: [3], stride: [2], dilation: [1]} (%4) : f32[B, floor((T - 3)/2) + 1, 64, 3]
  %6 = pad {pads: [[0, 0], [1, T - 2], [0, 0]], value: nan} (%4) : f32[B, 2*T - 1, 64]
  %7 = slice {starts: [0, 1, 0], steps: [1, 2, 1]} (%6) : f32[B, 1, 64]
  %8 = einsum {spec: "btd,bsd->bts"} (%4, %4) : f32[B, T, T]
  %9 = topk {k: 2, axis: 2, output: indices} (%8) : i32[B, T, 2]
  %10 = dim {value: floor(T/2)} : i32[]
  %11 = reduce.sum {axes: [0, 1], keepdim: false} (%4) : f32[64] @"bn"
  %12 = full {value: -0.0} : f32[]
  %13 = binary.mul (%11, %12) : f32[64] @"bn"
  return win = %5
  return "sliced out" = %7
  return top = %9
  return half = %10
  update "bn.mean" = %13
`;

function parseError(text: string): IRParseError {
  try {
    parseModule(text);
  } catch (e) {
    if (e instanceof IRParseError) return e;
    throw e;
  }
  throw new Error('parsed');
}

describe('printGraph', () => {
  it('prints the canonical text', () => {
    expect(printGraph(example())).toBe(EXAMPLE);
  });

  it('round-trips exactly', () => {
    const g = example();
    const back = parseGraph(EXAMPLE);
    expect(graphStructure(back)).toEqual(graphStructure(g));
    expect(printGraph(back)).toBe(EXAMPLE);
  });

  it('numbers nodes by structure, not by creation order', () => {
    const build = (flip: boolean): Graph => {
      const b = new GraphBuilder();
      const x = b.node('input', { name: 'x', index: 0, dtype: 'f32', shape: [c(2)] }, []);
      const mk = (fn: 'exp' | 'sin') => b.node('unary', { fn }, [x]);
      const [p, q] = flip ? [mk('sin'), mk('exp')].reverse() : [mk('exp'), mk('sin')];
      b.node('unary', { fn: 'cos' }, [x]); // dead
      return {
        name: 'f',
        dims: [],
        inputs: [x],
        outputs: [{ name: 'y', node: b.node('binary', { fn: 'add' }, [p!, q!]) }],
        updates: [],
      };
    };
    expect(printGraph(build(true))).toBe(printGraph(build(false)));
    expect(printGraph(build(true))).not.toContain('cos');
  });

  it('writes numbers exactly', () => {
    const xs = [
      NaN,
      Infinity,
      -Infinity,
      -0,
      0,
      5e-324,
      -2.2250738585072014e-308,
      0.1 + 0.2,
      1e21,
      1 / 3,
      -7,
      2 ** 53 + 2,
    ];
    expect(xs.map(formatNumber)).toEqual([
      'nan',
      'inf',
      '-inf',
      '-0.0',
      '0',
      '5e-324',
      '-2.2250738585072014e-308',
      '0.30000000000000004',
      '1e+21',
      '0.3333333333333333',
      '-7',
      '9007199254740994',
    ]);
    for (const v of xs) {
      const text = `graph g() -> (y: f32[])\n  %0 = full {value: ${formatNumber(v)}} : f32[]\n  return y = %0\n`;
      const n = parseGraph(text).outputs[0]!.node;
      expect(Object.is(n.op === 'full' && n.args.value, v)).toBe(true);
    }
  });

  it('escapes strings and quotes odd names', () => {
    const b = new GraphBuilder();
    const x = b.node('input', { name: 'a "b"\n\u2028', index: 0, dtype: 'f32', shape: [] }, []);
    const y = b.node('random', { seed: 1.5, key: '\\k\u0000', shape: [] }, [], 'p\tq');
    const g: Graph = { name: 'my graph', dims: [], inputs: [x], outputs: [{ name: '', node: y }], updates: [] };
    const text = printGraph(g);
    expect(text.split('\n')[0]).toBe('graph "my graph"("a \\"b\\"\\n\u2028": f32[]) -> ("": f32[])');
    expect(printGraph(parseGraph(text))).toBe(text);
  });

  it('prints and parses modules', () => {
    const g = example();
    const text = printModule([g, g]);
    const gs = parseModule(text);
    expect(gs).toHaveLength(2);
    expect(printModule(gs)).toBe(text);
    expect(gs[0]!.inputs[0]).not.toBe(gs[1]!.inputs[0]);
    expect(parseModule('')).toEqual([]);
    expect(() => parseGraph(text)).toThrow(/expected one graph, found 2/);
  });

  it('reads comments, blank lines, CRLF and free numbering', () => {
    const text = [
      '// a comment',
      'graph g(x: f32[N]) -> (y: f32[N]) dims [N]',
      '',
      '  %7 = input "x" #0 : f32[N]',
      '  // another',
      '  %3 = unary.exp (%7) : f32[N]',
      '  return y = %3',
    ].join('\r\n');
    expect(printGraph(parseGraph(text))).toBe(
      'graph g(x: f32[N]) -> (y: f32[N]) dims [N]\n  %0 = input "x" #0 : f32[N]\n  %1 = unary.exp (%0) : f32[N]\n  return y = %1\n',
    );
  });
});

describe('parse errors', () => {
  const head = 'graph g(x: f32[2, 3]) -> (y: f32[2, 3])\n  %0 = input "x" #0 : f32[2, 3]\n';
  const cases: [string, string][] = [
    ['%0 = input "x" #0 : f32[]', "1:1: expected 'graph'"],
    [
      head + '  %1 = unary.exp (%0) : f32[3, 2]\n  return y = %1',
      '3:25: type f32[3, 2] does not match the inferred f32[2, 3]',
    ],
    [head + '  %1 = unary.exp (%2) : f32[2, 3]', '3:19: %2 is not defined before this line'],
    [head + '  %0 = unary.exp (%0) : f32[2, 3]', '3:3: %0 is already defined'],
    [head + '  %1 = unary.nope (%0) : f32[2, 3]', "3:8: unknown unary function 'nope'"],
    [head + '  %1 = frobnicate (%0) : f32[2, 3]', "3:8: unknown op 'frobnicate'"],
    [head + '  %1 = binary.add (%0) : f32[2, 3]', '3:8: invalid binary.add: binary: 1 inputs'],
    [head + '  %1 = reduce.sum {axes: [0], keep: true} (%0) : f32[3]', "3:31: expected 'keepdim:', found 'keep'"],
    [head + '  %1 = permute {axes: [1, 0} (%0) : f32[3, 2]', "3:28: expected ',' or ']', found '}'"],
    [head + '  %1 = unary.exp (%0) : f64[2, 3]', "3:25: unknown dtype 'f64'"],
    [head + '  %1 = unary.exp (%0) : f32[2, T +]', "3:35: expected a dim expression, found ']'"],
    [head + '  %1 = unary.exp (%0) : f32[2, 3/0]', '3:32: dim division by zero'],
    [
      head + '  %1 = unary.exp (%0) : f32[2, 3] @path',
      "3:36: expected a provenance path (a string in double quotes), found 'path'",
    ],
    [head + '  %1 = unary.exp (%0) : f32[2, 3] extra', "3:35: unexpected 'extra' at end of line"],
    [head + '  %1 = full {value: -nan} : f32[]', "3:21: bad number '-nan' (NaN is written nan)"],
    [head + '  %1 = iota {axis: 1.5} : i32[2]', '3:20: the axis must be an integer, found 1.5'],
    [head + '  %1 = param "w" magic() : f32[2]', "3:18: unknown init function 'magic'"],
    [head + '  %1 = param "w" normal(std=1, std=2) : f32[2]', "3:32: repeated init argument 'std'"],
    [head + '  %1 = input "x" #0 : f32[2, 3]', '3:8: duplicate input'],
    [head + '  return y = %0\n  bogus', "4:3: expected a node line (%N = ...), 'return' or 'update', found 'bogus'"],
    [head + '  return y = %0\n  return z = %0', '1:1: the header lists 1 output but the body has 2'],
    [head, '1:27: the header lists 1 output but the body has 0'],
    [
      head.replace('(y: f32[2, 3])', '(y: f32[3])') + '  return y = %0',
      '1:27: the header lists output 0 as y: f32[3] but the body has y: f32[2, 3]',
    ],
    ['graph g(x: f32[2]) -> ()\n', '1:9: the header lists 1 input but the body has 0'],
    ['graph g(x: f32[2] -> ()', "1:19: expected ',' or ')', found '-'"],
    ['graph g() -> () dims [N', "1:24: expected ',' or ']', found end of line"],
    [
      'graph g() -> ()\n  %0 = pad {pads: [[1]], value: 0} (%0) : f32[]',
      '2:20: a pad is a pair [lo, hi], found 1 dims',
    ],
  ];
  it.each(cases)('%#', (text, message) => {
    expect(parseError(text).message).toBe(message);
  });
});

// ---------- fuzzing ----------

const TOKENS = [
  'graph',
  ' g',
  '(',
  ')',
  ' -> ',
  'x: f32[N]',
  ' dims [N]',
  '\n',
  '  %0 = ',
  '  %1 = ',
  '%0',
  '%1',
  'input "x" #0',
  'unary.exp',
  'binary.add',
  'reduce.sum {axes: [0], keepdim: true}',
  'param "p" normal(std=1)',
  'buffer "b" zeros()',
  ' : ',
  'f32[',
  'i32[',
  ']',
  'N',
  'floor(N/2)',
  ', ',
  '{',
  '}',
  'axis: ',
  '1',
  '-0.0',
  'nan',
  '"',
  '@"p"',
  'return y = ',
  'update "b" = ',
  '**',
  '/',
  '%',
  '#',
  '\\u',
];

function parsesOrFailsCleanly(text: string): void {
  let gs: Graph[];
  try {
    gs = parseModule(text);
  } catch (e) {
    if (!(e instanceof IRParseError)) throw e;
    expect(e.message).toMatch(/^\d+:\d+: /);
    return;
  }
  const printed = printModule(gs);
  expect(printModule(parseModule(printed))).toBe(printed);
}

describe('fuzzing the parser', () => {
  it('random strings give graphs or IRParseError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), parsesOrFailsCleanly), { numRuns: 1000 });
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }), (ts) => parsesOrFailsCleanly(ts.join(''))),
      { numRuns: 3000 },
    );
  });

  it('mutated printed graphs give graphs or IRParseError', () => {
    const mutation = fc.tuple(
      fc.constantFrom('delete', 'insert', 'duplicate', 'swap', 'digit'),
      fc.nat(),
      fc.nat(),
      fc.constantFrom(...TOKENS, '0', '2', 'T', '-', 'x'),
    );
    fc.assert(
      fc.property(arbGraph({ maxChoices: 200 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (g, ms) => {
        let text = printGraph(g);
        for (const [kind, a, b, tok] of ms) {
          const i = a % (text.length + 1);
          const j = Math.min(text.length, i + (b % 8));
          const lines = text.split('\n');
          const k = a % lines.length;
          if (kind === 'delete') text = text.slice(0, i) + text.slice(j);
          else if (kind === 'insert') text = text.slice(0, i) + tok + text.slice(i);
          else if (kind === 'duplicate') text = [...lines.slice(0, k + 1), ...lines.slice(k)].join('\n');
          else if (kind === 'swap')
            text =
              text.slice(0, i) + text.slice(j, j + 1) + text.slice(i + 1, j) + text.slice(i, i + 1) + text.slice(j + 1);
          else
            text = text.replace(/\d+/g, (m, off: number) =>
              off === i || b % 5 === 0 ? String((Number(m) + b) % 7) : m,
            );
        }
        parsesOrFailsCleanly(text);
      }),
      { numRuns: 400 },
    );
  });
});
