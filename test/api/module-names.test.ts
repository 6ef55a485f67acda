// Function names are user text: index.mjs and index.d.mts export a function only under a plain,
// non-reserved name (never `then`, which would make the module a thenable), interface names
// are sanitized and unique, file names are safe on every file system, and any other text
// appears only inside string literals. Checked on a compiled model with awkward names
// (imported by node and type-checked by tsc) and on the generators with hostile strings.

import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { isExportName, moduleDts, moduleJs, typeStems } from '../../src/api/module-types.js';
import { sourceFileNames } from '../../src/api/module.js';
import { dimConst, dimSym } from '../../src/ir/dims.js';
import type { Plan } from '../../src/kernels/plan.js';
import { ROOT, fmc, sh, tempDir } from './helpers.js';

const DIR = tempDir('names');
const NAMES = ['forward', 'delete', 'then', '__proto__', 'train_step', 'trainStep', 'Forward', '_default', 'con'];
const fnText = (name: string) => `  fn ${name}(x: f32[B, d]) -> (y: f32[B, 2]) {\n    return fc(x)\n  }\n`;
const SOURCE = `import { Linear } from "std/nn"\n\nmodel Names(d = 4) {\n  fc = Linear(d, 2)\n${NAMES.map(fnText).join('')}}\n`;

/** Syntax errors of a module's text (as TypeScript, which also parses the JavaScript). */
const syntaxErrors = (text: string): string[] =>
  (
    ts.transpileModule(text, { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext } })
      .diagnostics ?? []
  ).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));

/** Every identifier in a module's syntax tree. */
function identifiers(text: string): string[] {
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n)) out.push(n.text);
    n.forEachChild(visit);
  };
  visit(ts.createSourceFile('m.ts', text, ts.ScriptTarget.ES2022, true));
  return out;
}

describe('names in generated modules', () => {
  it('compiles a model with awkward function names into a module node imports and tsc accepts', () => {
    fs.writeFileSync(path.join(DIR, 'names.fm'), SOURCE);
    const out = path.join(DIR, 'names');
    const r = fmc('compile', path.join(DIR, 'names.fm'), '-o', out);
    expect(r.code, r.err).toBe(0);
    // `fmc` as an installed package: node_modules/fmc is this repository.
    fs.mkdirSync(path.join(DIR, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(DIR, 'node_modules', 'fmc'), 'dir');
    const script = `
      import { Tensor } from 'fmc';
      const ns = await import(${JSON.stringify(path.join(out, 'index.mjs'))});
      const x = new Tensor('f32', new Float32Array(8), [2, 4]);
      const a = ns.forward({ x }).y, b = ns.default.run('then', { x }).y, c = ns.default.run('__proto__', { x }).y;
      console.log(JSON.stringify({ exports: Object.keys(ns).sort(), same: [...a.data].join() === [...b.data].join() && [...b.data].join() === [...c.data].join() }));`;
    fs.writeFileSync(path.join(DIR, 'main.mjs'), script);
    const run = sh(process.execPath, [path.join(DIR, 'main.mjs')], DIR);
    expect(run.err).toBe('');
    expect(JSON.parse(run.out)).toEqual({
      exports: ['Forward', '_default', 'con', 'default', 'forward', 'trainStep', 'train_step'],
      same: true,
    });
    const files = fs.readdirSync(out).filter((f) => f.endsWith('.c'));
    // `Forward` would clash with forward.c on a case-insensitive disk, `con` is a Windows device.
    expect(files.sort()).toEqual([
      '__proto__.c',
      '_default.c',
      'delete.c',
      'fn6.c',
      'fn8.c',
      'forward.c',
      'then.c',
      'trainStep.c',
      'train_step.c',
    ]);
    // The declarations, checked in full (as a .ts file: skipLibCheck would skip a .d.ts).
    fs.copyFileSync(path.join(out, 'index.d.mts'), path.join(DIR, 'check.ts'));
    const config = {
      compilerOptions: { module: 'NodeNext', strict: true, noEmit: true, types: [], skipLibCheck: true },
      files: ['check.ts'],
    };
    fs.writeFileSync(path.join(DIR, 'tsconfig.json'), JSON.stringify(config));
    const tsc = sh(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', DIR], DIR);
    expect(tsc.out + tsc.err).toBe('');
  });

  it('keeps hostile names inside string literals', () => {
    const hostile = ['a"b', 'x\u2028y', '*/ evil()', "it's", 'new'];
    const plan = (name: string): Plan => ({
      name,
      dims: ['B'],
      slots: [],
      buffers: [],
      kernels: [],
      launches: [],
      inputs: [{ name: `in ${name}`, buffer: 0, dtype: 'f32', shape: [dimSym('B'), dimConst(3)] }],
      outputs: [{ name: `out\n${name}`, buffer: 1, dtype: 'i32', shape: [] }],
      params: [],
      updates: [],
    });
    const js = moduleJs('0.1.0', 'M"\n', hostile);
    const dts = moduleDts('0.1.0', 'M"\n', hostile.map(plan));
    expect(syntaxErrors(js)).toEqual([]);
    expect(syntaxErrors(dts)).toEqual([]);
    expect(js).not.toMatch(/export function/);
    expect(dts).toContain('readonly "in a\\"b": Tensor<"f32", readonly [number, 3]>;');
    expect(dts).toContain('readonly "out\\nnew": Tensor<"i32", readonly []>;');
    // The names never become code: `evil` is no identifier in either file.
    expect(identifiers(js)).not.toContain('evil');
    expect(identifiers(dts)).not.toContain('evil');
    expect(typeStems(hostile)).toEqual(['Fn0', 'Fn1', 'Fn2', 'Fn3', 'New']);
    expect(hostile.map(isExportName)).toEqual([false, false, false, false, false]);
    expect(sourceFileNames(['a.b', '../x', 'ok', 'OK', 'aux'])).toEqual(['fn0.c', 'fn1.c', 'ok.c', 'fn3.c', 'fn4.c']);
  });
});
