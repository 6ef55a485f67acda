// Limits instead of crashes and hangs (issue 17, items 5, 6, 8 and 9): each input here used
// to crash fmc with an internal error (a stack overflow, `bad random count`), hang it
// (compile-time integers of millions of bits, exponential instantiation or inlining) or
// exhaust the heap (`repeat 1000000000000`). Now each is a diagnostic with file:line:col
// within seconds, or, for deep but legal programs, compiles. The limits are documented in
// docs/language.md (Limits).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderC } from '../../src/codegen/c.js';
import { checkFiles } from '../../src/frontend/check.js';
import { BUDGETS } from '../../src/frontend/checker/limits.js';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { dimConst, dimMul, dimSym } from '../../src/ir/dims.js';
import { concreteInt } from '../../src/ir/interp.js';
import { lowerGraph } from '../../src/kernels/lower.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-limits-'));
let n = 0;
function write(text: string, name = `case${n++}.fm`): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** Rendered diagnostics of checking `text` (never an internal error). */
function check(text: string): string {
  const { program, diagnostics } = checkFiles([write(text)]);
  const out = diagnostics.map((d) => renderDiagnostic(d, (f) => program.source(f))).join('\n');
  expect(out).not.toContain('FM9999');
  return out;
}

/** Lowers the model and renders its C (without compiling it). */
function lowerToC(text: string): string {
  const r = lowerFile(write(text));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return renderC(lowerGraph(r.lowered.graph).kernels, 'test');
}

const lines = (k: number, f: (i: number) => string): string => Array.from({ length: k }, (_, i) => f(i)).join('\n');

describe('deep programs lower to C without overflowing the stack (item 5)', () => {
  it('a chain of 2,000 lets', () => {
    const src = `model M() {\n  fn forward(x: f32[4]) -> f32[4] {\n    let a0 = x\n${lines(1999, (i) => `    let a${i + 1} = a${i} + x`)}\n    return a1999\n  }\n}\n`;
    expect(lowerToC(src)).toContain('void');
  });

  it('a concat of 5,000 operands', () => {
    const ops = Array.from({ length: 5000 }, () => 'x').join(', ');
    const src = `model M() {\n  fn forward(x: f32[1]) -> f32[5000] {\n    return concat([${ops}], axis = 0)\n  }\n}\n`;
    expect(lowerToC(src)).toContain('void');
  });

  it('an input of rank 2,000 is FM0426 at its type; rank 64 compiles', () => {
    const dims = (r: number) => Array.from({ length: r }, () => '1').join(', ');
    const out = check(
      `model M() {\n  fn forward(x: f32[${dims(2000)}]) -> f32[1] {\n    return reshape(x, [1])\n  }\n}\n`,
    );
    expect(out).toMatch(/case\d+\.fm:2:17: error FM0426: a tensor of rank 2000: the most axes a tensor may have is 64/);
    expect(
      lowerToC(`model M() {\n  fn forward(x: f32[${dims(64)}]) -> f32[${dims(64)}] {\n    return x + x\n  }\n}\n`),
    ).toContain('void');
  });

  it('a chain of 1,400 imports checks', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'imports-'));
    for (let i = 0; i < 1400; i++) {
      const next = i < 1399 ? `import { g${i + 1} } from "./m${i + 1}"\n` : '';
      const body = i < 1399 ? `return g${i + 1}(x)` : 'return x';
      fs.writeFileSync(path.join(sub, `m${i}.fm`), `${next}fn g${i}(x: f32[4]) -> f32[4] { ${body} }\n`);
    }
    const main = path.join(sub, 'main.fm');
    fs.writeFileSync(main, 'import { g0 } from "./m0"\nfn f(x: f32[4]) -> f32[4] { return g0(x) }\n');
    const { diagnostics } = checkFiles([main]);
    // The imports resolve; the chain of calls is too deep to inline (FM0318), not a crash.
    expect(diagnostics.map((d) => d.code)).toEqual(['FM0318']);
  });
});

describe('sizes beyond the targets (items 5 and 6)', () => {
  it('params too large to draw are FM0427 at their type', () => {
    const out = check(
      'model M() {\n  param w: f32[134217728, 134217728]\n  param v: f32[65536, 131072]\n  fn forward(x: f32[4]) -> f32[4] { return x }\n}\n',
    );
    expect(out).toMatch(/:2:12: error FM0427: param `w` has 18014398509481984 elements, more than the limit of 2\^32/);
    expect(out).toMatch(/:3:12: error FM0427: param `v` has 8589934592 elements, more than the limit of 2\^32/);
    const r = lowerFile(
      write('model M() {\n  param w: f32[134217728, 134217728]\n  fn forward(x: f32[4]) -> f32[4] { return x }\n}\n'),
    );
    expect(r.ok).toBe(false);
  });

  it('a dim beyond 2^53 - 1 is FM0427 at its type; a symbolic one fails at run time saying so', () => {
    const out = check(
      'model M(d = 4) {\n  fn forward(x: f32[B, 9007199254740991 * 2]) -> (y: f32[B, 3]) { return x[:, 0:3] }\n}\n',
    );
    expect(out).toMatch(
      /:2:17: error FM0427: axis 1 of a tensor has 18014398509481982 elements, more than the limit of 2\^53 - 1/,
    );
    expect(
      check(
        'model M() {\n  param w: f32[0, 9007199254740991 + 1]\n  fn forward(x: f32[4]) -> f32[4] { return x }\n}\n',
      ),
    ).toMatch(/:2:12: error FM0427: axis 1 of a tensor has 9007199254740992 elements/);
    expect(check('fn f(x: f32[9007199254740991]) -> f32[9007199254740991] { return x }\n')).toBe('');
    // B·2^54 is only known when B is bound: the run-time error names the dim, its binding and its value.
    const big = dimMul(dimSym('B'), dimMul(dimConst(2 ** 52), dimConst(4)));
    expect(() => concreteInt(big, new Map([['B', 1]]))).toThrow(
      /^18014398509481984\*B with B = 1 is 18014398509481984, beyond 2\^53 - 1/,
    );
    expect(() => concreteInt(big, new Map([['B', 1]]))).not.toThrow(/with {2}is/);
  });

  it('constants and dims beyond i64 are FM0316 where they overflow', () => {
    const out = check(
      'const K = 4294967296 * 4294967296 / 2\nmodel M(d = 4294967296 * 4294967296) {\n  fn forward(x: f32[4]) -> f32[4] { return x }\n}\n',
    );
    expect(out).toMatch(/:1:22: error FM0316: integer overflow: 18446744073709551616 does not fit in 64 bits/);
    expect(out).toMatch(/:2:24: error FM0316: integer overflow: 18446744073709551616 does not fit in 64 bits/);
  });
});

describe('bounded compile-time arithmetic (item 8)', () => {
  it('31 lines of squaring stop at the first overflow, at once', () => {
    const t0 = Date.now();
    const src = `const C0 = 3\n${lines(30, (i) => `const C${i + 1} = C${i} * C${i}`)}\nmodel M(d = C30) {\n  fn forward(x: f32[d]) -> f32[d] { return x }\n}\n`;
    const out = check(src);
    expect(out).toMatch(/:7:15: error FM0316: integer overflow: 3433683820292512484657849089281 does not fit/);
    expect(out.match(/error/g)).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('budgets on exponential work (item 9)', () => {
  it('repeat 1000000000000 is FM0317 at check time, and lowering stops there too', () => {
    const src =
      'import { Linear } from "std/nn"\nmodel M() {\n  layers = repeat 1000000000000 Linear(4, 4)\n  fn forward(x: f32[4]) -> f32[4] { return layers(x) }\n}\n';
    const t0 = Date.now();
    expect(check(src)).toMatch(
      /:3:3: error FM0317: `layers = repeat 1000000000000 Linear` has 1000000000000 block instances, more than the limit of 100000/,
    );
    const r = lowerFile(write(src));
    expect(r.ok).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('blocks doubling their child 20 times are FM0317 once, in a second', () => {
    const blocks = lines(
      20,
      (i) =>
        `block B${i + 1}(d: int) {\n  a = B${i}(d)\n  b = B${i}(d)\n  fn forward(x: f32[N, d]) -> f32[N, d] { return b(a(x)) }\n}`,
    );
    const src = `import { Linear } from "std/nn"\nblock B0(d: int) {\n  l = Linear(d, d)\n  fn forward(x: f32[N, d]) -> f32[N, d] { return l(x) }\n}\n${blocks}\nmodel M(d = 4) {\n  top = B20(d)\n  fn forward(x: f32[N, d]) -> f32[N, d] { return top(x) }\n}\n`;
    const t0 = Date.now();
    const out = check(src);
    expect(out.match(/error FM0317/g)).toHaveLength(1);
    expect(out).toMatch(/error FM0317: `B16` \(with `b`\) has 196607 block instances, more than the limit of 100000/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('functions doubling their calls 24 times are FM0319 at check time', () => {
    const src = `fn h0(x: f32[4]) -> f32[4] { return x * 2.0 }\n${lines(24, (i) => `fn h${i + 1}(x: f32[4]) -> f32[4] { return h${i}(h${i}(x)) }`)}\nmodel M() {\n  fn forward(x: f32[4]) -> f32[4] { return h24(x) }\n}\n`;
    const t0 = Date.now();
    expect(check(src)).toMatch(
      /:20:4: error FM0319: a call of `h19` inlines 1048574 calls, more than the limit of 1000000/,
    );
    expect(lowerFile(write(src)).ok).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('the graph-node budget stops lowering a large repeat with an estimate (FM0803)', () => {
    const body = lines(20, (i) => `    let a${i + 1} = a${i} * 1.5 + 1.0`);
    const src = `block H(d: int) {\n  fn forward(x: f32[d]) -> f32[d] {\n    let a0 = x\n${body}\n    return a20\n  }\n}\nmodel M() {\n  layers = repeat 500 H(4)\n  fn forward(x: f32[4]) -> f32[4] { return layers(x) }\n}\n`;
    const saved = BUDGETS.graphNodes;
    BUDGETS.graphNodes = 5000;
    try {
      const r = lowerFile(write(src));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const d = r.diagnostics[0]!;
      expect(d.code).toBe('FM0803');
      expect(d.message).toMatch(
        /^cannot compile `M`: `layers` \(repeat 500\) would build about \d+ graph nodes; 5000 were reached at instance \d+ of 500 \(the limit is 5000\)$/,
      );
      expect(renderDiagnostic(d, (f) => r.program.source(f))).toMatch(/\.fm:29:44: error FM0803/);
    } finally {
      BUDGETS.graphNodes = saved;
    }
  });
});
