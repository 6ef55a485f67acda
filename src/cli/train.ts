// `fmc train FILE`: trains a model on the C, (`--target wgsl`) the WGSL or (`--target cuda`)
// the CUDA target. The model's loss and `train` section (overridable from the command line)
// become one compiled train step (compileTrainer); the data (`--data`) is split into training
// and validation samples, shuffled per epoch from the seed, and fed in micro-batches. Every
// step is reported (a progress line, or JSON lines),
// logged to `--out`/metrics.jsonl, evaluated every `--eval-every` steps, checkpointed every
// `--checkpoint-every` steps and at the end (atomically; `--resume` continues bit-exactly),
// and the loss curve is drawn to loss.svg and loss.html.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CompiledTrainer, compileTrainer } from '../api/train.js';
import { type Batches as BatchesT, Batches, DataError, checkFinite, decodeTokens } from '../data/index.js';
import type { ModelInput } from '../data/index.js';
import { dimConstValue, dimToString } from '../ir/dims.js';
import { indexRanges } from '../ir/init.js';
import { MAX_ACCUMULATE, MAX_LOSS_SCALE } from '../ir/module.js';
import type { HostTensor } from '../ir/value.js';
import type { PlanTensor } from '../kernels/plan.js';
import { CheckpointError, isObject } from '../runtime/checkpoint.js';
import { kindOf } from '../frontend/regular-file.js';
import type { TrainOverrides } from '../runtime/schedule.js';
import { Tensor, fromHost } from '../runtime/tensor.js';
import type { StepExecutable, Trainer } from '../runtime/trainer.js';
import { EXIT, type Io } from './io.js';
import { CliError, parsePrecision, parseSeed, parseSet, parseSparsityOption, parseThreads } from './model.js';
import { parseQuantize, warnUnusedQuantize } from './quantize-rules.js';
import { type OpenedData, openData, printDataNotes } from './train-data.js';
import { type EvalRecord, MetricsLog, Progress, duration } from './train-report.js';
import { sampleText } from './train-sample.js';
import { parsePruneGradual, pruneSummary } from './train-prune.js';
import { type DistillCliOptions, checkSameDistill, distillOf, distillRecord } from './train-distill.js';

export interface TrainCliOptions extends DistillCliOptions {
  readonly data?: string;
  readonly steps?: string;
  readonly batch?: string;
  readonly evalEvery?: string;
  readonly checkpointEvery?: string;
  readonly keep?: string;
  readonly out?: string;
  readonly resume?: string;
  readonly seed?: string;
  readonly set?: readonly string[];
  /** `--precision f32|f16|bf16`. */
  readonly precision?: string;
  /** `--quantize PATH=SPEC` (repeatable) and `--qat`: quantization-aware training. */
  readonly quantize?: readonly string[];
  readonly qat?: boolean;
  /** `--sparsity 2:4 | block=b,density=p | density=p`. */
  readonly sparsity?: string;
  readonly model?: string;
  readonly weights?: string;
  readonly context?: string;
  readonly vocab?: string;
  readonly label?: string;
  readonly valFraction?: string;
  readonly threads?: string;
  readonly sample?: string;
  readonly json?: boolean;
  readonly target?: string;
  // train section overrides
  readonly optimizer?: string;
  readonly lr?: string;
  readonly momentum?: string;
  readonly nesterov?: boolean;
  readonly betas?: string;
  readonly eps?: string;
  readonly weightDecay?: string;
  readonly schedule?: string;
  readonly warmup?: string;
  readonly minLr?: string;
  readonly scheduleSteps?: string;
  readonly clip?: string;
  readonly accumulate?: string;
  readonly lossScale?: string;
  readonly scaleInterval?: string;
  /** `--prune-gradual START:END[:EVERY]`. */
  readonly pruneGradual?: string;
}

/** A number option: finite, and an integer at least `min` when `int`. */
function num(name: string, text: string | undefined, int: boolean, min = 0, max?: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (int && !Number.isSafeInteger(v)) || v < min || v > (max ?? v)) {
    const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new CliError(`--${name} must be ${int ? 'an integer' : 'a number'} ${range}, got '${text}'`, EXIT.usage);
  }
  return v;
}

function overrides(o: TrainCliOptions): TrainOverrides {
  const kinds = ['sgd', 'adam', 'adamw'];
  if (o.optimizer !== undefined && !kinds.includes(o.optimizer))
    throw new CliError(`--optimizer must be one of ${kinds.join(', ')}, got '${o.optimizer}'`, EXIT.usage);
  const schedules = ['constant', 'linear', 'cosine', 'step'];
  if (o.schedule !== undefined && !schedules.includes(o.schedule))
    throw new CliError(`--schedule must be one of ${schedules.join(', ')}, got '${o.schedule}'`, EXIT.usage);
  let betas: [number, number] | undefined;
  if (o.betas !== undefined) {
    const parts = o.betas.split(',').map((s) => Number(s));
    if (parts.length !== 2 || parts.some((b) => !Number.isFinite(b)))
      throw new CliError(`--betas must be two numbers (0.9,0.999), got '${o.betas}'`, EXIT.usage);
    betas = [parts[0]!, parts[1]!];
  }
  const entries: [keyof TrainOverrides, unknown][] = [
    ['optimizer', o.optimizer],
    ['lr', num('lr', o.lr, false)],
    ['momentum', num('momentum', o.momentum, false)],
    ['nesterov', o.nesterov],
    ['betas', betas],
    ['eps', num('eps', o.eps, false)],
    ['weightDecay', num('weight-decay', o.weightDecay, false)],
    ['schedule', o.schedule],
    ['warmup', num('warmup', o.warmup, true)],
    ['minLr', num('min-lr', o.minLr, false)],
    ['scheduleSteps', num('schedule-steps', o.scheduleSteps, true, 1)],
    ['clip', num('clip', o.clip, false)],
    ['accumulate', num('accumulate', o.accumulate, true, 1, MAX_ACCUMULATE)],
    ['lossScale', lossScaleOf(o.lossScale)],
    ['scaleInterval', num('scale-interval', o.scaleInterval, true, 1)],
    ['batch', num('batch', o.batch, true, 1)],
    ['steps', num('steps', o.steps, true, 1)],
    ['prune', parsePruneGradual(o.pruneGradual)],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as TrainOverrides;
}

/** `--loss-scale none|dynamic|<x>`. */
function lossScaleOf(text: string | undefined): TrainOverrides['lossScale'] {
  if (text === undefined || text === 'none' || text === 'dynamic') return text;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v <= 0 || v > MAX_LOSS_SCALE)
    throw new CliError(
      `--loss-scale must be none, dynamic or a positive number ≤ ${MAX_LOSS_SCALE} (the largest f32), got '${text}'`,
      EXIT.usage,
    );
  return v;
}

/** The loss function's inputs as the data layer describes them. */
function modelInputs(inputs: readonly PlanTensor[]): ModelInput[] {
  return inputs.map((i) => ({
    name: i.name,
    dtype: i.dtype,
    shape: i.shape.map((d) => dimConstValue(d) ?? dimToString(d)),
  }));
}

const tensors = (m: ReadonlyMap<string, HostTensor>): Record<string, Tensor> =>
  Object.fromEntries([...m].map(([k, t]) => [k, fromHost(t)]));

export async function trainCommand(io: Io, file: string, o: TrainCliOptions): Promise<number> {
  if (!o.data) throw new CliError('fmc train needs --data (mnist, iris, moby-dick, or a dataset file)', EXIT.usage);
  const seed = parseSeed(o.seed);
  if (seed < 0 || seed >= 2 ** 31) throw new CliError(`--seed must be in [0, 2^31), got ${seed}`, EXIT.usage);
  const set = parseSet(o.set);
  const out = o.out ?? (o.resume ? resumeRoot(o.resume) : undefined);
  if (!out) throw new CliError('fmc train needs --out DIR (checkpoints, metrics and plots go there)', EXIT.usage);
  let outStat: fs.Stats | undefined;
  try {
    outStat = fs.statSync(out, { throwIfNoEntry: false });
  } catch (e) {
    // ENOTDIR (a file on the way), EACCES, ELOOP: statSync throws these whatever throwIfNoEntry says.
    throw new CliError(
      `--out ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}: cannot use it as a folder`,
      EXIT.usage,
    );
  }
  if (outStat && !outStat.isDirectory())
    throw new CliError(
      `--out ${out}: it is ${outStat.isFile() ? 'a file' : kindOf(outStat)}, not a folder`,
      EXIT.usage,
    );
  const threads = parseThreads(o.threads);
  const evalEvery = num('eval-every', o.evalEvery, true, 1);
  const keep = num('keep', o.keep, true, 1) ?? 3;
  const checkpointEvery = num('checkpoint-every', o.checkpointEvery, true, 1);
  const valFraction = num('val-fraction', o.valFraction, false) ?? 0.1;
  const target = o.target ?? 'c';
  if (target !== 'c' && target !== 'wgsl' && target !== 'cuda')
    throw new CliError(`--target must be c, wgsl or cuda, got '${target}'`, EXIT.usage);
  if (valFraction >= 1) throw new CliError(`--val-fraction must be below 1, got ${valFraction}`, EXIT.usage);

  const distill = distillOf(o);
  const quantize = parseQuantize(o.quantize);
  io.progress?.(`compiling the train step of ${file}`);
  const compiled = compileTrainer(file, {
    ...(o.model ? { model: o.model } : {}),
    ...(set ? { set } : {}),
    precision: parsePrecision(o.precision),
    sparsity: parseSparsityOption(o.sparsity),
    quantize,
    ...(o.qat ? { qat: true } : {}),
    ...(o.weights ? { weights: o.weights } : {}),
    seed,
    target,
    train: overrides(o),
    inference: ['forward'],
    ...(distill ? { distill } : {}),
    onProgress: (m) => io.progress?.(m),
    ...(threads !== undefined ? { threads } : {}),
  });
  io.progress?.('');
  for (const w of compiled.warnings) io.err(`fmc: warning: ${w}\n`);
  warnUnusedQuantize(io, compiled.modules[0]!, quantize);
  const { trainer, config } = compiled;
  const steps = config.steps;
  if (steps === undefined) throw new CliError(`${trainer.model} has no train steps: give --steps`, EXIT.usage);
  const batch = config.batch ?? 32;
  const evaluate = compiled.modules.find((m) => m.graph.name === config.loss)!.graph;
  const data = openData(o.data, modelInputs(trainer.inputs), indexRanges(evaluate), {
    batch,
    ...(o.context ? { context: num('context', o.context, true, 1)! } : {}),
    ...(o.vocab ? { vocab: o.vocab } : {}),
    ...(o.label ? { label: o.label } : {}),
  });
  printDataNotes(io, data);
  const batches = new Batches(data.dataset, { batchSize: batch, seed, validation: { fraction: valFraction } });
  try {
    fs.mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create ${out}: ${(e as Error).message}`);
  }
  const ckpt = path.join(out, 'checkpoints');

  let resumedAt: number | undefined;
  if (o.resume) {
    const c = trainer.load(resumeCheckpoints(o.resume));
    for (const s of c.skipped) io.err(`fmc: warning: passed over ${s}\n`);
    const recorded = recordedData(c.path, c.info.extra);
    if (!recorded)
      io.err(
        `fmc: warning: ${c.path} records no data (a checkpoint of trainer.save, not of fmc train): ` +
          'the data files are not checked, and the batches start at the first\n',
      );
    checkSameData(c.path, recorded?.sources ?? [], data);
    checkSameDistill(c.path, c.info.extra.distill, distill);
    batches.seek(recorded?.position ?? { epoch: 0, offset: 0 });
    resumedAt = trainer.counters.updates;
    if (resumedAt >= steps) {
      const asked = o.steps !== undefined ? `--steps ${steps}` : `the train section's steps = ${steps}`;
      io.err(`fmc: ${c.path} is already at step ${resumedAt} ≥ ${asked}: nothing to train\n`);
      return EXIT.ok;
    }
    io.err(`fmc: resumed ${c.path} at step ${resumedAt}\n`);
  }
  if (data.vocabulary && data.vocabulary !== 'bytes')
    fs.writeFileSync(path.join(out, 'vocab.json'), `${JSON.stringify(data.vocabulary.chars)}\n`);
  const log = new MetricsLog(out, resumedAt);
  const progress = new Progress(io, steps, trainer.counters.updates, o.json === true);
  io.err(
    `fmc: training ${trainer.model} on ${data.describe}: ${steps} steps of ${batch}` +
      `${config.accumulate > 1 ? ` × ${config.accumulate} accumulated` : ''} samples, ${config.optimizer.kind} at lr ${config.optimizer.lr}\n`,
  );
  const pruning = pruneSummary(config, compiled.modules[0]!);
  if (pruning) io.err(`fmc: ${pruning}\n`);
  if (distill)
    io.err(
      `fmc: distilling from ${distill.teacher} (${distill.teacherWeights}): alpha ${distill.alpha ?? 0.5}, temperature ${distill.temperature ?? 2}\n`,
    );
  const every = checkpointEvery ?? evalEvery ?? steps;
  const record = (): Record<string, unknown> => ({
    data: { spec: o.data, sources: data.dataset.sources, position: batches.position },
    ...distillRecord(distill),
  });
  const start = performance.now();
  let last: EvalRecord | undefined;
  while (trainer.counters.updates < steps) {
    const t0 = performance.now();
    let lossSum = 0;
    let r;
    let epoch = 0;
    do {
      const b = batches.next();
      epoch = b.epoch;
      checkFinite(data.dataset.where, b.tensors, b.indices);
      r = await trainer.stepAsync(tensors(b.tensors));
      lossSum += r.loss;
    } while (!r.applied);
    const secs = (performance.now() - t0) / 1000;
    const step = trainer.counters.updates;
    const rec = {
      step,
      loss: lossSum / config.accumulate,
      lr: r.lr!,
      grad_norm: r.gradNorm!,
      samples_per_s: (batch * config.accumulate) / secs,
      epoch,
      ...(r.lossScale === undefined ? {} : { loss_scale: r.lossScale }),
      ...(r.skipped === undefined ? {} : { skipped: r.skipped }),
      ...(r.density === undefined ? {} : { density: r.density }),
    };
    if (!Number.isFinite(rec.loss))
      throw new CliError(`step ${step}: the loss is ${rec.loss}; stopped (the last checkpoint is untouched)`);
    log.write(rec);
    progress.step(rec);
    if (rec.density !== undefined)
      progress.note(`step ${step}: pruned, the masks keep ${(100 * rec.density).toFixed(1)}% of their weights`);
    if (evalEvery !== undefined && (step % evalEvery === 0 || step === steps)) {
      last = await validate(compiled, batches, data, step);
      log.write(last);
      progress.note(evalText(last), last);
    }
    if (step % every === 0 || step === steps)
      await trainer.saveAsync(ckpt, { keep, extra: { ...record(), metrics: { train: rec, validation: last } } });
  }
  progress.done();
  const secs = (performance.now() - start) / 1000;
  io.err(`fmc: ${steps - (resumedAt ?? 0)} steps in ${duration(secs)}; checkpoints in ${ckpt}\n`);
  const pictures = await log.plot(`${trainer.model}: loss`);
  if (pictures.length > 0) io.err(`fmc: loss curve in ${pictures.join(' and ')}\n`);
  const n = num('sample', o.sample, true, 0) ?? 0;
  if (n > 0 && data.vocabulary) {
    const fwd = compiled.inference.get('forward');
    if (!fwd) throw new CliError(`${trainer.model} has no forward function to sample text with`);
    const text = await sampleText(fwd, data, decodeTokens, n, seed);
    fs.writeFileSync(path.join(out, 'sample.txt'), text);
    io.out(`${text}\n`);
  }
  return EXIT.ok;
}

const evalText = (r: EvalRecord): string =>
  `step ${r.step}: validation loss ${r.val_loss.toFixed(4)}` +
  (r.val_accuracy !== undefined ? `, accuracy ${(100 * r.val_accuracy).toFixed(2)}%` : '');

/** Mean validation loss (weighted by batch size) and, when the model has a `forward`, accuracy. */
async function validate(c: CompiledTrainer, batches: BatchesT, data: OpenedData, step: number): Promise<EvalRecord> {
  const trainer: Trainer = c.trainer;
  const fwd = c.inference.get('forward');
  let loss = 0;
  let count = 0;
  let right = 0;
  let labelled = 0;
  for (const b of batches.validationBatches()) {
    checkFinite(data.dataset.where, b.tensors, b.indices);
    const t = tensors(b.tensors);
    loss += (await trainer.evaluateAsync(t)) * b.indices.length;
    count += b.indices.length;
    if (fwd) {
      const a = await accuracy(fwd, t);
      right += a.right;
      labelled += a.total;
    }
  }
  return { step, val_loss: loss / count, ...(labelled > 0 ? { val_accuracy: right / labelled } : {}) };
}

/** Argmax of forward's first output along its last axis against an integer input one rank lower. */
async function accuracy(fwd: StepExecutable, batch: Record<string, Tensor>): Promise<{ right: number; total: number }> {
  const inputs = Object.fromEntries(fwd.plan.inputs.map((i) => [i.name, batch[i.name]!]));
  if (Object.values(inputs).some((t) => t === undefined)) return { right: 0, total: 0 };
  const logits = Object.values(await fwd.runAsync(inputs))[0]!;
  const classes = logits.dims.at(-1)!;
  const labels = Object.entries(batch).find(
    ([k, t]) => !(k in inputs) && t.dims.length === logits.dims.length - 1 && t.dtype !== 'f32',
  )?.[1];
  if (!labels || logits.dtype !== 'f32') return { right: 0, total: 0 };
  const z = logits.data as Float32Array;
  let right = 0;
  let total = 0;
  for (let i = 0; i < labels.size; i++) {
    const y = Number(labels.data[i]!);
    if (y < 0) continue; // ignored positions (-100)
    let best = 0;
    for (let k = 1; k < classes; k++) if (z[i * classes + k]! > z[i * classes + best]!) best = k;
    total++;
    if (best === y) right++;
  }
  return { right, total };
}

/** `--resume DIR`: an output folder (its checkpoints/), a checkpoints folder, or a checkpoint file. */
function resumeCheckpoints(p: string): string {
  const sub = path.join(p, 'checkpoints');
  return fs.existsSync(sub) && fs.statSync(sub).isDirectory() ? sub : p;
}

function resumeRoot(p: string): string {
  const abs = path.resolve(p);
  if (fs.existsSync(path.join(abs, 'checkpoints'))) return abs;
  return path.basename(abs) === 'checkpoints' ? path.dirname(abs) : path.dirname(path.dirname(abs));
}

/** What `fmc train` records of its data in a checkpoint (`extra.data`). */
interface RecordedData {
  readonly spec: string;
  readonly sources: readonly { path: string; sha256: string }[];
  readonly position: never;
}

/**
 * The data a checkpoint records, or undefined when it records none (a checkpoint of
 * `trainer.save`, which writes what its caller adds); a CheckpointError when malformed.
 */
function recordedData(ckpt: string, extra: Readonly<Record<string, unknown>>): RecordedData | undefined {
  const d = extra.data;
  if (d === undefined) return undefined;
  const source = (s: unknown): boolean => isObject(s) && typeof s.path === 'string' && typeof s.sha256 === 'string';
  if (
    !isObject(d) ||
    typeof d.spec !== 'string' ||
    !Array.isArray(d.sources) ||
    !d.sources.every(source) ||
    !isObject(d.position)
  )
    throw new CheckpointError(`${ckpt}: the checkpoint record is malformed (its data: spec, sources or position)`);
  return d as unknown as RecordedData;
}

/** The data of a resumed run must be the data the checkpoint was trained on (same bytes). */
function checkSameData(ckpt: string, recorded: readonly { path: string; sha256: string }[], data: OpenedData): void {
  const now = new Map(data.dataset.sources.map((s) => [path.basename(s.path), s.sha256]));
  for (const r of recorded) {
    const h = now.get(path.basename(r.path));
    if (h !== r.sha256)
      throw new DataError(
        r.path,
        `${ckpt} was trained on this file with sha256 ${r.sha256.slice(0, 12)}…, but ` +
          (h === undefined ? 'this run does not read it' : `it now has ${h.slice(0, 12)}…`),
      );
  }
}
