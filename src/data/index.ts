// The data layer of `fmc train`: datasets, their readers, batching and input matching (docs/data.md).

export {
  type Column,
  ColumnDataset,
  DataError,
  type Dataset,
  type FieldSpec,
  keepFields,
  renameFields,
  type SourceFile,
} from './dataset.js';
export {
  type Batch,
  type BatchOptions,
  type BatchPosition,
  Batches,
  type TrainBatch,
  type ValidationSplit,
} from './batches.js';
export { checkFinite, matchInputs, type ModelInput } from './match.js';
export { loadMnist, type MnistOptions } from './mnist.js';
export { readSafetensorsDataset } from './safetensors.js';
export { shuffled, WordStream } from './shuffle.js';
export { loadIris, readCsvDataset, type TableOptions, TableDataset } from './table.js';
export {
  buildVocabulary,
  type CharVocabulary,
  decodeTokens,
  encodeText,
  mobyDickPath,
  readTextDataset,
  readVocabulary,
  type TextOptions,
  TextDataset,
  type Vocabulary,
  writeVocabulary,
} from './text.js';
