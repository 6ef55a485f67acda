// load() on a folder `fmc compile` wrote: the same numbers as compile() on the .fm file
// (bit for bit) and as the reference interpreter (within float32 error), and refusals with
// clear errors for every kind of damage: an edited C header or body, an edited plan, corrupt
// or mismatched weights, missing files.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile, load, PlanFormatError, SafetensorsError, Tensor } from '../../src/index.js';
import { lowerModel } from '../../src/api/compile.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { withQuantized } from '../../src/ir/quantize.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import type { HostTensor } from '../../src/ir/value.js';
import { seededWeights } from '../../src/runtime/compile.js';
import { pruneWeights } from '../../src/ir/sparsity.js';
import { readSafetensorsFile, writeSafetensors } from '../../src/runtime/safetensors.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { CACHE, fmc, thrown, tempDir } from './helpers.js';

const DIR = tempDir('load');
const MODULE = path.join(DIR, 'mlp');
const opts = { cacheDir: CACHE };

/** A copy of the compiled module with `edit` applied, for one damage case. */
let copies = 0;
function damaged(edit: (dir: string) => void): string {
  const dir = path.join(DIR, `copy${copies++}`);
  fs.cpSync(MODULE, dir, { recursive: true });
  edit(dir);
  return dir;
}
const editText = (file: string, f: (s: string) => string) => fs.writeFileSync(file, f(fs.readFileSync(file, 'utf8')));

beforeAll(() => {
  const r = fmc('compile', 'models/mlp.fm', '--target', 'c', '-o', MODULE, '--seed', '3');
  expect(r.code, r.err).toBe(0);
});

describe('load', () => {
  it('says what it compiles, per function with counts, on a cache miss only', () => {
    const cacheDir = tempDir('load-progress');
    const seen: string[] = [];
    load(MODULE, { cacheDir, onProgress: (m) => seen.push(m) });
    expect(seen.length).toBeGreaterThan(0);
    for (const m of seen) expect(m).toMatch(/^[a-z_]+ \(\d\/\d\): compiling 1 C file \(\d+ KB\) with /);
    expect(seen[0]).toMatch(/^\w+ \(1\//);
    const again: string[] = [];
    load(MODULE, { cacheDir, onProgress: (m) => again.push(m) });
    expect(again).toEqual([]);
  });

  it('runs every function as compile() does, and as the reference interpreter does', () => {
    const model = load(MODULE, opts);
    expect(model.name).toBe('MLP');
    expect(model.functions).toEqual(['forward', 'loss']);
    const direct = compile('models/mlp.fm', { ...opts, seed: 3 });
    const dims = new Map([['B', 3]]);
    for (const l of lowerModel('models/mlp.fm')) {
      // fc1 is `@quantize(int8)`: the reference runs the same quantized graph and weights.
      const g = runPipeline(l, { target: 'reference', mode: 'inference' }).graph;
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 7, indexBound(g, n))]));
      const tensors = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
      const got = model.run(g.name, tensors);
      const want = direct.run(g.name, tensors);
      // mlp's fc2 is `@sparse(2:4)`: compile prunes the seeded weights, so the reference runs on those.
      const params = seededWeights(l, 3, dims);
      pruneWeights(params, l);
      const ref = evaluate(g, { inputs, params: withQuantized([g], params), dims }).outputs;
      expect(Object.keys(got)).toEqual([...ref.keys()]);
      for (const [name, r] of ref) {
        const t = got[name]!;
        expect(t.dims).toEqual(r.shape);
        expect([...t.data]).toEqual([...want[name]!.data]);
        const host: HostTensor = toHost(t);
        host.data.forEach((v, i) =>
          expect(Math.abs(v - r.data[i]!)).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(r.data[i]!)),
        );
      }
    }
  });

  it('takes a file: URL, as index.mjs passes it', () => {
    const model = load(new URL(`file://${MODULE}/`), opts);
    const out = model.run({ images: new Tensor('f32', new Float32Array(784), [1, 784]) });
    expect(out.logits!.dims).toEqual([1, 10]);
  });

  it('refuses a C source whose header or body was edited', () => {
    const header = damaged((d) =>
      editText(path.join(d, 'forward.c'), (s) =>
        s.replace(/sha256 (.)/, (_, c: string) => `sha256 ${c === '0' ? '1' : '0'}`),
      ),
    );
    let e = thrown(() => load(header, opts));
    expect(e).toBeInstanceOf(PlanFormatError);
    expect(e.message).toMatch(/forward\.c: the C source does not match plan\.json \(edited\?\)/);
    const body = damaged((d) => editText(path.join(d, 'forward.c'), (s) => s.replace(/\+=/, '-=')));
    e = thrown(() => load(body, opts));
    expect(e).toBeInstanceOf(PlanFormatError);
    expect(e.message).toContain('forward.c: the C source does not match plan.json');
    // Header and plan.json's record of the source agree, but the plan is not the one hashed.
    const plan = damaged((d) =>
      editText(path.join(d, 'plan.json'), (s) => {
        const m = JSON.parse(s) as { functions: { forward: { launches: number[][] } } };
        m.functions.forward.launches.reverse();
        return JSON.stringify(m, null, 2);
      }),
    );
    e = thrown(() => load(plan, opts));
    expect(e).toBeInstanceOf(PlanFormatError);
    expect(e.message).toContain('plan.json does not match the C source (edited?)');
  });

  it('still loads a plan.json that was only reformatted', () => {
    const dir = damaged((d) => editText(path.join(d, 'plan.json'), (s) => JSON.stringify(JSON.parse(s))));
    expect(load(dir, opts).functions).toEqual(['forward', 'loss']);
  });

  it('refuses a damaged or foreign plan.json', () => {
    const cases: [string, (s: string) => string, RegExp][] = [
      ['truncated', (s) => s.slice(0, 100), /plan\.json: not valid JSON/],
      ['other format', (s) => s.replace('fmc-module-1', 'fmc-module-9'), /not an fmc module/],
      ['no sources', (s) => s.replace('"sources"', '"sourcez"'), /"functions" and "sources" must be objects/],
      [
        'path in sources',
        (s) => s.replace('"forward.c"', '"../forward.c"'),
        /no valid source entry for function 'forward'/,
      ],
    ];
    for (const [what, edit, message] of cases) {
      const e = thrown(() =>
        load(
          damaged((d) => editText(path.join(d, 'plan.json'), edit)),
          opts,
        ),
      );
      expect(e, what).toBeInstanceOf(PlanFormatError);
      expect(e.message, what).toMatch(message);
    }
  });

  it('refuses corrupt weights, and weights that do not fit the plans, with a SafetensorsError', () => {
    const file = (d: string) => path.join(d, 'weights.safetensors');
    const cut = damaged((d) => fs.truncateSync(file(d), 1000));
    let e = thrown(() => load(cut, opts));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(e.message).toMatch(/weights\.safetensors: safetensors: /);
    const resized = damaged((d) => {
      const tensors = readSafetensorsFile(file(d)).tensors;
      tensors.set('fc3.b', { dtype: 'f32', shape: [9], data: new Float64Array(9) });
      fs.writeFileSync(file(d), writeSafetensors(tensors));
    });
    e = thrown(() => load(resized, opts));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(e.message).toMatch(/weights\.safetensors: weights: tensor "fc3\.b" is f32\[9\], the plan needs f32\[10\]/);
    const missing = damaged((d) => {
      const tensors = readSafetensorsFile(file(d)).tensors;
      tensors.delete('fc3.w'); // (fc1.w is stored quantized: fc1.w:int8.q and .scale; fc2.w as 2:4)
      tensors.set('extra', { dtype: 'f32', shape: [1], data: new Float64Array(1) });
      fs.writeFileSync(file(d), writeSafetensors(tensors));
    });
    expect(thrown(() => load(missing, opts)).message).toContain('no tensor "fc3.w" (a param of the model)');
  });

  it('names the missing file', () => {
    const cases: [string, RegExp][] = [
      ['plan.json', /plan\.json: cannot read the module manifest: no such file/],
      ['loss.c', /loss\.c: cannot read the C source of 'loss': no such file/],
      ['weights.safetensors', /weights\.safetensors: safetensors: cannot read the file/],
    ];
    for (const [name, message] of cases) {
      const e = thrown(() =>
        load(
          damaged((d) => fs.rmSync(path.join(d, name))),
          opts,
        ),
      );
      expect(e.message, name).toMatch(message);
    }
    expect(thrown(() => load(path.join(DIR, 'nowhere'), opts)).message).toMatch(/nowhere: no such folder/);
  });
});
