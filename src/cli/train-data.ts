// `fmc train --data`: which dataset a spec names, read so that it feeds the model's loss
// function. Built-in names (`mnist`, `iris`, `moby-dick`), or a file by its extension
// (`.safetensors` dataset, `.txt` text, `.csv` table). Fields are matched to the loss
// inputs by name; a field left over pairs with the one input left over of its kind (float or
// integer), so `iris` (features, labels) feeds `mlp` (images, labels); fields no input takes are
// left out, with a note. Token ids must fit the embedding the token input indexes, and class
// labels the class axis they are compared with (cross_entropy's ignore_index aside), before any
// step runs.

import * as path from 'node:path';
import {
  type CharVocabulary,
  DataError,
  type Dataset,
  type ModelInput,
  TableDataset,
  type Vocabulary,
  buildVocabulary,
  keepFields,
  loadIris,
  loadMnist,
  matchInputs,
  mobyDickPath,
  readCsvDataset,
  readSafetensorsDataset,
  readTextDataset,
  readVocabulary,
  renameFields,
} from '../data/index.js';
import { list, readSource } from '../data/dataset.js';
import { isFloat } from '../ir/dtype.js';
import { type IndexRange, rangeText } from '../ir/init.js';
import type { Io } from './io.js';
import { CliError } from './model.js';

export interface DataOptions {
  /** Context length of text windows when the model's token input has a symbolic dim (default 64). */
  readonly context?: number;
  /** A vocabulary file (JSON array of characters) for text; or `bytes` for byte-level tokens. */
  readonly vocab?: string;
  /** The label column of a CSV table. */
  readonly label?: string;
  /** Micro-batch size (binds the batch dim). */
  readonly batch: number;
}

export interface OpenedData {
  readonly dataset: Dataset;
  /** The symbolic dims the data binds (B, T, ...). */
  readonly dims: Map<string, number>;
  /** Text datasets: the vocabulary (to decode samples, and to save next to checkpoints). */
  readonly vocabulary?: Vocabulary;
  /** How the data was read, for logs: `mnist (10000 samples)`. */
  readonly describe: string;
  /** What the caller should print as `fmc: note: ...`: fields left unused. */
  readonly notes: readonly string[];
  /** What the caller should print as `fmc: warning: ...`: CSV numbers read as class names. */
  readonly warnings: readonly string[];
}

const BUILT_IN = ['mnist', 'iris', 'moby-dick'];

/**
 * Opens `spec` for a model whose loss takes `inputs`; `indexRanges` gives each integer input's
 * valid values (indexRanges of the loss graph), which every sample is checked against.
 */
export function openData(
  spec: string,
  inputs: readonly ModelInput[],
  indexRanges: ReadonlyMap<string, IndexRange>,
  opts: DataOptions,
): OpenedData {
  const floats = inputs.filter((i) => isFloat(i.dtype));
  const ints = inputs.filter((i) => !isFloat(i.dtype) && i.dtype !== 'bool');
  const ext = path.extname(spec).toLowerCase();
  let dataset: Dataset;
  let vocabulary: Vocabulary | undefined;
  if (spec === 'mnist') {
    const image = floats.length === 1 ? floats[0]!.shape.slice(1) : [784];
    if (image.some((d) => typeof d !== 'number'))
      throw new CliError(
        `mnist: the model's image input is ${shapeText(floats[0]!)}; its per-sample dims must be fixed`,
      );
    dataset = loadMnist({ shape: image as number[] });
  } else if (spec === 'iris') dataset = loadIris();
  else if (spec === 'moby-dick' || ext === '.txt') {
    const file = spec === 'moby-dick' ? mobyDickPath() : spec;
    const tokens = ints[0];
    const t = tokens?.shape[1];
    const context = typeof t === 'number' ? t : (opts.context ?? 64);
    vocabulary = textVocabulary(file, opts.vocab);
    const size = vocabulary === 'bytes' ? 256 : vocabulary.chars.length;
    for (const i of ints) {
      const bound = indexRanges.get(i.name)?.size;
      if (bound !== undefined && size > bound)
        throw new CliError(
          `${file}: the text has ${size} distinct tokens, but the model's input '${i.name}' indexes a table of ${bound}; ` +
            `give the model a larger vocabulary (--set vocab=${size} or more)`,
        );
    }
    const names = ints.length === 2 ? ([ints[0]!.name, ints[1]!.name] as [string, string]) : undefined;
    dataset = readTextDataset(file, { context, vocabulary, ...(names ? { fields: names } : {}) });
  } else if (ext === '.safetensors') dataset = readSafetensorsDataset(spec);
  else if (ext === '.csv') {
    if (!opts.label) throw new CliError(`${spec}: a CSV table needs --label <column>`);
    dataset = readCsvDataset(spec, { label: opts.label });
  } else
    throw new CliError(
      `--data ${spec}: not a dataset: give ${BUILT_IN.join(', ')} or a .safetensors, .txt or .csv file`,
    );
  const table = dataset instanceof TableDataset ? dataset : undefined;
  dataset = pairFields(dataset, inputs);
  const dims = matchInputs(dataset, inputs, opts.batch);
  const notes: string[] = [];
  const names = new Set(inputs.map((i) => i.name));
  const unused = dataset.fields.filter((f) => !names.has(f.name)).map((f) => f.name);
  if (unused.length > 0) {
    const which = unused.length === 1 ? `field ${list(unused)} is` : `fields ${list(unused)} are`;
    notes.push(`${dataset.where}: ${which} not used: the model has no input of that name`);
    dataset = keepFields(dataset, names);
  }
  // A text's tokens are checked against the vocabulary above.
  if (!vocabulary) checkIndices(dataset, indexRanges, (s) => table?.rows[s] ?? `sample ${s}`);
  const describe = `${BUILT_IN.includes(spec) ? spec : dataset.where} (${dataset.size.toLocaleString('en-US')} samples)`;
  const warnings = table?.warnings ?? [];
  return { dataset, dims, describe, notes, warnings, ...(vocabulary ? { vocabulary } : {}) };
}

/**
 * Throws a DataError naming the sample (`row(s)`) and the bound when an integer field that an
 * input indexes a table with, or compares with the class axis, holds a value outside [0, size)
 * that the graph does not treat apart (cross_entropy's ignore_index).
 */
function checkIndices(ds: Dataset, ranges: ReadonlyMap<string, IndexRange>, row: (s: number) => string): void {
  const checked = ds.fields.filter((f) => ranges.has(f.name) && !isFloat(f.dtype) && f.dtype !== 'bool');
  const PIECE = 4096;
  for (const f of checked) {
    const r = ranges.get(f.name)!;
    let first: { s: number; element: number; v: number } | undefined;
    let max = -Infinity;
    const per = Math.max(
      1,
      f.shape.reduce((a, b) => a * b, 1),
    );
    for (let s0 = 0; s0 < ds.size; s0 += PIECE) {
      const indices = Array.from({ length: Math.min(PIECE, ds.size - s0) }, (_, k) => s0 + k);
      ds.batch(indices)
        .get(f.name)!
        .data.forEach((v, i) => {
          if (r.ignored.includes(v)) return;
          max = Math.max(max, v);
          if (!(v >= 0 && v < r.size)) first ??= { s: s0 + Math.floor(i / per), element: i % per, v };
        });
    }
    if (first === undefined) continue;
    const at = f.shape.length === 0 ? row(first.s) : `${row(first.s)}, element ${first.element}`;
    throw new DataError(ds.where, `${at}: ${outOfRange(r, first.v, max)}`, f.name);
  }
}

/** Why value `v` of an input does not fit its range, and how to fix it (`max`: the field's largest value). */
function outOfRange(r: IndexRange, v: number, max: number): string {
  const fix =
    v < 0
      ? 'fix the data'
      : r.kind === 'classes'
        ? `fix the data, or give the model ${max + 1} classes or more (e.g. --set classes=${max + 1})`
        : `fix the data, or give the model a larger table (e.g. --set vocab=${max + 1})`;
  return `${r.kind === 'classes' ? 'label' : 'index'} ${v} is not ${rangeText(r)}; ${fix}`;
}

/** Prints what opening the data noted (unused fields) and warned of (CSV numbers read as class names). */
export function printDataNotes(io: Io, data: OpenedData): void {
  for (const w of data.warnings) io.err(`fmc: warning: ${w}\n`);
  for (const n of data.notes) io.err(`fmc: note: ${n}\n`);
}

/** The vocabulary of a text: a file, `bytes`, or the text's own characters. */
function textVocabulary(file: string, vocab: string | undefined): Vocabulary {
  if (vocab === 'bytes') return 'bytes';
  if (vocab !== undefined) return readVocabulary(vocab);
  const { bytes } = readSource(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(file, 'is not UTF-8 text; use --vocab bytes for byte-level tokens');
  }
  return buildVocabulary(text) satisfies CharVocabulary;
}

/** Renames fields no input names to the one unmatched input of their kind (float or integer). */
function pairFields(ds: Dataset, inputs: readonly ModelInput[]): Dataset {
  const names = new Set(ds.fields.map((f) => f.name));
  const free = ds.fields.filter((f) => !inputs.some((i) => i.name === f.name));
  const renames: Record<string, string> = {};
  for (const kind of [true, false]) {
    const want = inputs.filter((i) => !names.has(i.name) && isFloat(i.dtype) === kind);
    const have = free.filter((f) => isFloat(f.dtype) === kind);
    if (want.length === 1 && have.length === 1) renames[have[0]!.name] = want[0]!.name;
  }
  return Object.keys(renames).length > 0 ? renameFields(ds, renames) : ds;
}

const shapeText = (i: ModelInput): string => `${i.dtype}[${i.shape.join(', ')}]`;
