// `fmc inspect FILE`: a torchinfo-style table per block path (layer type, output shape,
// params, FLOPs and activation bytes at the given dims), or a picture of the graph with --graph.

import * as path from 'node:path';
import { activationBytes, blockPaths, nodeFlops } from '../ir/cost.js';
import { drawModule, type PictureFormat } from '../ir/draw/index.js';
import { typeText } from '../ir/draw/names.js';
import { dtypeBytes } from '../ir/dtype.js';
import { liveNodes, type Node } from '../ir/graph.js';
import { concreteShape } from '../ir/interp.js';
import { paramHint } from '../ir/module.js';
import { quantizedBytes } from '../ir/quantize.js';
import { quantSpecOf } from '../passes/quantize.js';
import { blockSparseKeys } from '../passes/sparsity.js';
import { TWO_FOUR_STORED_KEY, parseBsrKey, twoFourBytes } from '../ir/sparse-format.js';
import { tableBytes } from '../ir/sparse-table.js';
import { parseQuantize } from './quantize-rules.js';
import { EXIT, type Io } from './io.js';
import {
  CliError,
  lowerForCli,
  type ModelOptions,
  parseDims,
  warnUnusedDims,
  withDefaults,
  writeOutput,
} from './model.js';

export interface InspectOptions extends ModelOptions {
  readonly json?: boolean;
  readonly graph?: string;
  readonly depth?: string;
  readonly expand?: boolean;
  /** `--quantize path=spec`: the Quantized column under these rules too. */
  readonly quantize?: readonly string[];
}

interface Row {
  path: string;
  depth: number;
  first: number;
  last: Node | undefined;
  params: number;
  flops: number;
  bytes: number;
  /** Bytes of the block's params as declared, and as stored once `@quantize` (or a block table: `@sparse`) applies. */
  weights: number;
  quantized: number;
}

export async function inspectCommand(io: Io, file: string, opts: InspectOptions): Promise<number> {
  const given = parseDims(opts.dims);
  const lowered = lowerForCli(io, file, opts);
  const g = lowered.graph;
  warnUnusedDims(io, g, given);
  if (opts.graph !== undefined) {
    const out = opts.graph;
    const ext = path.extname(out).toLowerCase();
    const format = ({ '.dot': 'dot', '.svg': 'svg', '.html': 'html' } as const)[ext] as PictureFormat | undefined;
    if (format === undefined) throw new CliError(`--graph ${out}: use a .dot, .svg or .html file name`, EXIT.usage);
    // Concrete shapes on the edges only when the user gave dims.
    const dims = given.size > 0 ? withDefaults(io, g, given, true) : undefined;
    writeOutput(out, await drawModule(lowered, format, { expand: opts.expand, dims }));
    io.err(`fmc: wrote ${out} (${liveNodes(g).length} nodes)\n`);
    return EXIT.ok;
  }
  if (opts.depth !== undefined && !/^\d{1,3}$/.test(opts.depth))
    throw new CliError(`--depth: expected a non-negative integer, found \`${opts.depth}\``, EXIT.usage);
  const maxDepth = opts.depth === undefined ? 3 : Number(opts.depth);
  const dims = withDefaults(io, g, given, opts.json);
  const rows = new Map<string, Row>();
  /** The rows a path counts in: it and every enclosing path, down to `--depth` levels. */
  const ancestors = (path: string): Row[] =>
    blockPaths(path)
      .slice(0, maxDepth + 1)
      .map((key) => {
        let r = rows.get(key);
        if (!r) {
          const depth = key ? key.split('.').length : 0;
          r = {
            path: key,
            depth,
            first: Infinity,
            last: undefined,
            params: 0,
            flops: 0,
            bytes: 0,
            weights: 0,
            quantized: 0,
          };
          rows.set(key, r);
        }
        return r;
      });
  for (const n of liveNodes(g)) {
    if (n.op === 'param') continue;
    for (const r of ancestors(n.path)) {
      r.first = Math.min(r.first, n.id);
      if (!r.last || n.id > r.last.id) r.last = n;
      r.flops += nodeFlops(n, dims);
      r.bytes += activationBytes(n, dims);
    }
  }
  let paramBytes = 0;
  let trainable = 0;
  let quantizes = false;
  let sparse = false;
  const rules = parseQuantize(opts.quantize) ?? [];
  // Sparse weights the C target keeps compressed (inference: block tables, 2:4 values and metadata).
  const tables = blockSparseKeys(g, {
    target: 'c',
    mode: 'inference',
    hints: lowered.hints,
    options: { sparseTables: true },
  });
  for (const p of lowered.params) {
    const shape = concreteShape(p.shape, dims);
    const count = shape.reduce((a, b) => a * b, 1);
    const size = dtypeBytes(p.dtype, count);
    const spec = quantSpecOf(p, rules, paramHint(lowered.hints, p, 'quantize'));
    const key = spec ? undefined : tables.get(p.path);
    const table = parseBsrKey(key ?? '');
    quantizes ||= spec !== undefined;
    sparse ||= key !== undefined;
    const stored = spec
      ? quantizedBytes(shape[0]!, count / shape[0]!, spec)
      : table
        ? tableBytes(shape[0]!, shape[1]!, table.b, table.cap)
        : key === TWO_FOUR_STORED_KEY
          ? twoFourBytes(shape[0]!, shape[1]!)
          : size;
    paramBytes += size;
    if (p.role === 'param') trainable += count;
    for (const r of ancestors(p.path.split('.').slice(0, -1).join('.'))) {
      r.params += count;
      r.weights += size;
      r.quantized += stored;
    }
  }
  const sorted = [...rows.values()].sort((a, b) => a.first - b.first || a.path.localeCompare(b.path));
  // Concrete shapes when the user gave dims; symbolic ones otherwise (and in JSON's `output`).
  const shapeOf = (r: Row, at?: ReadonlyMap<string, number>) =>
    r.path === '' ? g.outputs.map((o) => typeText(o.node, at)).join(', ') : r.last ? typeText(r.last, at) : '-';
  const shown = given.size > 0 ? dims : undefined;
  /** The block type at a path: `Linear`, `repeat 4 × EncoderLayer`, the model's name at the top. */
  const typeOf = (p: string): string => {
    const b = lowered.blocks?.get(p);
    return !b ? '-' : b.count !== undefined ? `${b.mode ?? 'repeat'} ${b.count} × ${b.type}` : b.type;
  };
  const root = rows.get('')!;
  const totals = { params: root.params, trainable, paramBytes, flops: root.flops, activationBytes: root.bytes };
  if (opts.json) {
    const out = {
      model: lowered.model,
      fn: g.name,
      dims: Object.fromEntries(dims),
      rows: sorted.map((r) => ({
        path: r.path,
        type: typeOf(r.path),
        output: shapeOf(r),
        shape: shapeOf(r, dims),
        params: r.params,
        flops: r.flops,
        activationBytes: r.bytes,
        ...(quantizes ? { weightBytes: r.weights, quantizedBytes: r.quantized } : {}),
        ...(sparse ? { weightBytes: r.weights, storedBytes: r.quantized } : {}),
      })),
      totals,
    };
    io.out(`${JSON.stringify(out, null, 2)}\n`);
    return EXIT.ok;
  }
  // With `@quantize` or block tables: each block's weight bytes as declared and as stored.
  const weightCols = (r?: Row): string[] =>
    !quantizes && !sparse
      ? []
      : r
        ? [bytes(r.weights), bytes(r.quantized)]
        : ['Weights', sparse ? 'Stored' : 'Quantized'];
  const table = [['Block (path)', 'Type', 'Output shape', 'Params', 'FLOPs', 'Activations', ...weightCols()]];
  for (const r of sorted) {
    const name = r.path ? `${'  '.repeat(r.depth)}${r.path.split('.').slice(-1)[0]}` : `${lowered.model}.${g.name}`;
    table.push([
      name,
      typeOf(r.path),
      shapeOf(r, shown),
      count(r.params),
      si(r.flops),
      bytes(r.bytes),
      ...weightCols(r),
    ]);
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c <= 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  io.out(`${line(table[0]!)}\n${'-'.repeat(widths.reduce((a, b) => a + b + 2, -2))}\n`);
  for (const row of table.slice(1)) io.out(`${line(row)}\n`);
  const dimText = [...dims].map(([k, v]) => `${k}=${v}`).join(', ');
  io.out(
    `\nParams: ${count(totals.params)} (${count(trainable)} trainable, ${bytes(paramBytes)})\nFLOPs: ${si(totals.flops)} per call at ${dimText || 'these shapes'}\nActivations: ${bytes(totals.activationBytes)} if nothing is freed or fused\n`,
  );
  return EXIT.ok;
}

const count = (n: number): string => n.toLocaleString('en-US');
function si(n: number): string {
  const units = ['', ' K', ' M', ' G', ' T'];
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return u === 0 ? String(n) : `${n.toFixed(2)}${units[u]}`;
}
/** A byte count as tables print it: `812 B`, `3.5 KiB`, `1.2 MiB` (fmc inspect, fmc bench). */
export function bytes(n: number): string {
  const units = [' B', ' KiB', ' MiB', ' GiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)}${units[u]}`;
}
