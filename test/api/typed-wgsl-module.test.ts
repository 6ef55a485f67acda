// The typed module of a WGSL compile (`fmc compile --target wgsl`): index.d.mts types each
// function as returning a Promise of its shaped outputs, so tsc accepts `await forward(x)` and
// rejects using the result without awaiting it, or a wrongly shaped input; index.mjs runs
// under node and gives what load() gives in-process (skipped, with the reason printed, where
// WebGPU has no adapter).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load, Tensor } from '../../src/index.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { ROOT, fmc, sh } from './helpers.js';

const tsc = (...args: string[]) =>
  sh(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ...args]);

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the run of a typed WGSL module: ${why}`);

// Inside the package, so that `fmc` resolves to it (package.json "exports"); .scratch/ is git-ignored.
const dir = path.join(ROOT, '.scratch', `typed-wgsl-${process.pid}`);
const MODULE = path.join(dir, 'mlp');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const IMAGES = "const images = new Tensor('f32', new Float32Array(784).map((_, i) => (i % 7) / 7), [1, 784]);";

/** Programs against the module: [body, error or '' for none]. */
const PROGRAMS: Record<string, [string, string]> = {
  'ok.ts': [
    [
      'const out = await forward({ images });',
      'const classes: 10 = out.logits.dims[1];',
      'const pending: Promise<{ readonly logits: Tensor<"f32", readonly [number, 10]> }> = forward({ images });',
      "const again = await model.runAsync('forward', { images });",
      'void [classes, pending, again];',
    ].join('\n'),
    '',
  ],
  'not-awaited.ts': [
    'const n = forward({ images }).logits;\nvoid n;',
    "Property 'logits' does not exist on type 'Promise<ForwardOutputs>'",
  ],
  'wrong-shape.ts': [
    "await forward({ images: new Tensor('f32', new Float32Array(783), [1, 783]) });",
    "Type 'readonly [1, 783]' is not assignable to type 'readonly [number, 784]'",
  ],
};

describe('the typed module of a WGSL compile', () => {
  it(
    'types each function as returning a Promise of its outputs, and runs under node',
    { timeout: 120_000 },
    async () => {
      const c = fmc('compile', 'models/mlp.fm', '--target', 'wgsl', '-o', MODULE);
      expect(c.code, c.err).toBe(0);
      expect(fs.readFileSync(path.join(MODULE, 'index.mjs'), 'utf8')).toContain('return $model.runAsync("forward"');
      for (const [file, [body]] of Object.entries(PROGRAMS))
        fs.writeFileSync(
          path.join(MODULE, file),
          `import { Tensor } from 'fmc';\nimport model, { forward } from './index.mjs';\n${IMAGES}\n${body}\nvoid model;\n`,
        );
      // index.d.mts as a .ts file, so that skipLibCheck does not skip checking the declarations themselves.
      fs.copyFileSync(path.join(MODULE, 'index.d.mts'), path.join(MODULE, 'index-check.mts'));
      const config = {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022'],
          types: [],
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          noEmit: true,
        },
        files: ['mlp/index-check.mts', ...Object.keys(PROGRAMS).map((f) => `mlp/${f}`)],
      };
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
      const r = tsc('-p', path.join(dir, 'tsconfig.json'));
      const errors = r.out.split('\n').filter((l) => /error TS\d+/.test(l));
      const of = (file: string) => errors.filter((l) => l.includes(`mlp/${file}(`));
      for (const [file, [, message]] of Object.entries(PROGRAMS)) {
        if (message === '') expect(of(file), r.out).toEqual([]);
        else {
          expect(of(file).length, `${file}:\n${r.out}`).toBeGreaterThan(0);
          expect(r.out).toContain(message);
        }
      }
      expect(of('index-check.mts')).toEqual([]);

      if (why) return;
      const main = path.join(MODULE, 'main.mjs');
      fs.writeFileSync(
        main,
        [
          "import { Tensor } from 'fmc';",
          "import { forward } from './index.mjs';",
          IMAGES,
          'const { logits } = await forward({ images });',
          'console.log(JSON.stringify([...logits.data]));',
          '',
        ].join('\n'),
      );
      const run = sh(process.execPath, [main]);
      expect(run.code, run.err).toBe(0);
      const images = new Tensor(
        'f32',
        new Float32Array(784).map((_, i) => (i % 7) / 7),
        [1, 784],
      );
      const want = (await load(MODULE).runAsync({ images })).logits!;
      expect(JSON.parse(run.out)).toEqual([...want.data]);
    },
  );
});
