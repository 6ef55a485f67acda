// The model's intent reaching the IR (src/frontend/intent.ts): the hints of its annotations
// by param and block path and its train section with the defaults filled in, for every seed
// model and for small inline models; and their canonical text (src/ir/print-hints.ts).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { type Lowered, lowerFile } from '../../src/frontend/lower.js';
import { type Hint, hintAt, paramHint, type TrainConfig } from '../../src/ir/module.js';
import { parseGraph } from '../../src/ir/parse.js';
import { printGraph } from '../../src/ir/print.js';
import { printHints } from '../../src/ir/print-hints.js';

const MODELS = path.resolve(__dirname, '../../models');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-intent-'));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

function lowerPath(file: string): Lowered {
  const r = lowerFile(file, { fn: 'forward' });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => renderDiagnostic(d, (f) => r.program.source(f))).join('\n\n'));
  return r.lowered;
}
let sources = 0;
const lowerSrc = (src: string): Lowered => {
  const file = path.join(TMP, `m${sources++}.fm`);
  fs.writeFileSync(file, src);
  return lowerPath(file);
};

const sorted = (m: ReadonlyMap<string, Hint>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
const blocks = (l: Lowered) => sorted(l.hints.blocks);
const params = (l: Lowered) => sorted(l.hints.params);
/** `{ "<prefix>.0<suffix>": h, ... }` for n instances. */
const each = (n: number, prefix: string, suffix: string, h: Hint) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}.${i}${suffix}`, h]));

describe('seed models', () => {
  const model = (name: string) => lowerPath(path.join(MODELS, name));

  it('swa_lm: checkpointed layers, int4 FFNs, an f32 head, adamw', () => {
    const l = model('swa_lm.fm');
    expect(blocks(l)).toEqual({
      blocks: { checkpoint: true },
      ...each(8, 'blocks', '.ffn', { quantize: { dtype: 'int4', group: 128, symmetric: true } }),
      lm_head: { precision: 'f32' },
    });
    expect(params(l)).toEqual({});
    expect(l.train).toEqual<TrainConfig>({
      optimizer: { kind: 'adamw', lr: 3e-4, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1 },
      schedule: { kind: 'cosine', warmup: 2000, steps: 100000, minLr: 3e-5 },
      loss: 'loss',
      precision: 'bf16',
      lossScale: 'none',
      accumulate: 4,
      clip: 1,
      batch: 64,
      steps: 100000,
    });
    // The block hints reach the params under them, quantize only those of rank >= 2.
    const p = (q: string) => l.params.find((x) => x.path === q)!;
    expect(paramHint(l.hints, p('blocks.3.ffn.gate.w'), 'quantize')).toEqual({
      dtype: 'int4',
      group: 128,
      symmetric: true,
    });
    expect(paramHint(l.hints, p('blocks.3.attn_norm.gamma'), 'quantize')).toBeUndefined();
    expect(paramHint(l.hints, p('lm_head.w'), 'precision')).toBe('f32');
    expect(hintAt(l.hints, 'blocks.5.attn', 'checkpoint')).toBe(true);
    expect(hintAt(l.hints, 'norm', 'checkpoint')).toBeUndefined();
  });

  it('swa_lm: printed hints', () => {
    const l = model('swa_lm.fm');
    const q = 'quantize(int4, group = 128, symmetric)';
    expect(printHints(l)).toBe(
      [
        '// hint block "blocks" checkpoint',
        ...Array.from({ length: 8 }, (_, i) => `// hint block "blocks.${i}.ffn" ${q}`),
        '// hint block "lm_head" precision(f32)',
        '// train optimizer = adamw(lr = 0.0003, betas = (0.9, 0.95), eps = 1e-8, weight_decay = 0.1), ' +
          'schedule = cosine(warmup = 2000, steps = 100000, min_lr = 0.00003), loss = loss, precision = bf16, ' +
          'loss_scale = none, accumulate = 4, clip = 1, batch = 64, steps = 100000',
        '',
      ].join('\n'),
    );
    // A dump with the hints above the graph still parses.
    const g = printGraph(l.graph);
    expect(printGraph(parseGraph(printHints(l) + g))).toBe(g);
  });

  it('moe_lm: a bf16 model, checkpointed layers, an f32 router in each layer (std/moe)', () => {
    const l = model('moe_lm.fm');
    expect(blocks(l)).toEqual({
      '': { precision: 'bf16' },
      blocks: { checkpoint: true },
      ...each(8, 'blocks', '.moe.router', { precision: 'f32' }),
    });
    expect(params(l)).toEqual({});
    expect(hintAt(l.hints, 'blocks.2.moe.router.gate', 'precision')).toBe('f32');
    expect(hintAt(l.hints, 'blocks.2.moe.expert.1', 'precision')).toBe('bf16');
    expect(l.train).toEqual<TrainConfig>({
      optimizer: { kind: 'adamw', lr: 3e-4, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1 },
      schedule: { kind: 'cosine', warmup: 2000, steps: 100000, minLr: 3e-5 },
      loss: 'loss',
      precision: 'bf16',
      lossScale: 'none',
      accumulate: 2,
      clip: 1,
      batch: 64,
      steps: 100000,
    });
  });

  it('bert: checkpointed encoder, block-sparse FFNs, adamw without a loss scale', () => {
    const l = model('bert.fm');
    expect(blocks(l)).toEqual({
      encoder: { checkpoint: true },
      ...each(4, 'encoder', '.mlp', { sparse: { kind: 'block', block: 32, density: 0.25 } }),
    });
    expect(params(l)).toEqual({});
    expect(l.train).toEqual<TrainConfig>({
      optimizer: { kind: 'adamw', lr: 1e-4, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0.01 },
      schedule: { kind: 'linear', warmup: 10000, steps: 1000000 },
      loss: 'loss',
      precision: 'bf16',
      lossScale: 'none',
      accumulate: 1,
      clip: 1,
      batch: 256,
      steps: 1000000,
    });
  });

  it('cnn: an int8 classifier layer, sgd with nesterov', () => {
    const l = model('cnn.fm');
    expect(blocks(l)).toEqual({ fc1: { quantize: { dtype: 'int8', group: 128, symmetric: true } } });
    expect(params(l)).toEqual({});
    expect(l.train).toEqual<TrainConfig>({
      optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
      schedule: { kind: 'cosine', warmup: 500, steps: 39000, minLr: 0 },
      loss: 'loss',
      precision: 'f32',
      lossScale: 'none',
      accumulate: 1,
      clip: 5,
      batch: 128,
      steps: 39000,
    });
  });

  it('conformer: checkpointed blocks, adam in f16 with a dynamic loss scale', () => {
    const l = model('conformer.fm');
    expect(blocks(l)).toEqual({ blocks: { checkpoint: true } });
    expect(params(l)).toEqual({});
    expect(l.train).toEqual<TrainConfig>({
      optimizer: { kind: 'adam', lr: 1e-3, betas: [0.9, 0.98], eps: 1e-9, weightDecay: 1e-6 },
      schedule: { kind: 'cosine', warmup: 10000, steps: 150000, minLr: 1e-5 },
      loss: 'loss',
      precision: 'f16',
      lossScale: 'dynamic',
      accumulate: 4,
      clip: 5,
      batch: 32,
      steps: 150000,
    });
  });

  it('hybrid_vit: checkpointed encoder, 2:4 sparse MLPs, adamw with the default eps', () => {
    const l = model('hybrid_vit.fm');
    expect(blocks(l)).toEqual({
      encoder: { checkpoint: true },
      ...each(8, 'encoder', '.mlp', { sparse: { kind: 'n:m', n: 2, m: 4 } }),
    });
    expect(params(l)).toEqual({});
    expect(l.train).toEqual<TrainConfig>({
      optimizer: { kind: 'adamw', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05 },
      schedule: { kind: 'cosine', warmup: 10000, steps: 300000, minLr: 1e-5 },
      loss: 'loss',
      precision: 'bf16',
      lossScale: 'none',
      accumulate: 4,
      clip: 1,
      batch: 1024,
      steps: 300000,
    });
  });

  it('mlp: an int8 first layer (whole rows), a 2:4 second layer, a step schedule', () => {
    const l = model('mlp.fm');
    expect(blocks(l)).toEqual({
      fc1: { quantize: { dtype: 'int8', symmetric: true } },
      fc2: { sparse: { kind: 'n:m', n: 2, m: 4 } },
    });
    expect(params(l)).toEqual({});
    expect(l.train).toEqual<TrainConfig>({
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
      schedule: { kind: 'step', every: 3000, gamma: 0.1 },
      loss: 'loss',
      precision: 'f32',
      lossScale: 'none',
      accumulate: 1,
      batch: 128,
      steps: 9000,
    });
    const p = (q: string) => l.params.find((x) => x.path === q)!;
    expect(paramHint(l.hints, p('fc2.w'), 'sparse')).toEqual({ kind: 'n:m', n: 2, m: 4 });
    expect(paramHint(l.hints, p('fc2.b'), 'sparse')).toBeUndefined();
    expect(paramHint(l.hints, p('fc3.w'), 'sparse')).toBeUndefined();
  });

  it('covers every seed model', () => {
    const covered = ['bert', 'cnn', 'conformer', 'hybrid_vit', 'mlp', 'moe_lm', 'swa_lm'];
    expect(
      fs
        .readdirSync(MODELS)
        .filter((f) => f.endsWith('.fm'))
        .sort(),
    ).toEqual(covered.map((c) => `${c}.fm`));
  });
});

const LAYER = `
block Layer(d: int) {
  param w: f32[d, d]
  param b: f32[d] = zeros()
  fn forward(x: f32[B, d]) -> f32[B, d] { return x @ w + b }
}
`;

describe('hints of inline models', () => {
  it('an annotation on a block declaration applies at each of its instance paths', () => {
    const l = lowerSrc(`
@checkpoint
@precision(f16)
block Layer(d: int) {
  param w: f32[d, d]
  fn forward(x: f32[B, d]) -> f32[B, d] { return x @ w }
}
model M(d = 8) {
  a = Layer(d)
  b = Layer(d)
  layers = repeat 2 Layer(d)
  fn forward(x: f32[B, d]) -> f32[B, d] { return layers(b(a(x))) }
}`);
    const h = { checkpoint: true, precision: 'f16' };
    expect(blocks(l)).toEqual({ a: h, b: h, 'layers.0': h, 'layers.1': h });
    expect(params(l)).toEqual({});
  });

  it('annotations on params, both sparse forms, inside repeated layers', () => {
    const l = lowerSrc(`
block Layer(d: int, g: int) {
  @quantize(int4, group = g)
  param w: f32[d, d]
  @sparse(2:4)
  param u: f32[d, d]
  @sparse(block = 4, density = 0.5)
  param v: f32[d, d]
  fn forward(x: f32[B, d]) -> f32[B, d] { return x @ w @ u @ v }
}
model M(d = 8) {
  layers = repeat 2 Layer(d, 4)
  fn forward(x: f32[B, d]) -> f32[B, d] { return layers(x) }
}`);
    expect(blocks(l)).toEqual({});
    expect(params(l)).toEqual({
      ...each(2, 'layers', '.u', { sparse: { kind: 'n:m', n: 2, m: 4 } }),
      ...each(2, 'layers', '.v', { sparse: { kind: 'block', block: 4, density: 0.5 } }),
      ...each(2, 'layers', '.w', { quantize: { dtype: 'int4', group: 4, symmetric: true } }),
    });
    expect(printHints({ hints: l.hints })).toBe(
      [0, 1]
        .flatMap((i) => [
          `// hint param "layers.${i}.u" sparse(2:4)`,
          `// hint param "layers.${i}.v" sparse(block = 4, density = 0.5)`,
          `// hint param "layers.${i}.w" quantize(int4, group = 4, symmetric)`,
        ])
        .map((s) => `${s}\n`)
        .join(''),
    );
  });

  it('an annotation on a stack child is recorded at the path enclosing its instances', () => {
    const l = lowerSrc(`${LAYER}
model M(d = 8) {
  @sparse(block = 4, density = 0.25)
  experts = stack 2 Layer(d)
  fn forward(x: f32[2, B, d]) -> f32[2, B, d] { return experts(x) }
}`);
    const s = { kind: 'block', block: 4, density: 0.25 } as const;
    expect(blocks(l)).toEqual({ experts: { sparse: s } });
    expect(hintAt(l.hints, 'experts.1', 'sparse')).toEqual(s);
    const p = (q: string) => l.params.find((x) => x.path === q)!;
    expect(paramHint(l.hints, p('experts.0.w'), 'sparse')).toEqual(s);
    expect(paramHint(l.hints, p('experts.0.b'), 'sparse')).toBeUndefined();
  });

  it('`scheme = asym` makes an asymmetric hint, `sym` (the default) a symmetric one', () => {
    const l = lowerSrc(`
model M(d = 8) {
  @quantize(int4, group = 4, scheme = asym)
  param a: f32[d, d]
  @quantize(int8, scheme = sym)
  param s: f32[d, d]
  fn forward(x: f32[B, d]) -> f32[B, d] { return x @ a @ s }
}`);
    expect(params(l)).toEqual({
      a: { quantize: { dtype: 'int4', group: 4, symmetric: false } },
      s: { quantize: { dtype: 'int8', symmetric: true } },
    });
  });

  it('hintAt resolves the param, then the innermost enclosing block; the use site wins', () => {
    const l = lowerSrc(`
@quantize(int8)
block Inner(d: int) {
  @quantize(int4)
  param w: f32[d, d]
  param v: f32[d, d]
  fn forward(x: f32[B, d]) -> f32[B, d] { return x @ w @ v }
}
block Outer(d: int) {
  inner = Inner(d)
  @quantize(int4, group = 4)
  other = Inner(d)
  @precision(f32)
  fn forward(x: f32[B, d]) -> f32[B, d] { return other(inner(x)) }
}
@precision(bf16)
model M(d = 8) {
  outer = Outer(d)
  @precision(f16)
  @checkpoint
  layers = repeat 2 Outer(d)
  fn forward(x: f32[B, d]) -> f32[B, d] { return layers(outer(x)) }
}`);
    const int8 = { dtype: 'int8', symmetric: true } as const;
    const int4 = { dtype: 'int4', symmetric: true } as const;
    const int4g = { dtype: 'int4', group: 4, symmetric: true } as const;
    expect(blocks(l)).toEqual({
      '': { precision: 'bf16' },
      outer: { precision: 'f32' }, // from Outer's `@precision(f32) fn forward`
      'outer.inner': { quantize: int8 },
      'outer.other': { quantize: int4g }, // the child's annotation hides Inner's
      layers: { precision: 'f16', checkpoint: true }, // and hides the fn's at layers.0, layers.1
      ...each(2, 'layers', '.inner', { quantize: int8 }),
      ...each(2, 'layers', '.other', { quantize: int4g }),
    });
    expect(params(l)).toEqual({
      'outer.inner.w': { quantize: int4 },
      'outer.other.w': { quantize: int4 },
      ...each(2, 'layers', '.inner.w', { quantize: int4 }),
      ...each(2, 'layers', '.other.w', { quantize: int4 }),
    });
    const H = l.hints;
    expect(hintAt(H, 'outer.other', 'quantize', 'outer.other.w')).toEqual(int4);
    expect(hintAt(H, 'outer.other', 'quantize', 'outer.other.v')).toEqual(int4g);
    expect(hintAt(H, 'outer.inner', 'precision')).toBe('f32');
    expect(hintAt(H, 'layers.1.inner', 'precision')).toBe('f16');
    expect(hintAt(H, 'layers.1.inner', 'checkpoint')).toBe(true);
    expect(hintAt(H, 'outer', 'checkpoint')).toBeUndefined();
    expect(hintAt(H, '', 'precision')).toBe('bf16');
  });

  it('a model without annotations or a train section has no hints and prints nothing', () => {
    const l = lowerSrc(`${LAYER}
model M(d = 8) {
  l = Layer(d)
  fn forward(x: f32[B, d]) -> f32[B, d] { return l(x) }
}`);
    expect(l.hints.blocks.size + l.hints.params.size).toBe(0);
    expect(l.train).toBeUndefined();
    expect(printHints(l)).toBe('');
  });
});

describe('train sections', () => {
  const train = (section: string, hparams = 'd = 8'): TrainConfig => {
    const l = lowerSrc(`${LAYER}
model M(${hparams}) {
  l = Layer(d)
  fn forward(x: f32[B, d]) -> f32[B, d] { return l(x) }
  fn loss(x: f32[B, d]) -> f32[] { return sum(forward(x)) }
  fn other_loss(x: f32[B, d]) -> f32[] { return sum(forward(x) * forward(x)) }
  train { ${section} }
}`);
    return l.train!;
  };
  const defaults = { schedule: { kind: 'constant' }, loss: 'loss', precision: 'f32', lossScale: 'none', accumulate: 1 };

  it('fills the defaults of the docs (adam, adamw, sgd) and of PyTorch', () => {
    expect(train('optimizer = adam(1e-3)')).toEqual({
      optimizer: { kind: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
      ...defaults,
    });
    expect(train('optimizer = adamw(lr = 2)').optimizer).toEqual({
      kind: 'adamw',
      lr: 2,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
    });
    expect(train('optimizer = sgd(lr = 0.1)')).toEqual({
      optimizer: { kind: 'sgd', lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0 },
      ...defaults,
    });
  });

  it('fills the schedule defaults', () => {
    const s = (x: string) => train(`optimizer = sgd(0.1)\nschedule = ${x}`).schedule;
    expect(s('constant()')).toEqual({ kind: 'constant' });
    expect(s('linear(steps = 100)')).toEqual({ kind: 'linear', warmup: 0, steps: 100 });
    expect(s('cosine(steps = 10)')).toEqual({ kind: 'cosine', warmup: 0, steps: 10, minLr: 0 });
    expect(s('step(every = 5)')).toEqual({ kind: 'step', every: 5, gamma: 0.1 });
  });

  it('reads gradual pruning (every: ten mask updates by default)', () => {
    const p = (x: string) => train(`optimizer = sgd(0.1)\nprune = ${x}`).prune;
    expect(p('gradual(start = 100, end = 1000, every = 50)')).toEqual({ start: 100, end: 1000, every: 50 });
    expect(p('gradual(end = 25)')).toEqual({ start: 0, end: 25, every: 3 });
    expect(train('optimizer = sgd(0.1)').prune).toBeUndefined();
  });

  it('reads every key, with values from hyperparameters', () => {
    const t = train(
      `loss = other_loss
       optimizer = adamw(lr = rate, betas = (0.8, 0.9), eps = 1e-6, weight_decay = 0)
       schedule = linear(warmup = 10, steps = n)
       precision = p
       loss_scale = 1024
       accumulate = 8
       clip = 0.5
       batch = 16
       steps = n`,
      'd = 8, rate = 0.001, n = 500, p: dtype = f16',
    );
    expect(t).toEqual<TrainConfig>({
      optimizer: { kind: 'adamw', lr: 0.001, betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0 },
      schedule: { kind: 'linear', warmup: 10, steps: 500 },
      loss: 'other_loss',
      precision: 'f16',
      lossScale: 1024,
      accumulate: 8,
      clip: 0.5,
      batch: 16,
      steps: 500,
    });
    expect(printHints({ hints: { params: new Map(), blocks: new Map() }, train: t })).toBe(
      '// train optimizer = adamw(lr = 0.001, betas = (0.8, 0.9), eps = 0.000001, weight_decay = 0), ' +
        'schedule = linear(warmup = 10, steps = 500), loss = other_loss, precision = f16, loss_scale = 1024, ' +
        'accumulate = 8, clip = 0.5, batch = 16, steps = 500\n',
    );
  });

  it('prints the defaults', () => {
    expect(printHints({ hints: { params: new Map(), blocks: new Map() }, train: train('optimizer = sgd(0.1)') })).toBe(
      '// train optimizer = sgd(lr = 0.1, momentum = 0, nesterov = false, weight_decay = 0), schedule = constant(), ' +
        'loss = loss, precision = f32, loss_scale = none, accumulate = 1\n',
    );
  });
});
