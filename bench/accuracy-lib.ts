// The pieces of bench/accuracy.ts: a compressed variant of a trained model (bf16 compute,
// int8/int4 weights, 2:4 or block sparsity written as `@sparse` annotations into the model's
// source), its evaluation on held-out data (mean loss and argmax accuracy), its fine-tuning
// from the f32 weights, and the bytes its weights take in the storage it stands for.

import * as fs from 'node:fs';
import { type CompiledModel, compileModel, lowerModel } from '../src/api/compile.js';
import { compileTrainer } from '../src/api/train.js';
import { Batches, checkFinite } from '../src/data/index.js';
import type { Lowered } from '../src/frontend/lower.js';
import { dtypeBytes } from '../src/ir/dtype.js';
import { paramHint } from '../src/ir/module.js';
import { quantizedBytes } from '../src/ir/quantize.js';
import { sparseHintOf } from '../src/ir/sparsity.js';
import type { HostTensor } from '../src/ir/value.js';
import type { QuantRule } from '../src/passes/pass.js';
import { quantSpecOf } from '../src/passes/quantize.js';
import type { TrainOverrides } from '../src/runtime/schedule.js';
import { type Tensor, fromHost } from '../src/runtime/tensor.js';
import { parseQuantize } from '../src/cli/quantize-rules.js';
import { type OpenedData, openData } from '../src/cli/train-data.js';
import { dimConstValue, dimToString } from '../src/ir/dims.js';
import type { NodeOf } from '../src/ir/graph.js';
import { indexRanges } from '../src/ir/init.js';

/** How a variant differs from the f32 model. */
export interface Variant {
  readonly name: string;
  /** Model-level compute precision (`--precision`). */
  readonly precision?: 'bf16';
  /** `--quantize` rules (`all=int8`); absent: `all=none`, every weight f32. */
  readonly quantize?: readonly string[];
  /** `@sparse(...)` annotations: member line of the model → the annotation's arguments (`2:4`). */
  readonly sparse?: Readonly<Record<string, string>>;
  /** Fine-tune from the f32 weights before evaluating (masks kept; with `qat`, through fake quantization). */
  readonly finetune?: boolean;
  readonly qat?: boolean;
}

/** A trained model and how to compile its variants. */
export interface Subject {
  /** The model file's source text. */
  readonly source: string;
  readonly set: Readonly<Record<string, number | boolean | string>>;
  readonly seed: number;
}

/** The model's source with `@sparse(args)` above each named member's line (`  fc1 = Linear(...)`). */
export function annotate(source: string, sparse: Readonly<Record<string, string>> = {}): string {
  let out = source;
  for (const [member, args] of Object.entries(sparse)) {
    const re = new RegExp(`^([ \\t]*)${member} = `, 'm');
    if (!re.test(out)) throw new Error(`no member line '${member} = ' in the model's source`);
    out = out.replace(re, (line, indent: string) => `${indent}@sparse(${args})\n${line}`);
  }
  return out;
}

export const rulesOf = (v: Variant): QuantRule[] => parseQuantize(v.quantize ?? ['all=none'])!;

/** The compile options of a variant (weights from `weights`, a safetensors file or checkpoint). */
function options(s: Subject, v: Variant, weights: string) {
  return {
    isPath: false,
    set: s.set,
    seed: s.seed,
    precision: v.precision ?? ('f32' as const),
    quantize: rulesOf(v),
    weights,
  };
}

/** The variant compiled for inference (`loss` and `forward`) on the weights of `weights`. */
export function compileVariant(s: Subject, v: Variant, weights: string): CompiledModel {
  return compileModel(annotate(s.source, v.sparse), { ...options(s, v, weights), fns: ['forward', 'loss'] });
}

export const tensors = (m: ReadonlyMap<string, HostTensor>): Record<string, Tensor> =>
  Object.fromEntries([...m].map(([k, t]) => [k, fromHost(t)]));

export interface Score {
  /** Mean loss over the held-out samples (the model's `loss`, weighted by batch size). */
  readonly loss: number;
  /** Argmax of forward's logits against the labels (positions labelled below 0 left out). */
  readonly accuracy: number;
}

/** Mean held-out loss and accuracy of a compiled variant (labels: the integer input forward does not take). */
export function evaluate(c: CompiledModel, batches: Batches): Score {
  const model = c.model;
  const fwdInputs = model.inputs('forward').map((i) => i.name);
  let loss = 0;
  let count = 0;
  let right = 0;
  let labelled = 0;
  for (const b of batches.validationBatches()) {
    checkFinite('validation', b.tensors, b.indices);
    const t = tensors(b.tensors);
    loss += Number(Object.values(model.run('loss', t))[0]!.data[0]) * b.indices.length;
    count += b.indices.length;
    const logits = Object.values(model.run('forward', Object.fromEntries(fwdInputs.map((n) => [n, t[n]!]))))[0]!;
    const labels = Object.entries(t).find(([k]) => !fwdInputs.includes(k))![1];
    const classes = logits.dims.at(-1)!;
    const z = logits.data as Float32Array;
    for (let i = 0; i < labels.size; i++) {
      const y = Number(labels.data[i]!);
      if (y < 0) continue;
      let best = 0;
      for (let k = 1; k < classes; k++) if (z[i * classes + k]! > z[i * classes + best]!) best = k;
      labelled++;
      if (best === y) right++;
    }
  }
  return { loss: loss / count, accuracy: right / labelled };
}

/**
 * Trains `steps` updates from `weights` (a file; undefined: seeded) with the variant's
 * compression in the step (masks kept, QAT) and returns the checkpoint written into `dir`.
 */
export async function train(
  s: Subject,
  v: Variant,
  weights: string | undefined,
  batches: Batches,
  overrides: TrainOverrides,
  dir: string,
): Promise<string> {
  const { weights: _, ...rest } = options(s, v, weights ?? '');
  const { trainer } = compileTrainer(annotate(s.source, v.sparse), {
    ...rest,
    ...(weights ? { weights } : {}),
    ...(v.qat ? { qat: true } : {}),
    train: overrides,
  });
  while (trainer.counters.updates < overrides.steps!) {
    let r;
    do {
      const b = batches.next();
      checkFinite('training', b.tensors, b.indices);
      r = await trainer.stepAsync(tensors(b.tensors));
    } while (!r.applied);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return trainer.save(dir, { keep: 1 });
}

/** Bytes of each kind of storage, summed over the model's params and buffers. */
export interface Size {
  readonly bytes: number;
  /** Values stored compressed (quantized or sparse) / all values. */
  readonly compressedShare: number;
}

/**
 * The bytes the weights of `l` (with `weights`' shapes) take under variant `v`: a value of its
 * own dtype (f32: 4 B), bf16 2 B for float params of rank ≥ 2, quantized params as their q
 * bytes plus f32 scales (quantizedBytes), 2:4 (n:m) as the kept values plus log2(m) bits of
 * index each, block-sparse as the kept b×b blocks plus an i32 column index per kept block
 * and an i32 row pointer per block row (+1), per matrix (BSR).
 */
export function sizeOf(
  l: Pick<Lowered, 'params' | 'hints'>,
  weights: ReadonlyMap<string, HostTensor>,
  v: Variant,
): Size {
  const rules = rulesOf(v);
  let bytes = 0;
  let total = 0;
  let compressed = 0;
  for (const p of l.params) {
    const shape = weights.get(p.path)!.shape;
    const count = shape.reduce((a, d) => a * d, 1);
    total += count;
    const spec = quantSpecOf(p, rules, paramHint(l.hints, p, 'quantize'));
    const sparse = sparseHintOf(l.hints, p);
    const big = p.role === 'param' && shape.length >= 2 && (p.dtype === 'f32' || p.dtype === 'bf16');
    if (spec) {
      bytes += quantizedBytes(shape[0]!, count / shape[0]!, spec);
      compressed += count;
    } else if (sparse?.kind === 'n:m') {
      const kept = (count * sparse.n) / sparse.m;
      bytes += dtypeBytes(p.dtype, kept) + (kept * Math.ceil(Math.log2(sparse.m))) / 8;
      compressed += count;
    } else if (sparse) {
      const blocks = count / sparse.block ** 2;
      const kept = Math.min(blocks, Math.max(1, Math.round(sparse.density * blocks)));
      // The block table fmc holds for inference (src/ir/sparse-table.ts): the kept blocks' values
      // and an i32 slot per block.
      bytes += dtypeBytes(p.dtype, kept * sparse.block ** 2) + 4 * blocks;
      compressed += count;
    } else if (v.precision === 'bf16' && big) {
      bytes += 2 * count;
      compressed += count;
    } else bytes += dtypeBytes(p.dtype, count);
  }
  return { bytes, compressedShare: compressed / total };
}

/**
 * The data `spec` (`mnist`, `moby-dick`, ...) opened for the model's loss as `fmc train` opens
 * it, and a fresh split of it (the held-out samples of `fmc train` with this seed and fraction).
 */
export function openSplit(
  s: Subject,
  spec: string,
  batch: number,
  valFraction: number,
  context?: number,
): { data: OpenedData; split: () => Batches } {
  const l = lowerModel(s.source, { isPath: false, set: s.set, fns: ['loss'] })[0]!;
  const nodes = l.graph.inputs as NodeOf<'input'>[];
  const inputs = nodes.map((n) => ({
    name: n.args.name,
    dtype: n.args.dtype,
    shape: n.args.shape.map((d) => dimConstValue(d) ?? dimToString(d)),
  }));
  const data = openData(spec, inputs, indexRanges(l.graph), { batch, ...(context ? { context } : {}) });
  const split = () =>
    new Batches(data.dataset, { batchSize: batch, seed: s.seed, validation: { fraction: valFraction } });
  return { data, split };
}
