import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fmtCommand } from '../../src/cli/fmt.js';
import type { Io } from '../../src/cli/io.js';
import { commentTexts, deepEqual, formatFm, stripSpans } from '../../src/format/format.js';
import { parseSource } from '../../src/frontend/parse.js';

const root = join(import.meta.dirname, '..', '..');

function fmFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, dir));
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.fm')).map((n) => join(dir, n));
}

function syntaxErrors(text: string): string[] {
  return parseSource('t.fm', text)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.code} ${d.message}`);
}

/** The multiset of comment texts, as a sorted list. */
function comments(text: string): string[] {
  return commentTexts(parseSource('t.fm', text).comments.map((t) => t.image)).sort();
}

/** Invariants (a) same AST without spans, (b) idempotence, (c) every comment kept. */
async function checkInvariants(input: string, file = 't.fm'): Promise<string> {
  const out = await formatFm(input, file);
  expect(syntaxErrors(out)).toEqual([]);
  const before = stripSpans(parseSource(file, input).ast);
  const after = stripSpans(parseSource(file, out).ast);
  if (!deepEqual(before, after)) expect(after).toEqual(before);
  expect(await formatFm(out, file)).toBe(out);
  expect(comments(out)).toEqual(comments(input));
  for (const l of out.split('\n')) expect(l).not.toMatch(/\s$/);
  return out;
}

async function fmt(text: string): Promise<string> {
  return formatFm(text, 't.fm');
}

describe('samples', () => {
  for (const file of fmFiles('test/format/samples')) {
    it(`${file}: round-trip, idempotence, comments`, async () => {
      const text = readFileSync(join(root, file), 'utf8');
      expect(syntaxErrors(text)).toEqual([]);
      await checkInvariants(text, file);
    });
  }

  it('all-constructs.fm covers every node kind', async () => {
    const kinds = new Set<string>();
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) return x.forEach(walk);
      if (x === null || typeof x !== 'object') return;
      const k = (x as { kind?: unknown }).kind;
      if (typeof k === 'string') kinds.add(k);
      Object.values(x).forEach(walk);
    };
    walk(parseSource('a.fm', readFileSync(join(root, 'test/format/samples/all-constructs.fm'), 'utf8')).ast);
    const all =
      'File Import Annotation Positional Named Ratio Const Block HParam ScalarType EnumType ListType LetMember Require Param Child Train Fn FnParam FnResult TensorType DimExpr DimAny DimEllipsis Let Set Return PatName PatTuple Ident Int Float Str Bool Name Ellipsis Unary Binary Call Pipe Index Member Tuple List Paren If Branch PosArg NamedArg IndexExpr Slice IndexEllipsis';
    expect([...all.split(' ')].filter((k) => !kinds.has(k))).toEqual([]);
  });
});

describe('std and models', () => {
  const files = [...fmFiles('std'), ...fmFiles('models')];
  for (const file of files) {
    it(`${file}: round-trip, idempotence, comments`, async () => {
      const text = readFileSync(join(root, file), 'utf8');
      if (syntaxErrors(text).length > 0) return; // being edited by someone else right now
      await checkInvariants(text, file);
    });
  }
});

describe('layout', () => {
  it('spaces operators and named arguments, drops redundant commas', async () => {
    expect(await fmt('const  A=1+2*3**-x\nconst B = f(a,k=1,)')).toBe(
      'const A = 1 + 2 * 3 ** -x\nconst B = f(a, k = 1)\n',
    );
  });

  it('keeps literals as written and re-escapes strings', async () => {
    expect(await fmt('const A = [3e-4, 1_000, 0x1F, 1.0e6, "a\\"b\\\\c\\nd\\te\tf", true]')).toBe(
      'const A = [3e-4, 1_000, 0x1F, 1.0e6, "a\\"b\\\\c\\nd\\te\\tf", true]\n',
    );
  });

  it('prints the list type `[int]` tight, its default spaced', async () => {
    expect(await fmt('fn f(x: f32[N], axes:[ int ]=[0,1]) {\n  return x\n}')).toBe(
      'fn f(x: f32[N], axes: [int] = [0, 1]) {\n  return x\n}\n',
    );
  });

  it('keeps parentheses as written', async () => {
    expect(await fmt('const A = ((a + b)) * (c)')).toBe('const A = ((a + b)) * (c)\n');
  });

  it('prints slices without spaces', async () => {
    expect(await fmt('const A = x[ : , -1 , :: 2 , 1 : 2 : 3 , ... ]')).toBe('const A = x[:, -1, ::2, 1:2:3, ...]\n');
  });

  it('breaks long hyperparameter lists one per line with a trailing comma', async () => {
    const long = `block B(${Array.from({ length: 12 }, (_, i) => `hparam_${i}: int = ${i}`).join(', ')}) {}`;
    const out = await fmt(long);
    expect(out.split('\n')[0]).toBe('block B(');
    expect(out).toContain('\n  hparam_11: int = 11,\n) {}\n');
  });

  it('breaks long pipes before |>', async () => {
    const out = await fmt(
      'fn f(x: f32[B]) -> f32[B] {\n  return x |> first_function_name(1) |> second_function_name(2) |> third_function(3) |> fourth_function\n}',
    );
    expect(out).toBe(
      'fn f(x: f32[B]) -> f32[B] {\n  return x\n    |> first_function_name(1)\n    |> second_function_name(2)\n    |> third_function(3)\n    |> fourth_function\n}\n',
    );
  });

  it('puts blank lines between declarations and between members of different kinds', async () => {
    const out = await fmt(
      'import "a"\nimport "b"\nconst A = 1\nconst B = 2\nblock X(d: int) {\n  let a = 1\n  let b = 2\n  c = Y()\n\n\n\n  d = Y()\n  fn f() -> f32[] { return a }\n  fn g() -> f32[] { return b }\n}',
    );
    expect(out).toBe(
      'import "a"\nimport "b"\n\nconst A = 1\nconst B = 2\n\nblock X(d: int) {\n  let a = 1\n  let b = 2\n\n  c = Y()\n\n  d = Y()\n\n  fn f() -> f32[] {\n    return a\n  }\n\n  fn g() -> f32[] {\n    return b\n  }\n}\n',
    );
  });

  it('prints short if expressions on one line and breaks those with statements', async () => {
    const out = await fmt('fn f(x: f32[B]) -> f32[B] {\n  return if a { x } else { let y = x\n y }\n}');
    expect(out).toBe('fn f(x: f32[B]) -> f32[B] {\n  return if a {\n    x\n  } else {\n    let y = x\n    y\n  }\n}\n');
    expect(await fmt('const A = if a { 1 } else if b { 2 } else { 3 }')).toBe(
      'const A = if a { 1 } else if b { 2 } else { 3 }\n',
    );
  });

  it('keeps the parentheses of a single named result and of `()`', async () => {
    expect(await fmt('fn f(x: f32[B]) -> (y: f32[B]) { return x }\nfn g() -> () { return () }')).toBe(
      'fn f(x: f32[B]) -> (y: f32[B]) {\n  return x\n}\n\nfn g() -> () {\n  return ()\n}\n',
    );
  });

  it('keeps `()` after a piped function as written', async () => {
    expect(await fmt('const A = x |> f() |> g(1)() |> h.k |> m')).toBe('const A = x |> f() |> g(1)() |> h.k |> m\n');
  });

  it('never lets a // comment swallow code', async () => {
    const out = await checkInvariants('const A = f(a // one\n, b) + // two\n c');
    for (const l of out.split('\n')) {
      const at = l.indexOf('//');
      if (at >= 0) expect(l.slice(at)).toMatch(/^\/\/ (one|two)$/);
    }
  });

  it('formats an empty file and a comment-only file', async () => {
    expect(await fmt('')).toBe('');
    expect(await fmt('  // only\n\n/* comments */  ')).toBe('// only\n/* comments */\n');
  });

  it('normalizes line endings', async () => {
    expect(await fmt('const A = 1 // x\r\nconst B = 2\r\n')).toBe('const A = 1 // x\nconst B = 2\n');
  });
});

describe('errors', () => {
  it('rejects a file with syntax errors with the rendered diagnostics', async () => {
    await expect(formatFm('const A = (1 +\n', 'bad.fm')).rejects.toThrow(/^bad\.fm:\d+:\d+: error FM01\d\d: /);
    await expect(formatFm('block B { let = 1 }', 'bad.fm')).rejects.toThrow(/bad\.fm:1:15: error FM0103/);
  });

  it('refuses to drop an annotation the parser ignores', async () => {
    await expect(formatFm('block B {\n  @checkpoint\n  require true\n}', 'r.fm')).rejects.toThrow(
      /FM0501: `@checkpoint` cannot be used on a `require`/,
    );
  });
});

// ---------------------------------------------------------------- random programs

/** An expression as tokens, with its precedence level (0 pipe .. 9 postfix/primary). */
interface E {
  readonly t: readonly string[];
  readonly p: number;
}
const wrap = (e: E, min: number): readonly string[] => (e.p >= min ? e.t : ['(', ...e.t, ')']);
const commaSep = (xs: readonly (readonly string[])[]): string[] => xs.flatMap((x, i) => (i > 0 ? [',', ...x] : [...x]));

const NAME = fc.constantFrom(
  'x',
  'y',
  'd',
  'B',
  'T',
  'w_1',
  'hidden',
  'training',
  'inf',
  'a_rather_long_identifier_name_to_force_line_breaks',
);
const KEY = fc.constantFrom('axis', 'k', 'keepdim', 'std', 'bias');
const ATOM = fc.oneof(
  NAME,
  fc.constantFrom('0', '1', '42', '1_000', '0x1F', '0.5', '3e-4', '1.0e6', 'true', 'false', '...'),
  fc.constantFrom('"a"', '"ij,jk->ik"', '"q\\"uote"', '"back\\\\slash"', '"nl\\n"', '"tab\\t"', '""'),
);
const BINOP = fc.constantFrom<[string, number]>(
  ['or', 1],
  ['and', 2],
  ['==', 4],
  ['!=', 4],
  ['<', 4],
  ['<=', 4],
  ['>', 4],
  ['>=', 4],
  ['+', 5],
  ['-', 5],
  ['*', 6],
  ['/', 6],
  ['%', 6],
  ['@', 6],
  ['**', 8],
);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const { expr } = fc.letrec<{ expr: E; arg: readonly string[]; index: readonly string[] }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'expr' },
    ATOM.map((a): E => ({ t: [a], p: 10 })),
    fc
      .tuple(tie('expr'), BINOP, tie('expr'))
      .map(([l, [op, lv], r]): E =>
        op === '**'
          ? { t: [...wrap(l, 9), op, ...wrap(r, 7)], p: 8 }
          : { t: [...wrap(l, lv), op, ...wrap(r, lv + 1)], p: lv },
      ),
    tie('expr').map((e): E => ({ t: ['-', ...wrap(e, 7)], p: 7 })),
    tie('expr').map((e): E => ({ t: ['not', ...wrap(e, 3)], p: 3 })),
    fc.tuple(tie('expr'), fc.array(tie('arg'), { maxLength: 3 }), fc.boolean()).map(([f, as, comma]): E => ({
      t: [...wrap(f, 9), '(', ...commaSep(as), ...(comma && as.length > 0 ? [','] : []), ')'],
      p: 9,
    })),
    fc.tuple(tie('expr'), fc.array(tie('index'), { minLength: 1, maxLength: 3 })).map(([x, is]): E => ({
      t: [...wrap(x, 9), '[', ...commaSep(is), ']'],
      p: 9,
    })),
    fc.tuple(tie('expr'), NAME).map(([x, n]): E => ({ t: [...wrap(x, 9), '.', n], p: 9 })),
    fc.tuple(tie('expr'), NAME, fc.option(fc.array(tie('arg'), { maxLength: 2 }))).map(([v, f, as]): E => ({
      t: [...wrap(v, 0), '|>', f, ...(as ? ['(', ...commaSep(as), ')'] : [])],
      p: 0,
    })),
    fc.array(tie('expr'), { maxLength: 3 }).map((xs): E => ({ t: ['[', ...commaSep(xs.map((x) => x.t)), ']'], p: 10 })),
    fc
      .array(tie('expr'), { minLength: 2, maxLength: 3 })
      .map((xs): E => ({ t: ['(', ...commaSep(xs.map((x) => x.t)), ')'], p: 10 })),
    tie('expr').map((e): E => ({ t: ['(', ...e.t, ')'], p: 10 })),
    fc
      .tuple(
        tie('expr'),
        fc.array(fc.tuple(NAME, tie('expr')), { maxLength: 2 }),
        tie('expr'),
        tie('expr'),
        fc.boolean(),
      )
      .map(([c, lets, a0, b, elif]): E => {
        // After a `let`, a value starting with `(`, `[` or `-` would continue the let's expression.
        const a = lets.length > 0 && ['(', '[', '-'].includes(a0.t[0]!) ? { t: ['x'], p: 10 } : a0;
        return {
          t: [
            'if',
            ...c.t,
            '{',
            ...lets.flatMap(([n, v]) => ['let', n, '=', ...v.t]),
            ...a.t,
            '}',
            'else',
            ...(elif ? ['if', ...b.t, '{', ...a.t, '}', 'else'] : []),
            '{',
            ...b.t,
            '}',
          ],
          p: 10,
        };
      }),
  ),
  arg: fc.oneof(
    tie('expr').map((e) => e.t),
    fc.tuple(KEY, tie('expr')).map(([k, e]) => [k, '=', ...e.t]),
  ),
  index: fc.oneof(
    tie('expr').map((e) => e.t),
    fc.constantFrom([':'], ['...'], [':', ':', '2'], [':', '-', '1']),
    fc
      .tuple(opt(tie('expr')), opt(tie('expr')), opt(tie('expr')))
      .map(([a, b, c]) => [...(a?.t ?? []), ':', ...(b?.t ?? []), ...(c ? [':', ...c.t] : [])]),
  ),
}));

const DIM = fc.oneof(
  NAME.map((n) => [n]),
  fc.constantFrom(['4'], ['...'], ['_'], ['d', '*', '2'], ['(', 'd', '+', '1', ')']),
);
const TENSOR = fc
  .tuple(fc.constantFrom('f32', 'bf16', 'i32', 'float', 'int', 'bool'), fc.array(DIM, { maxLength: 3 }))
  .map(([dt, ds]) => [dt, '[', ...commaSep(ds), ']']);
const HTYPE = fc.constantFrom(['int'], ['float'], ['bool'], ['dtype'], ['fn'], ['[', 'int', ']'], ['pre', '|', 'post']);
const ANNOTATION = fc.constantFrom(
  ['@checkpoint'],
  ['@checkpoint', '(', ')'],
  ['@quantize', '(', 'int4', ',', 'group', '=', '128', ')'],
  ['@sparse', '(', '2', ':', '4', ')'],
  ['@sparse', '(', 'block', '=', '4', ',', 'density', '=', '0.5', ')'],
  ['@precision', '(', 'bf16', ')'],
);
const ANNS = fc.array(ANNOTATION, { maxLength: 2 }).map((as) => as.flat());
const E = expr.map((e) => e.t);
const TRAILING = fc.boolean();
const ARG = fc.oneof(
  E,
  fc.tuple(KEY, E).map(([k, e]) => [k, '=', ...e]),
);

const STMT = fc.oneof(
  fc.tuple(NAME, E).map(([n, e]) => ['let', n, '=', ...e]),
  fc.tuple(NAME, TENSOR, E).map(([n, t, e]) => ['let', n, ':', ...t, '=', ...e]),
  fc.tuple(NAME, NAME, E).map(([a, b, e]) => ['let', '(', a, ',', '(', b, ',', '_', ')', ')', '=', ...e]),
  fc.tuple(NAME, E).map(([n, e]) => ['set', n, '=', ...e]),
  fc.tuple(E, fc.boolean()).map(([e, m]) => ['require', ...e, ...(m ? [',', '"message"'] : [])]),
);
const PARAM = fc
  .tuple(NAME, fc.oneof(TENSOR, HTYPE), opt(E))
  .map(([n, t, d]) => [n, ':', ...t, ...(d ? ['=', ...d] : [])]);
const RESULTS = fc.oneof(
  fc.constant([] as string[]),
  TENSOR.map((t) => ['->', ...t]),
  fc.tuple(NAME, TENSOR).map(([n, t]) => ['->', '(', n, ':', ...t, ')']),
  fc.array(TENSOR, { minLength: 2, maxLength: 3 }).map((ts) => ['->', '(', ...commaSep(ts), ')']),
  fc.constant(['->', '(', ')']),
);
const FN = fc
  .tuple(ANNS, NAME, fc.array(PARAM, { maxLength: 3 }), TRAILING, RESULTS, fc.array(STMT, { maxLength: 3 }), E)
  .map(([as, n, ps, tc, rs, ss, ret]) => [
    ...as,
    'fn',
    n,
    '(',
    ...commaSep(ps),
    ...(tc && ps.length > 0 ? [','] : []),
    ')',
    ...rs,
    '{',
    ...ss.flat(),
    'return',
    ...ret,
    '}',
  ]);
const MEMBER = fc.oneof(
  fc.tuple(ANNS, NAME, E).map(([as, n, e]) => [...as, 'let', n, '=', ...e]),
  fc.tuple(E, fc.boolean()).map(([e, m]) => ['require', ...e, ...(m ? [',', '"msg"'] : [])]),
  fc
    .tuple(ANNS, fc.constantFrom('param', 'buffer'), NAME, TENSOR, opt(E), opt(E))
    .map(([as, kw, n, t, i, c]) => [...as, kw, n, ':', ...t, ...(i ? ['=', ...i] : []), ...(c ? ['if', ...c] : [])]),
  fc
    .tuple(
      ANNS,
      NAME,
      opt(fc.tuple(fc.constantFrom('repeat', 'stack'), fc.constantFrom(['4'], ['n'], ['(', 'n', '*', '2', ')']))),
      fc.array(ARG, { maxLength: 3 }),
      opt(E),
    )
    .map(([as, n, m, args, c]) => [
      ...as,
      n,
      '=',
      ...(m ? [m[0], ...m[1]] : []),
      'Layer',
      '(',
      ...commaSep(args),
      ')',
      ...(c ? ['if', ...c] : []),
    ]),
  FN,
  fc
    .tuple(ANNS, fc.array(fc.tuple(KEY, E, fc.boolean()), { maxLength: 3 }))
    .map(([as, es]) => [
      ...as,
      'train',
      '{',
      ...es.flatMap(([k, e, comma]) => [k, '=', ...e, ...(comma ? [','] : [])]),
      '}',
    ]),
);
const HPARAM = fc.tuple(NAME, opt(HTYPE), E).map(([n, t, d]) => [n, ...(t ? [':', ...t] : []), '=', ...d]);
const ITEM = fc.oneof(
  fc.constantFrom(
    ['import', '"std/nn"'],
    ['import', '{', 'a', ',', 'b', '}', 'from', '"std/act"'],
    ['import', '{', '}', 'from', '"x"'],
  ),
  fc.tuple(ANNS, NAME, opt(HTYPE), E).map(([as, n, t, e]) => [...as, 'const', n, ...(t ? [':', ...t] : []), '=', ...e]),
  FN,
  fc
    .tuple(
      ANNS,
      fc.constantFrom('block', 'model'),
      NAME,
      fc.array(HPARAM, { maxLength: 3 }),
      TRAILING,
      fc.array(MEMBER, { maxLength: 4 }),
    )
    .map(([as, kw, n, hs, tc, ms]) => [
      ...as,
      kw,
      n,
      ...(hs.length > 0 ? ['(', ...commaSep(hs), ...(tc ? [','] : []), ')'] : []),
      '{',
      ...ms.flat(),
      '}',
    ]),
);
const PROGRAM = fc.array(ITEM, { minLength: 1, maxLength: 3 }).map((is) => is.flat());

/** What goes between two tokens: whitespace, or a comment anywhere at all. */
const SEP = fc.oneof(
  { weight: 20, arbitrary: fc.constant(' ') },
  { weight: 4, arbitrary: fc.constantFrom('\n', '\n\n', '\n\n\n', '  ', '\t') },
  {
    weight: 6,
    arbitrary: fc.constantFrom(' /*C*/ ', '/*C*/', ' // C\n', '\n// C\n', '\n\n// C\n\n', ' /*C\n   more */\n'),
  },
);

function assemble(tokens: readonly string[], seps: readonly string[]): string {
  let n = 0;
  const sep = (i: number) => (seps[i % seps.length] ?? ' ').replace(/C/g, () => `c${n++}`);
  // A `/*` right after the `/` operator would read as `//`.
  const glue = (t: string, s: string) => (t === '/' && s.startsWith('/') ? ` ${s}` : s);
  return tokens.map((t, i) => (i === 0 ? t : glue(tokens[i - 1]!, sep(i)) + t)).join('') + sep(tokens.length);
}

describe('random programs (fast-check)', () => {
  // FMC_FMT_RUNS=5000 npx vitest run test/format -t random: a longer search.
  const runs = Number(process.env.FMC_FMT_RUNS ?? 300);
  it('keep the AST and the comments, and format idempotently', { timeout: Math.max(60_000, runs * 100) }, async () => {
    await fc.assert(
      fc.asyncProperty(PROGRAM, fc.array(SEP, { minLength: 1, maxLength: 300 }), async (tokens, seps) => {
        const src = assemble(tokens, seps);
        expect(syntaxErrors(src)).toEqual([]);
        await checkInvariants(src);
      }),
      { numRuns: runs },
    );
  });
});

// ---------------------------------------------------------------- fmc fmt

function captureIo(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    color: false,
    out: (s: string) => void (io.stdout += s),
    err: (s: string) => void (io.stderr += s),
  };
  return io;
}

describe('fmc fmt', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmc-fmt-'));
  const clean = join(dir, 'clean.fm');
  const messy = join(dir, 'messy.fm');
  const bad = join(dir, 'bad.fm');
  writeFileSync(clean, 'const A = 1\n');
  writeFileSync(messy, 'const   A=1');
  writeFileSync(bad, 'const A = (\n');

  it('--check lists files that would change', async () => {
    const io = captureIo();
    expect(await fmtCommand(io, [clean, messy], { check: true, stdout: false })).toBe(1);
    expect(io.stderr).toContain(`${messy}: not formatted\n`);
    expect(io.stderr).not.toContain(`${clean}:`);
    expect(readFileSync(messy, 'utf8')).toBe('const   A=1');
    const ok = captureIo();
    expect(await fmtCommand(ok, [clean], { check: true, stdout: false })).toBe(0);
    expect(ok.stderr).toBe('fmc: 1 file formatted correctly\n');
  });

  it('--stdout prints without writing', async () => {
    const io = captureIo();
    expect(await fmtCommand(io, [messy], { check: false, stdout: true })).toBe(0);
    expect(io.stdout).toBe('const A = 1\n');
    expect(readFileSync(messy, 'utf8')).toBe('const   A=1');
  });

  it('writes changed files only, then they are clean', async () => {
    const io = captureIo();
    expect(await fmtCommand(io, [clean, messy], { check: false, stdout: false })).toBe(0);
    expect(io.stdout).toBe(`formatted ${messy}\n`);
    expect(readFileSync(messy, 'utf8')).toBe('const A = 1\n');
    expect(readdirSync(dir).sort()).toEqual(['bad.fm', 'clean.fm', 'messy.fm']);
  });

  it('reports syntax errors and unreadable files', async () => {
    const io = captureIo();
    expect(await fmtCommand(io, [bad, join(dir, 'missing.fm'), clean], { check: false, stdout: false })).toBe(1);
    expect(io.stderr).toMatch(/bad\.fm:1:11: error FM0105/);
    expect(io.stderr).toContain(`fmc: cannot read ${join(dir, 'missing.fm')}: no such file or directory\n`);
    expect(readFileSync(bad, 'utf8')).toBe('const A = (\n');
  });
});
