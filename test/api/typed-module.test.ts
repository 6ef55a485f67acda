// examples/typed-module end to end: `fmc compile` writes the mlp module into the example, tsc
// type-checks main.ts against its index.d.mts, rejects wrongly shaped or typed calls with
// errors that name the types, and the built example runs under node with the numbers load()
// gives in-process. A module compiled with --train exports a typed trainer() whose batches
// are the loss's inputs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { load, Tensor } from '../../src/index.js';
import { CACHE, ROOT, fmc, sh } from './helpers.js';

const EXAMPLE = path.join(ROOT, 'examples', 'typed-module');
const MODULE = path.join(EXAMPLE, 'mlp');
const tsc = (...args: string[]) =>
  sh(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ...args]);

/** Programs that must not type-check, each with (part of) the error tsc must give. */
const WRONG: Record<string, [string, string]> = {
  'wrong-shape.ts': [
    "forward({ images: new Tensor('f32', new Float32Array(783), [1, 783]) });",
    "Type 'readonly [1, 783]' is not assignable to type 'readonly [number, 784]'",
  ],
  'wrong-dtype.ts': [
    "forward({ images: new Tensor('i32', new Int32Array(784), [1, 784]) });",
    `Type '"i32"' is not assignable to type '"f32"'`,
  ],
  'wrong-name.ts': [
    "forward({ image: new Tensor('f32', new Float32Array(784), [1, 784]) });",
    "'image' does not exist",
  ],
  'wrong-output.ts': [
    "const n: 11 = forward({ images: new Tensor('f32', new Float32Array(784), [1, 784]) }).logits.dims[1];\nvoid n;",
    "Type '10' is not assignable to type '11'",
  ],
};

describe('examples/typed-module', () => {
  it('compiles the mlp into the example, type-checks it, and runs it', () => {
    const c = fmc('compile', 'models/mlp.fm', '--target', 'c', '-o', MODULE);
    expect(c.code, c.err).toBe(0);
    const ok = tsc('-p', EXAMPLE);
    expect(ok.out + ok.err).toBe('');
    expect(ok.code).toBe(0);

    // The wrong programs sit in the (git-ignored) module folder, checked by a config of their own.
    const temp = ['tsconfig.wrong.json', 'index-check.mts', ...Object.keys(WRONG)].map((f) => path.join(MODULE, f));
    try {
      for (const [file, [body]] of Object.entries(WRONG))
        fs.writeFileSync(
          path.join(MODULE, file),
          `import { Tensor } from 'fmc';\nimport { forward } from './index.mjs';\n${body}\n`,
        );
      // index.d.mts as a .ts file, so that skipLibCheck does not skip checking the declarations themselves.
      fs.copyFileSync(path.join(MODULE, 'index.d.mts'), path.join(MODULE, 'index-check.mts'));
      const config = {
        extends: '../tsconfig.json',
        compilerOptions: { noEmit: true },
        files: ['index-check.mts', ...Object.keys(WRONG)],
      };
      fs.writeFileSync(temp[0]!, JSON.stringify(config));
      const bad = tsc('-p', temp[0]!);
      expect(bad.code).not.toBe(0);
      const errors = bad.out.split('\n').filter((l) => /error TS\d+/.test(l));
      for (const [file, [, message]] of Object.entries(WRONG)) {
        expect(
          errors.some((l) => l.startsWith(`examples/typed-module/mlp/${file}(`)),
          `${file}:\n${bad.out}`,
        ).toBe(true);
        expect(bad.out).toContain(message);
      }
      expect(errors.filter((l) => l.includes('index-check.mts'))).toEqual([]);
    } finally {
      for (const f of temp) fs.rmSync(f, { force: true });
    }

    const run = sh(process.execPath, [path.join(EXAMPLE, 'main.js')]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const pixels = new Float32Array(784).map((_, i) => ((i * 37) % 256) / 255);
    const logits = load(MODULE, { cacheDir: CACHE }).run({ images: new Tensor('f32', pixels, [1, 784]) }).logits!;
    const first = [...logits.data.slice(0, 4)].map((v) => v.toFixed(4)).join(', ');
    expect(run.out).toBe(
      [
        'model MLP: functions forward, loss',
        'logits: f32[1, 10] (10 classes)',
        `first values: ${first}`,
        `predicted class: ${logits.data.indexOf(Math.max(...logits.data))}`,
        '',
      ].join('\n'),
    );
  });
});

/** Programs against the trainer of an mlp module compiled with --train: [body, error or '' for none]. */
const TRAINER: Record<string, [string, string]> = {
  'ok.ts': [
    [
      "import { type StepResult, type TrainCounters, Tensor } from 'fmc';",
      "import model, { forward, trainer } from './index.mjs';",
      "const images = new Tensor('f32', new Float32Array(2 * 784), [2, 784]);",
      "const batch = { images, labels: new Tensor('i32', new Int32Array(2), [2]) };",
      'const t = trainer({ seed: 1 });',
      'const r: StepResult = t.step(batch);',
      'const loss: number = t.evaluate(batch) + r.loss;',
      "const file: string = t.save('ckpt');",
      "t.load('ckpt');",
      'const counters: TrainCounters = t.counters;',
      'const untyped = model.trainer();',
      'untyped.step(batch);',
      'forward({ images });',
      'void [loss, file, counters];',
    ].join('\n'),
    '',
  ],
  'wrong-batch-shape.ts': [
    "trainer().step({ images: new Tensor('f32', new Float32Array(783), [1, 783]), labels: new Tensor('i32', new Int32Array(1), [1]) });",
    "Type 'readonly [1, 783]' is not assignable to type 'readonly [number, 784]'",
  ],
  'wrong-label-dtype.ts': [
    "trainer().evaluate({ images: new Tensor('f32', new Float32Array(784), [1, 784]), labels: new Tensor('i64', new BigInt64Array(1), [1]) });",
    `Type '"i64"' is not assignable to type '"i32"'`,
  ],
  'missing-labels.ts': [
    "trainer().step({ images: new Tensor('f32', new Float32Array(784), [1, 784]) });",
    'Property \'"labels"\' is missing',
  ],
  'wrong-result.ts': [
    "const s: string = trainer().evaluate({ images: new Tensor('f32', new Float32Array(784), [1, 784]), labels: new Tensor('i32', new Int32Array(1), [1]) });\nvoid s;",
    "Type 'number' is not assignable to type 'string'",
  ],
  'no-step-export.ts': [
    "import { loss_step } from './index.mjs';\nvoid loss_step;",
    "has no exported member 'loss_step'",
  ],
};

describe('the typed trainer of a module compiled with --train', () => {
  it('types step and evaluate with the loss inputs', () => {
    // Inside the package, so that `fmc` resolves to it (package.json "exports"); .scratch/ is git-ignored.
    const dir = path.join(ROOT, '.scratch', `typed-trainer-${process.pid}`);
    try {
      const c = fmc('compile', 'models/mlp.fm', '--train', '-o', path.join(dir, 'mlp'));
      expect(c.code, c.err).toBe(0);
      const files = Object.keys(TRAINER);
      for (const [file, [body]] of Object.entries(TRAINER)) {
        const head = file === 'ok.ts' ? '' : "import { Tensor } from 'fmc';\nimport { trainer } from './index.mjs';\n";
        fs.writeFileSync(path.join(dir, 'mlp', file), `${head}${body}\n`);
      }
      fs.copyFileSync(path.join(dir, 'mlp', 'index.d.mts'), path.join(dir, 'mlp', 'index-check.mts'));
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
        files: ['mlp/index-check.mts', ...files.map((f) => `mlp/${f}`)],
      };
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
      const r = tsc('-p', path.join(dir, 'tsconfig.json'));
      const errors = r.out.split('\n').filter((l) => /error TS\d+/.test(l));
      const of = (file: string) => errors.filter((l) => l.includes(`mlp/${file}(`));
      for (const [file, [, message]] of Object.entries(TRAINER)) {
        if (message === '') expect(of(file), r.out).toEqual([]);
        else {
          expect(of(file).length, `${file}:\n${r.out}`).toBeGreaterThan(0);
          expect(r.out).toContain(message);
        }
      }
      expect(of('index-check.mts')).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
