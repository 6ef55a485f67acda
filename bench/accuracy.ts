// Accuracy of compressed models (docs/training.md, "Accuracy of compressed models"): the CNN
// on the MNIST digits and swa_lm, character-level on Moby Dick, each trained once in f32, then
// evaluated on the same held-out samples as bf16 (compute), int8 (per output channel), int4
// (groups of 128 where they divide), 2:4 and 50 % block-sparse, the sparse ones also after a
// short fine-tune from the f32 weights with the masks kept (and int4 after a short QAT
// fine-tune with --qat). Every variant reads the f32 checkpoint (quantized and pruned from it
// where its weights are bound); sizes count the bytes of the storage each stands for
// (accuracy-lib.ts, sizeOf). Writes bench/out/accuracy.json and prints the table as markdown.
//
//   node dist/bench/accuracy.js [--quick] [--models cnn,lm] [--qat] [--steps-cnn 300] [--steps-lm 600]
//                             [--finetune-cnn 100] [--finetune-lm 300] [--ft-lr-cnn 0.005] [--ft-lr-lm 1e-3]

import * as fs from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';
import type { TrainOverrides } from '../src/runtime/schedule.js';
import {
  type Score,
  type Subject,
  type Variant,
  compileVariant,
  evaluate,
  sizeOf,
  openSplit,
  train,
} from './accuracy-lib.js';
import { ROOT, flags, positive, writeJson } from './common.js';

interface Bench {
  readonly name: string;
  readonly file: string;
  readonly subject: Subject;
  readonly data: string;
  readonly context?: number;
  readonly valFraction: number;
  readonly batch: number;
  readonly train: (steps: number) => TrainOverrides;
  readonly finetune: (steps: number, lr: number) => TrainOverrides;
  readonly variants: readonly Variant[];
}

const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');
const each = (members: readonly string[], args: string): Record<string, string> =>
  Object.fromEntries(members.map((m) => [m, args]));

/** f32, bf16, int8, int4, and the sparse variants one-shot and fine-tuned. */
function variants(
  int4: string[],
  int4Name: string,
  s24: Record<string, string>,
  block: Record<string, string>,
  qat: boolean,
): Variant[] {
  return [
    { name: 'f32' },
    // The control: the f32 model trained as long again as the fine-tuned variants are.
    { name: 'f32, fine-tuned', finetune: true },
    { name: 'bf16', precision: 'bf16' },
    { name: 'int8', quantize: ['all=int8'] },
    { name: int4Name, quantize: int4 },
    ...(qat ? [{ name: `${int4Name}, QAT fine-tuned`, quantize: int4, qat: true, finetune: true }] : []),
    { name: '2:4', sparse: s24 },
    { name: '2:4, fine-tuned', sparse: s24, finetune: true },
    { name: 'block 50 %', sparse: block },
    { name: 'block 50 %, fine-tuned', sparse: block, finetune: true },
  ];
}

function benches(qat: boolean): Bench[] {
  const convs = ['stage1b', 'stage2a', 'stage2b', 'stage3'];
  const cnn: Bench = {
    name: 'cnn',
    file: 'models/cnn.fm',
    subject: { source: read('models/cnn.fm'), set: { channels: 1, size: 28, hidden: 128 }, seed: 0 },
    data: 'mnist',
    valFraction: 0.1,
    batch: 64,
    train: (steps) => ({ steps, batch: 64, lr: 0.05, schedule: 'cosine', warmup: 20, scheduleSteps: steps }),
    finetune: (steps, lr) => ({ steps, batch: 64, lr, schedule: 'cosine', warmup: 0, scheduleSteps: steps }),
    // stage1a (K = 9) is too small for 2:4 groups, int4 groups of 32 or 16×16 blocks: 288 weights.
    variants: variants(
      ['all=int4:32', 'fc1=int4:128', 'fc2=int4:128', 'stage1a=int4'],
      'int4 (fc g128, conv g32)',
      each([...convs, 'fc1', 'fc2'], '2:4'),
      { ...each(convs, 'block = 3, density = 0.5'), fc1: 'block = 16, density = 0.5' },
      qat,
    ),
  };
  const lm: Bench = {
    name: 'lm',
    file: 'models/swa_lm.fm',
    subject: {
      source: read('models/swa_lm.fm'),
      set: { vocab: 128, d: 128, layers: 2, heads: 4, kv_heads: 2, hidden: 256, window: 64 },
      seed: 0,
    },
    data: 'moby-dick',
    context: 64,
    valFraction: 0.05,
    batch: 32,
    train: (steps) => ({ steps, batch: 32, lr: 3e-3, warmup: 50, scheduleSteps: steps, minLr: 3e-4, accumulate: 1 }),
    finetune: (steps, lr) => ({ steps, batch: 32, lr, warmup: 0, scheduleSteps: steps, minLr: lr / 10, accumulate: 1 }),
    variants: variants(
      ['all=int4:128'],
      'int4 g128',
      each(['blocks', 'lm_head'], '2:4'),
      each(['blocks', 'lm_head'], 'block = 16, density = 0.5'),
      qat,
    ),
  };
  return [cnn, lm];
}

interface Row extends Score {
  readonly model: string;
  readonly variant: string;
  readonly bytes: number;
  readonly compressedShare: number;
  readonly seconds: number;
  /** Training steps of the f32 model, and of each fine-tune. */
  readonly steps: number;
  readonly finetune: number;
  readonly finetuneLr: number;
}

async function run(
  b: Bench,
  steps: number,
  ft: { steps: number; lr: number },
  valFraction: number,
  log: (s: string) => void,
): Promise<Row[]> {
  const { data, split } = openSplit(b.subject, b.data, b.batch, valFraction, b.context);
  const dir = path.join(ROOT, 'bench', 'out', 'accuracy', b.name);
  let t = performance.now();
  const f32 = b.variants[0]!;
  log(`${b.name}: training f32 for ${steps} steps on ${data.describe}`);
  const base = await train(b.subject, f32, undefined, split(), b.train(steps), path.join(dir, 'f32'));
  log(`${b.name}: trained in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  const rows: Row[] = [];
  for (const v of b.variants) {
    t = performance.now();
    const tag = v.name.replace(/[^a-z0-9]+/gi, '-');
    const weights = v.finetune
      ? await train(b.subject, v, base, split(), b.finetune(ft.steps, ft.lr), path.join(dir, tag))
      : base;
    const c = compileVariant(b.subject, v, weights);
    const score = evaluate(c, split());
    const size = sizeOf(c.lowered[0]!, c.weights, v);
    const seconds = (performance.now() - t) / 1000;
    const row = {
      model: b.name,
      variant: v.name,
      ...score,
      ...size,
      seconds,
      steps,
      finetune: ft.steps,
      finetuneLr: ft.lr,
    };
    log(
      `${b.name} ${v.name}: loss ${score.loss.toFixed(4)}, accuracy ${(100 * score.accuracy).toFixed(2)} %, ${size.bytes} B`,
    );
    c.model.dispose();
    rows.push(row);
  }
  return rows;
}

function markdown(rows: readonly Row[]): string {
  const head = '| model | variant | loss | accuracy | Δ points | bytes | × f32 | compressed |';
  const lines = [head, '| --- | --- | --: | --: | --: | --: | --: | --: |'];
  for (const r of rows) {
    const base = rows.find((x) => x.model === r.model && x.variant === 'f32')!;
    const delta = 100 * (r.accuracy - base.accuracy);
    lines.push(
      `| ${r.model} | ${r.variant} | ${r.loss.toFixed(4)} | ${(100 * r.accuracy).toFixed(2)} % | ` +
        `${r === base ? '' : delta.toFixed(2)} | ${r.bytes.toLocaleString('en-US')} | ` +
        `${(r.bytes / base.bytes).toFixed(3)} | ${(100 * r.compressedShare).toFixed(1)} % |`,
    );
  }
  return lines.join('\n');
}

/** The issue's goals: points of accuracy below f32 at most (int8 0.5, int4 1, 2:4 fine-tuned 1). */
function goals(rows: readonly Row[]): string[] {
  const out: string[] = [];
  const limits: [(variant: string) => boolean, number][] = [
    [(v) => v === 'int8', 0.5],
    [(v) => v.startsWith('int4') && !v.includes('fine-tuned'), 1],
    [(v) => v === '2:4, fine-tuned', 1],
  ];
  for (const model of new Set(rows.map((r) => r.model))) {
    const base = rows.find((r) => r.model === model && r.variant === 'f32')!;
    for (const [is, limit] of limits) {
      const r = rows.find((x) => x.model === model && is(x.variant));
      if (!r) continue;
      const drop = 100 * (base.accuracy - r.accuracy);
      out.push(
        `${model} ${r.variant}: ${drop.toFixed(2)} points below f32 (goal ≤ ${limit}): ${drop <= limit ? 'met' : 'NOT met'}`,
      );
    }
  }
  return out;
}

async function main(): Promise<void> {
  const f = flags({
    quick: 'false',
    models: 'cnn,lm',
    qat: 'false',
    'steps-cnn': '300',
    'steps-lm': '600',
    'finetune-cnn': '100',
    'finetune-lm': '300',
    'ft-lr-cnn': '0.005',
    'ft-lr-lm': '1e-3',
  });
  const quick = f.quick === 'true';
  const names = f.models!.split(',');
  const all = benches(f.qat === 'true').filter((b) => names.includes(b.name));
  // Rows of the models this run leaves out are kept from the last run's file.
  const out = path.join(ROOT, 'bench', 'out', 'accuracy.json');
  const before = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as { rows: Row[] }).rows : [];
  let rows = before.filter((r) => !names.includes(r.model));
  for (const b of all) {
    const steps = quick ? 4 : positive(`steps-${b.name}`, f[`steps-${b.name}`]!);
    const lr = Number(f[`ft-lr-${b.name}`]);
    if (!(lr > 0)) throw new Error(`--ft-lr-${b.name}: expected a positive number, found ${f[`ft-lr-${b.name}`]}`);
    const ft = { steps: quick ? 2 : positive(`finetune-${b.name}`, f[`finetune-${b.name}`]!), lr };
    const done = await run(b, steps, ft, quick ? b.valFraction / 10 : b.valFraction, (s) => console.error(s));
    rows = [...rows.filter((r) => r.model !== b.name), ...done];
    const file = writeJson('accuracy.json', {
      cpu: cpus()[0]?.model,
      date: new Date().toISOString(),
      rows,
      goals: goals(rows),
    });
    console.error(`wrote ${file}`);
  }
  console.log(markdown(rows));
  console.log();
  for (const g of goals(rows)) console.log(`- ${g}`);
}

await main();
