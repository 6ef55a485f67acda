// `fmc train --data`: which dataset a spec names, read so that it feeds the model's loss
// function. Built-in names (`mnist`, `iris`, `moby-dick`), or a file by its extension
// (`.safetensors` dataset, `.txt` text, `.csv` table). Fields are matched to the loss
// inputs by name; a field left over pairs with the one input left over of its kind (float or
// integer), so `iris` (features, labels) feeds `mlp` (images, labels). Token ids must fit the
// embedding the token input indexes.

import * as path from 'node:path';
import {
  type CharVocabulary,
  DataError,
  type Dataset,
  type ModelInput,
  type Vocabulary,
  buildVocabulary,
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
import { readSource } from '../data/dataset.js';
import { isFloat } from '../ir/dtype.js';
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
}

const BUILT_IN = ['mnist', 'iris', 'moby-dick'];

/** Opens `spec` for a model whose loss takes `inputs`; `indexBounds` gives each integer input's table size. */
export function openData(
  spec: string,
  inputs: readonly ModelInput[],
  indexBounds: ReadonlyMap<string, number>,
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
      const bound = indexBounds.get(i.name);
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
  dataset = pairFields(dataset, inputs);
  const dims = matchInputs(dataset, inputs, opts.batch);
  const describe = `${BUILT_IN.includes(spec) ? spec : dataset.where} (${dataset.size.toLocaleString('en-US')} samples)`;
  return { dataset, dims, describe, ...(vocabulary ? { vocabulary } : {}) };
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
