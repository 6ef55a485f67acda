// Every model and std file checks clean, and shape mistakes in the models are caught:
// changing a dim of a model's declared input or output gives a shape error.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type * as A from '../../src/frontend/ast.js';
import { checkProgram } from '../../src/frontend/check.js';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { parseSource } from '../../src/frontend/parse.js';
import { type Host, nodeHost, Program } from '../../src/frontend/program.js';

const ROOT = path.resolve(__dirname, '../..');
const list = (d: string) =>
  fs
    .readdirSync(path.join(ROOT, d))
    .filter((f) => f.endsWith('.fm'))
    .map((f) => path.join(ROOT, d, f));
const models = list('models');
const std = list('std');

function check(abs: string, text?: string) {
  const host: Host = {
    read: (p) => (p === abs && text !== undefined ? new TextEncoder().encode(text) : nodeHost.read(p)),
    display: (p) => path.relative(ROOT, p),
  };
  const program = new Program(host);
  program.addFile(abs);
  const ds = checkProgram(program);
  return { ds, shown: ds.map((d) => renderDiagnostic(d, (f) => program.source(f))).join('\n\n') };
}

function forwardOf(text: string): A.FnDecl {
  const ast = parseSource('m.fm', text).ast;
  const model = ast.items.find((i): i is A.BlockDecl => i.kind === 'Block' && i.isModel);
  const fwd = model?.members.find((m): m is A.FnDecl => m.kind === 'Fn' && m.name.name === 'forward');
  if (!fwd) throw new Error('no model forward');
  return fwd;
}

describe('the shipped .fm files', () => {
  it('has the seed models and the std library', () => {
    const names = models.map((m) => path.basename(m));
    for (const m of ['mlp.fm', 'cnn.fm', 'bert.fm', 'hybrid_vit.fm', 'moe_lm.fm', 'swa_lm.fm', 'conformer.fm'])
      expect(names).toContain(m);
    expect(std.length).toBeGreaterThanOrEqual(7);
  });
  for (const f of [...std, ...models]) {
    it(`${path.relative(ROOT, f)} checks clean`, () => {
      const { ds, shown } = check(f);
      expect(ds, shown).toEqual([]);
    });
  }
  for (const f of models) {
    const text = fs.readFileSync(f, 'utf8');
    const fwd = forwardOf(text);
    it(`${path.basename(f)}: a wrong output dim is FM0404`, () => {
      const dims = fwd.results![0]!.type.dims;
      const last = dims[dims.length - 1]!;
      const mutated = text.slice(0, last.span.start) + '997' + text.slice(last.span.end);
      const { ds, shown } = check(f, mutated);
      expect(
        ds.map((d) => d.code),
        shown,
      ).toContain('FM0404');
    });
    it(`${path.basename(f)}: a wrong input dim is a shape error`, () => {
      const t = fwd.params.find((p) => p.type.kind === 'TensorType' && p.type.dims.length > 0)!
        .type as A.TensorTypeExpr;
      const last = t.dims[t.dims.length - 1]!;
      const mutated = text.slice(0, last.span.start) + '997' + text.slice(last.span.end);
      const { ds, shown } = check(f, mutated);
      expect(ds.length, shown).toBeGreaterThan(0);
      // A shape error, or (for token inputs whose dims name the output dims) an unbound dim.
      expect(
        ds.every((d) => /^FM04|^FM0207$/.test(d.code)),
        shown,
      ).toBe(true);
    });
  }
});
