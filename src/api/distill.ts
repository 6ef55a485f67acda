// Distillation (docs/training.md#distillation): a teacher model, compiled for inference
// (`forward`, dropout off, batch-norm running statistics, f32 weights whatever its
// `@quantize` hints) on its own frozen weights, runs on each micro-batch before the
// student's train step, and its logits feed the step's input `distill.teacher_logits`
// (distill-graph.ts builds the student's loss around them). The teacher's buffers are its
// own: they are not in the student's state or checkpoints.
//
// Before anything is compiled the teacher is checked against the student: its forward's
// inputs must be the student's inputs of the same names (or, when each forward has one input,
// that one) with the same dtype and shape, and its logits must have the student's shape.

import * as fs from 'node:fs';
import type { Lowered } from '../frontend/lower.js';
import { type Dim, dimSubst, dimSymbols, dimToString } from '../ir/dims.js';
import { dimsEqual } from '../ir/infer.js';
import type { NodeOf } from '../ir/graph.js';
import { Executable } from '../runtime/executable.js';
import { readSafetensorsFile } from '../runtime/safetensors.js';
import type { Tensor } from '../runtime/tensor.js';
import type { Teacher } from '../runtime/trainer-state.js';
import { CompileError, type CompileOptions, compileModel, lowerModel } from './compile.js';
import { type DistillWeights, TEACHER_LOGITS, studentLogits, typeText } from './distill-graph.js';

export { TEACHER_LOGITS } from './distill-graph.js';

export interface DistillOptions {
  /** The teacher: a .fm path or source text. */
  readonly teacher: string;
  /** The teacher's weights (safetensors; an fmc checkpoint works). Default: seeded (for tests). */
  readonly teacherWeights?: string;
  /**
   * The teacher's hyperparameter overrides (`--teacher-set`). Default: those recorded in
   * `teacherWeights` when it is an fmc checkpoint, else none.
   */
  readonly teacherSet?: Readonly<Record<string, number | boolean | string>>;
  /** The model to use when the teacher's file has several. */
  readonly teacherModel?: string;
  /** The weight of the soft term (default 0.5). */
  readonly alpha?: number;
  /** The softmax temperature (default 2). */
  readonly temperature?: number;
}

/**
 * The temperatures distillation takes: logits / T and the T² on the soft term stay finite in
 * f32 for any logits a model gives (1e300 or 1e-300 made the loss NaN at the first step).
 */
export const MIN_TEMPERATURE = 1e-3;
export const MAX_TEMPERATURE = 1e3;

/** The weights of the two terms, checked, defaults filled in. */
export function distillWeights(d: DistillOptions): DistillWeights {
  const alpha = d.alpha ?? 0.5;
  const temperature = d.temperature ?? 2;
  if (!(alpha >= 0 && alpha <= 1)) throw new CompileError(`distillation: alpha must be in [0, 1], got ${alpha}`);
  if (!(temperature >= MIN_TEMPERATURE && temperature <= MAX_TEMPERATURE))
    throw new CompileError(
      `distillation: the temperature must be a number from ${MIN_TEMPERATURE} to ${MAX_TEMPERATURE}, got ${temperature}`,
    );
  return { alpha, temperature };
}

/** The `--set` recorded in an fmc checkpoint (undefined for plain weights). */
function checkpointSet(file: string): Record<string, number | boolean | string> | undefined {
  if (!fs.existsSync(file)) throw new CompileError(`${file}: no such file (the teacher's weights)`);
  const text = readSafetensorsFile(file).metadata['fmc.checkpoint'];
  if (text === undefined) return undefined;
  const set = (JSON.parse(text) as { set?: Record<string, number | boolean | string> }).set;
  return set && Object.keys(set).length > 0 ? set : undefined;
}

/** The options the teacher is lowered and compiled with. */
function teacherOptions(d: DistillOptions, base: CompileOptions): CompileOptions {
  const set = d.teacherSet ?? (d.teacherWeights ? checkpointSet(d.teacherWeights) : undefined);
  return {
    ...(base.threads !== undefined ? { threads: base.threads } : {}),
    ...(d.teacherModel ? { model: d.teacherModel } : {}),
    ...(set ? { set } : {}),
    // Their diagnostics name the flag that gave them (the checkpoint's were its run's --set).
    ...(d.teacherSet ? { setSource: '--teacher-set' } : {}),
    ...(d.teacherWeights ? { weights: d.teacherWeights } : {}),
    seed: base.seed ?? 0,
    fns: ['forward'],
    // The soft targets come from the weights as trained: the teacher's `@quantize` hints are
    // for deploying it, not for teaching.
    quantize: [{ path: 'all', spec: 'none' }],
  };
}

/** Which batch field feeds each teacher input, after checking the teacher against the student. */
export interface TeacherPlan {
  readonly options: CompileOptions;
  /** Teacher input name → the student's input name. */
  readonly feeds: ReadonlyMap<string, string>;
}

/**
 * Lowers the teacher's forward and checks it against the student (its `forward` and its
 * loss `inputs`): a CompileError naming what does not match.
 */
export function planTeacher(
  d: DistillOptions,
  base: CompileOptions,
  student: Lowered,
  inputs: readonly NodeOf<'input'>[],
): TeacherPlan {
  const options = teacherOptions(d, base);
  const teacher = lowerModel(d.teacher, options)[0]!;
  if (teacher.graph.name !== 'forward') throw new CompileError(`the teacher ${teacher.model} has no forward function`);
  const tIns = teacher.graph.inputs;
  const byName = new Map(inputs.map((n) => [n.args.name, n]));
  const single = tIns.length === 1 && student.graph.inputs.length === 1;
  const env = new Map<string, Dim>();
  const feeds = new Map<string, string>();
  for (const t of tIns) {
    const s = byName.get(t.args.name) ?? (single ? byName.get(student.graph.inputs[0]!.args.name) : undefined);
    if (!s)
      throw new CompileError(
        `the teacher ${teacher.model}'s forward takes \`${t.args.name}\`, which the student ${student.model} has no input of that name for`,
      );
    const same =
      t.type.dtype === s.type.dtype &&
      t.type.shape.length === s.type.shape.length &&
      t.type.shape.every((dim, i) => bind(env, dim, s.type.shape[i]!));
    if (!same)
      throw new CompileError(
        `the teacher's input \`${t.args.name}\` is ${typeText(t)}, the student's \`${s.args.name}\` is ${typeText(s)}: they must match`,
      );
    feeds.set(t.args.name, s.args.name);
  }
  const tl = studentLogits(teacher, 'teacher');
  const sl = studentLogits(student);
  const tShape = tl.type.shape.map((x) => dimSubst(x, env));
  if (!dimsEqual(tShape, sl.type.shape) || tl.type.dtype !== sl.type.dtype)
    throw new CompileError(
      `the teacher's logits (${teacher.model}'s forward) are ${tl.type.dtype}[${tShape.map(dimToString).join(', ')}], ` +
        `the student's (${student.model}) ${typeText(sl)}: their shapes must match (the same classes, e.g. --set classes=...)`,
    );
  return { options, feeds };
}

/** Unifies a teacher dim with a student dim: a fresh symbol binds, anything else must be equal. */
function bind(env: Map<string, Dim>, t: Dim, s: Dim): boolean {
  const syms = dimSymbols(t);
  if (syms.length === 1 && dimToString(t) === syms[0] && !env.has(syms[0]!)) {
    env.set(syms[0]!, s);
    return true;
  }
  return dimsEqual([dimSubst(t, env)], [s]);
}

/** Compiles the teacher's forward for `target` and returns the trainer's hook that runs it. */
export function compileTeacher(d: DistillOptions, plan: TeacherPlan, target: 'c' | 'wgsl' | 'cuda'): Teacher {
  const model = compileModel(d.teacher, { ...plan.options, target }).model;
  const exe = model.executable('forward');
  const pick = (batch: Readonly<Record<string, Tensor>>): Record<string, Tensor> =>
    Object.fromEntries([...plan.feeds].map(([t, s]) => [t, batch[s]!]));
  const first = (out: Record<string, Tensor>): Tensor => out[exe.plan.outputs[0]!.name]!;
  return {
    input: TEACHER_LOGITS,
    logits: (batch) => {
      if (!(exe instanceof Executable)) throw new CompileError('the teacher runs on the GPU: use stepAsync');
      return first(exe.run(pick(batch)));
    },
    logitsAsync: async (batch) => first(await exe.runAsync(pick(batch))),
  };
}
