// `fmc train --teacher T.fm`: the distillation options (docs/training.md#distillation), what
// a checkpoint records of them, and the check that a resumed run distills as the run that
// wrote the checkpoint did.

import type { Command } from 'commander';
import { type DistillOptions, MAX_TEMPERATURE, MIN_TEMPERATURE } from '../api/distill.js';
import { EXIT } from './io.js';
import { CliError, parseSet } from './model.js';

export interface DistillCliOptions {
  readonly teacher?: string;
  readonly teacherWeights?: string;
  readonly teacherSet?: readonly string[];
  readonly teacherModel?: string;
  readonly alpha?: string;
  readonly temperature?: string;
}

const repeated = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds the distillation options to `fmc train`. */
export function withDistillOptions(c: Command): Command {
  return c
    .option('--teacher <file>', "distill: a teacher model whose forward's logits give soft targets (frozen)")
    .option('--teacher-weights <file>', "the teacher's weights (safetensors, or a checkpoint of fmc train)")
    .option(
      '--teacher-set <name=value>',
      "the teacher's hyperparameters (repeatable; default: those its checkpoint records)",
      repeated,
    )
    .option('--teacher-model <name>', "the teacher's model when its file has several")
    .option('--alpha <x>', 'distill: weight of the soft (teacher) term; 1 − alpha weights the hard loss (default 0.5)')
    .option('--temperature <x>', 'distill: softmax temperature T; the soft term is scaled by T² (default 2)');
}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v))
    throw new CliError(`--${name} must be a number, got '${text}'`, EXIT.usage);
  return v;
}

/** The API's distillation options, or undefined without --teacher (the other options then are an error). */
export function distillOf(o: DistillCliOptions): DistillOptions | undefined {
  if (o.teacher === undefined) {
    const stray = (['teacherWeights', 'teacherSet', 'teacherModel', 'alpha', 'temperature'] as const).find(
      (k) => o[k] !== undefined,
    );
    if (stray)
      throw new CliError(
        `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is a distillation option: give --teacher`,
        EXIT.usage,
      );
    return undefined;
  }
  if (o.teacherWeights === undefined)
    throw new CliError('--teacher needs --teacher-weights (the trained teacher)', EXIT.usage);
  const alpha = number('alpha', o.alpha);
  const temperature = number('temperature', o.temperature);
  if (temperature !== undefined && !(temperature >= MIN_TEMPERATURE && temperature <= MAX_TEMPERATURE))
    throw new CliError(
      `--temperature must be a number from ${MIN_TEMPERATURE} to ${MAX_TEMPERATURE}, got '${o.temperature}'`,
      EXIT.usage,
    );
  const set = o.teacherSet ? parseSet([...o.teacherSet], '--teacher-set') : undefined;
  return {
    teacher: o.teacher,
    teacherWeights: o.teacherWeights,
    ...(set ? { teacherSet: set } : {}),
    ...(o.teacherModel ? { teacherModel: o.teacherModel } : {}),
    ...(alpha !== undefined ? { alpha } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
  };
}

/** What a checkpoint records of the distillation (absent without a teacher). */
export const distillRecord = (d: DistillOptions | undefined): Record<string, unknown> =>
  d ? { distill: { ...d, alpha: d.alpha ?? 0.5, temperature: d.temperature ?? 2 } } : {};

/** A resumed run must distill as the run that wrote `ckpt` did (or not at all, as it did). */
export function checkSameDistill(ckpt: string, recorded: unknown, d: DistillOptions | undefined): void {
  const now = distillRecord(d).distill;
  if (JSON.stringify(recorded ?? null) !== JSON.stringify(now ?? null))
    throw new CliError(
      `${ckpt} was written with distillation ${JSON.stringify(recorded ?? 'off')}, this run has ${JSON.stringify(now ?? 'off')}`,
      EXIT.usage,
    );
}
