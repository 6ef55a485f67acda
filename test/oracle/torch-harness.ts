// PyTorch as an independent oracle for whole models: helpers that lower a small variant of a
// model's `loss` function, seed its weights and inputs, evaluate it with fmc's reference
// interpreter, and run the same model written with torch ops (torch_models.py, driven by
// torch_oracle.py) in float64 on the same weights and inputs. Tensors travel as safetensors
// files: fmc writes the weights (F32, every value is an f32) and the inputs; the oracle writes
// `loss` and `grad.<param path>` as F64, which fmc's own reader does not take, so a small
// F64-capable reader lives here.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { type Lowered, lowerFile } from '../../src/frontend/lower.js';
import { type Host, nodeHost } from '../../src/frontend/program.js';
import { isFloat, isInt, type Dtype } from '../../src/ir/dtype.js';
import type { Graph, NodeOf } from '../../src/ir/graph.js';
import { indexBound, normalStream } from '../../src/ir/init.js';
import { concreteShape, evaluate } from '../../src/ir/interp.js';
import { uniformStream } from '../../src/ir/philox.js';
import { type HostTensor, shapeSize } from '../../src/ir/value.js';
import { seededWeights } from '../../src/runtime/compile.js';
import { writeSafetensors } from '../../src/runtime/safetensors-write.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const PYTHON = '/usr/bin/python3';
export const ORACLE = path.join(ROOT, 'test', 'oracle', 'torch_oracle.py');

// ---------------------------------------------------------------------------------------------
// Is torch there?

let torchProbe: { ok: boolean; why: string } | undefined;

/** Whether /usr/bin/python3 can import torch (probed once), and why not. */
export function torchAvailable(): { ok: boolean; why: string } {
  if (torchProbe) return torchProbe;
  if (!fs.existsSync(PYTHON)) return (torchProbe = { ok: false, why: `${PYTHON} does not exist` });
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  torchProbe =
    r.status === 0
      ? { ok: true, why: `torch ${r.stdout.trim()}` }
      : { ok: false, why: `${PYTHON} cannot import torch: ${(r.stderr || String(r.error)).trim().split('\n').pop()}` };
  return torchProbe;
}

/**
 * The title and skip reason of an oracle suite on `what`: the title says why it is skipped
 * (and a warning is printed) when torch cannot be imported, and names torch's version when it can.
 */
export function torchSuite(what: string): { skipWhy: string; title: string } {
  const t = torchAvailable();
  const skipWhy = t.ok ? '' : t.why;
  if (skipWhy) console.warn(`torch oracle tests (${what}) skipped: ${skipWhy}`);
  const title = skipWhy ? `fmc vs PyTorch: ${what} — SKIPPED because ${skipWhy}` : `fmc vs PyTorch (${t.why}): ${what}`;
  return { skipWhy, title };
}

// ---------------------------------------------------------------------------------------------
// Small variants of models

/**
 * The source of a model with smaller hyperparameter defaults: in the header of `model <name>(`
 * each `key = value` default named in `overrides` is replaced (an unknown key is an error, so a
 * renamed hyperparameter cannot silently keep its big default). `@quantize` and `@sparse`
 * annotations are removed: they only become hints (lowering does not change the graph for
 * them) and their group and block sizes must divide dims that the small variant shrinks.
 */
export function shrinkModel(src: string, overrides: Readonly<Record<string, number | string>>): string {
  const m = /\bmodel\s+\w+\s*\(/.exec(src);
  if (!m) throw new Error('no `model` header in the source');
  let depth = 0;
  let end = m.index + m[0].length - 1;
  for (; end < src.length; end++) {
    if (src[end] === '(') depth++;
    else if (src[end] === ')' && --depth === 0) break;
  }
  let header = src.slice(m.index, end + 1);
  for (const [key, value] of Object.entries(overrides)) {
    const re = new RegExp(`(\\b${key}(?:\\s*:[^=,]*)?\\s*=\\s*)([^,)\\n]+)`);
    if (!re.test(header)) throw new Error(`the model header has no default for \`${key}\``);
    header = header.replace(re, `$1${String(value)}`);
  }
  const out = src.slice(0, m.index) + header + src.slice(end + 1);
  return out.replace(/^\s*@(quantize|sparse)\([^)]*\)\s*$/gm, '');
}

/**
 * Lowers function `fn` of the (single) model in `src`, read as if it were the file
 * test/oracle/<name>.fm (it is never written; `"std/..."` imports resolve to the std library).
 */
export function lowerSource(name: string, src: string, fn = 'loss'): Lowered {
  const file = path.join(ROOT, 'test', 'oracle', `${name}.fm`);
  const host: Host = {
    read: (p) => (p === file ? new TextEncoder().encode(src) : nodeHost.read(p)),
    display: (p) => path.relative(ROOT, p),
  };
  const r = lowerFile(file, { fn }, host);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => renderDiagnostic(d, (f) => r.program.source(f))).join('\n\n'));
  return r.lowered;
}

/** Lowers function `fn` of models/<file>.fm with smaller defaults. */
export function lowerSmall(file: string, overrides: Readonly<Record<string, number | string>>, fn = 'loss'): Lowered {
  const src = fs.readFileSync(path.join(ROOT, 'models', `${file}.fm`), 'utf8');
  return lowerSource(`${file}.small`, shrinkModel(src, overrides), fn);
}

// ---------------------------------------------------------------------------------------------
// Weights and inputs

const f32 = (xs: Float64Array): Float64Array => Float64Array.from(Float32Array.from(xs));

/**
 * seededWeights, then every param or buffer whose initializer is a constant (zeros, ones,
 * constant: biases, norm scales and shifts, running statistics, a relative-position table) is
 * moved off it by noise, so that a mistake that such a value would hide (a bias added twice,
 * gamma and beta swapped, running mean and variance swapped) still changes the loss. Running
 * variances stay positive (uniform in [0.5, 1.5]). Every value is an f32.
 */
export function oracleWeights(l: Lowered, dims: ReadonlyMap<string, number>, seed: number): Map<string, HostTensor> {
  const w = seededWeights(l, seed, dims);
  for (const p of l.params) {
    if (!isFloat(p.dtype) || !['zeros', 'ones', 'constant'].includes(p.init.fn)) continue;
    const t = w.get(p.path)!;
    const n = t.data.length;
    const data = /(^|\.)running_var$/.test(p.path)
      ? uniformStream(seed, `oracle:${p.path}`, n).map((u) => 0.5 + u)
      : normalStream(seed, `oracle:${p.path}`, n).map((z, i) => t.data[i]! + 0.2 * z);
    w.set(p.path, { ...t, data: f32(data) });
  }
  return w;
}

/** How to draw one integer or bool input (the default: indexBound's range, or normal floats). */
export type InputSpec =
  /** integers in [0, high) */
  | { readonly kind: 'index'; readonly high: number }
  /** integers in [0, high), with about `ignored` of them (at least one) set to -100 */
  | { readonly kind: 'labels'; readonly high: number; readonly ignored: number }
  /** bool[B, T]: a valid-prefix padding mask; row b keeps a random length in [1, T], row 0 all T */
  | { readonly kind: 'valid' };

/** Random inputs of a graph, keyed by (seed, input name); labels at padding positions are -100 too. */
export function oracleInputs(
  g: Graph,
  dims: ReadonlyMap<string, number>,
  seed: number,
  specs: Readonly<Record<string, InputSpec>> = {},
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  const draw = (n: NodeOf<'input'>): HostTensor => {
    const { name, dtype } = n.args;
    const shape = concreteShape(n.args.shape, dims);
    const count = shapeSize(shape);
    const u = uniformStream(seed, `oracle-input:${name}`, count);
    const spec = specs[name];
    const t = (data: Float64Array): HostTensor => ({ dtype, shape, data });
    if (spec?.kind === 'valid') {
      if (shape.length !== 2 || dtype !== 'bool') throw new Error(`input '${name}' is not bool[B, T]`);
      const [rows, cols] = shape as [number, number];
      const len = Array.from({ length: rows }, (_, b) => (b === 0 ? cols : 1 + Math.floor(u[b]! * cols)));
      return t(Float64Array.from({ length: count }, (_, i) => (i % cols < len[Math.floor(i / cols)]! ? 1 : 0)));
    }
    if (spec?.kind === 'index' || spec?.kind === 'labels') {
      const v = Float64Array.from(u, (x) => Math.floor(x * spec.high));
      if (spec.kind === 'labels') {
        const drop = uniformStream(seed, `oracle-ignore:${name}`, count);
        drop.forEach((x, i) => (x < spec.ignored || i === count - 1 ? (v[i] = -100) : 0));
      }
      return t(v);
    }
    if (isFloat(dtype)) return t(f32(normalStream(seed, `oracle-input:${name}`, count)));
    if (isInt(dtype)) return t(Float64Array.from(u, (x) => Math.floor(x * (indexBound(g, n) ?? 2))));
    return t(Float64Array.from(u, (x) => (x < 0.5 ? 0 : 1)));
  };
  for (const n of g.inputs) out.set(n.args.name, draw(n));
  // Labels at padding positions are ignored, as a data pipeline would mark them.
  const valid = Object.entries(specs).find(([, s]) => s.kind === 'valid')?.[0];
  for (const [name, s] of Object.entries(specs)) {
    const lab = out.get(name);
    const v = valid && out.get(valid);
    if (s.kind !== 'labels' || !lab || !v || lab.data.length !== v.data.length) continue;
    lab.data.forEach((_, i) => (v.data[i] === 0 ? (lab.data[i] = -100) : 0));
  }
  return out;
}

/** Every float param (role 'param') of a graph's model: what gradients are taken for. */
export function trainableParams(l: Lowered): string[] {
  return l.params.filter((p) => p.role === 'param' && isFloat(p.dtype)).map((p) => p.path);
}

// ---------------------------------------------------------------------------------------------
// fmc's side: the reference interpreter

/** Evaluates a graph with the reference interpreter; outputs by name. */
export function runFmc(
  g: Graph,
  inputs: ReadonlyMap<string, HostTensor>,
  weights: ReadonlyMap<string, HostTensor>,
  dims: ReadonlyMap<string, number>,
): Map<string, HostTensor> {
  // Compared with PyTorch in float64: the unrounded mode.
  return evaluate(g, { inputs, params: weights, dims }, { precision: 'float64' }).outputs;
}

// ---------------------------------------------------------------------------------------------
// torch's side

export interface TorchResult {
  readonly loss: number;
  /** grad.<param path> → gradient (float64), for every param (role 'param') of the weights. */
  readonly grads: Map<string, HostTensor>;
  /** Seconds the oracle spent on this job (building the model, the loss and the backward pass). */
  readonly seconds: number;
}

/** One model evaluation for the oracle. */
export interface TorchJob {
  /** A mirror in torch_models.py, or in `extraPython`. */
  readonly model: string;
  /** Its hyperparameters (the .fm defaults otherwise). */
  readonly config: Readonly<Record<string, number | string>>;
  /** Params and buffers by fmc path. */
  readonly weights: ReadonlyMap<string, HostTensor>;
  /** The `loss` function's inputs by name. */
  readonly inputs: ReadonlyMap<string, HostTensor>;
  /** Which weights are params (gradients are taken); the rest are buffers. */
  readonly params: readonly string[];
  /** The source of a Python file defining more mirrors (`MODELS = {name: class}`). */
  readonly extraPython?: string;
}

/**
 * Runs torch_oracle.py once on many jobs (torch takes about a second to import): each job's
 * torch mirror computes its loss in float64 and backpropagates. A job that fails gives an
 * Error in its place (its message is the oracle's); a failure of the whole process throws.
 */
export function runTorchBatch(jobs: readonly TorchJob[], timeoutMs = 120_000): (TorchResult | Error)[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-oracle-'));
  try {
    const list = jobs.map((job, i) => {
      const at = (f: string) => path.join(dir, `${i}.${f}`);
      fs.writeFileSync(
        at('weights.safetensors'),
        writeSafetensors(job.weights, { params: JSON.stringify(job.params) }),
      );
      fs.writeFileSync(at('inputs.safetensors'), writeSafetensors(job.inputs));
      if (job.extraPython !== undefined) fs.writeFileSync(at('extra.py'), job.extraPython);
      return {
        model: job.model,
        config: job.config,
        weights: at('weights.safetensors'),
        inputs: at('inputs.safetensors'),
        out: at('out.safetensors'),
        extra: job.extraPython === undefined ? null : at('extra.py'),
      };
    });
    const jobsFile = path.join(dir, 'jobs.json');
    fs.writeFileSync(jobsFile, JSON.stringify(list));
    const r = spawnSync(PYTHON, [ORACLE, '--jobs', jobsFile], {
      encoding: 'utf8',
      timeout: timeoutMs,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    if (r.error) throw new Error(`torch oracle: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`torch oracle exited with ${r.status}:\n${r.stderr}`);
    return list.map((job) => {
      if (fs.existsSync(`${job.out}.error`))
        return new Error(`torch oracle for ${job.model}: ${fs.readFileSync(`${job.out}.error`, 'utf8')}`);
      const out = readSafetensors64(fs.readFileSync(job.out));
      const loss = out.get('loss');
      const seconds = out.get('seconds')?.data[0] ?? NaN;
      if (!loss || loss.data.length !== 1) return new Error(`torch oracle for ${job.model}: no scalar 'loss'`);
      const grads = new Map([...out].filter(([k]) => k.startsWith('grad.')));
      return { loss: loss.data[0]!, grads, seconds };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** runTorchBatch for one job; throws if it fails. */
export function runTorch(job: TorchJob, timeoutMs = 60_000): TorchResult {
  const [r] = runTorchBatch([job], timeoutMs);
  if (r instanceof Error) throw r;
  return r!;
}

const ST_DTYPES: Record<string, { dtype: Dtype; bytes: number; get: (v: DataView, at: number) => number }> = {
  F64: { dtype: 'f32', bytes: 8, get: (v, at) => v.getFloat64(at, true) },
  F32: { dtype: 'f32', bytes: 4, get: (v, at) => v.getFloat32(at, true) },
  I64: { dtype: 'i64', bytes: 8, get: (v, at) => Number(v.getBigInt64(at, true)) },
  I32: { dtype: 'i32', bytes: 4, get: (v, at) => v.getInt32(at, true) },
  BOOL: { dtype: 'bool', bytes: 1, get: (v, at) => v.getUint8(at) },
};

/**
 * A minimal safetensors reader that also takes F64 (read into the float64 data unrounded and
 * labelled f32, the dtype of the params the gradients belong to). For files the oracle wrote.
 */
export function readSafetensors64(bytes: Uint8Array): Map<string, HostTensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, HostTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const d = ST_DTYPES[e.dtype];
    if (!d) throw new Error(`safetensors: tensor ${name}: unsupported dtype ${e.dtype}`);
    const [begin, end] = e.data_offsets;
    const count = shapeSize(e.shape);
    if (end - begin !== count * d.bytes) throw new Error(`safetensors: tensor ${name}: bad data_offsets`);
    const data = new Float64Array(count);
    for (let i = 0; i < count; i++) data[i] = d.get(view, 8 + n + begin + i * d.bytes);
    out.set(name, { dtype: d.dtype, shape: e.shape, data });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Tolerance {
  /** Elementwise: |a - b| ≤ atol + rtol·|b|. */
  readonly rtol: number;
  readonly atol: number;
  /**
   * Per tensor, when given: max |a - b| ≤ tensorAtol + tensorRtol·max |b|. This catches a
   * tensor whose values are all small against atol (a gradient of 1e-5 set to zero).
   */
  readonly tensorRtol?: number;
  readonly tensorAtol?: number;
}

export interface Comparison {
  /** Problems found (empty: everything matched). */
  readonly problems: string[];
  /** The largest |a - b| and |a - b| / |b| (over elements with |b| ≥ relFloor, b ≠ 0) seen. */
  readonly maxAbs: number;
  readonly maxRel: number;
  /** Where the largest relative error was. */
  readonly worst: string;
}

/**
 * Compares fmc's tensors with torch's by name: every name in `want` must be in `got` with the
 * same element count, and |got - want| ≤ atol + rtol·|want| elementwise (NaN only matches NaN).
 * Reports at most 3 bad elements per tensor. The relative-error statistic (maxRel) leaves out
 * elements with |want| < relFloor (gradients that are zero but for rounding noise).
 */
export function compareTensors(
  got: ReadonlyMap<string, HostTensor>,
  want: ReadonlyMap<string, HostTensor>,
  tol: Tolerance,
  relFloor = 0,
): Comparison {
  const problems: string[] = [];
  let maxAbs = 0;
  let maxRel = 0;
  let worst = '';
  for (const [name, w] of want) {
    const g = got.get(name);
    if (!g) {
      problems.push(`${name}: missing on fmc's side`);
      continue;
    }
    if (g.data.length !== w.data.length || shapeSize(g.shape) !== shapeSize(w.shape)) {
      problems.push(`${name}: fmc has [${g.shape.join(', ')}], torch [${w.shape.join(', ')}]`);
      continue;
    }
    let bad = 0;
    let worstDiff = 0;
    let scale = 0;
    for (let i = 0; i < w.data.length; i++) {
      const [a, b] = [g.data[i]!, w.data[i]!];
      if (Number.isNaN(a) || Number.isNaN(b)) {
        if (Number.isNaN(a) !== Number.isNaN(b) && bad++ < 3) problems.push(`${name}[${i}]: fmc ${a}, torch ${b}`);
        continue;
      }
      const abs = Math.abs(a - b);
      const rel = b === 0 ? (a === 0 ? 0 : Infinity) : abs / Math.abs(b);
      maxAbs = Math.max(maxAbs, abs);
      worstDiff = Math.max(worstDiff, abs);
      scale = Math.max(scale, Math.abs(b));
      if (b !== 0 && Math.abs(b) >= relFloor && rel > maxRel) {
        maxRel = rel;
        worst = `${name}[${i}] (fmc ${a}, torch ${b})`;
      }
      if (!(abs <= tol.atol + tol.rtol * Math.abs(b)) && bad++ < 3)
        problems.push(`${name}[${i}]: fmc ${a}, torch ${b} (|diff| ${abs.toExponential(2)})`);
    }
    if (bad > 3) problems.push(`${name}: ${bad} elements differ in all`);
    if (tol.tensorRtol !== undefined) {
      const limit = (tol.tensorAtol ?? 0) + tol.tensorRtol * scale;
      if (!(worstDiff <= limit))
        problems.push(
          `${name}: max |diff| ${worstDiff.toExponential(2)} > ${limit.toExponential(2)} ` +
            `(${tol.tensorRtol} of the tensor's largest value ${scale.toExponential(2)})`,
        );
    }
  }
  for (const name of got.keys()) if (!want.has(name)) problems.push(`${name}: missing on torch's side`);
  return { problems, maxAbs, maxRel, worst };
}

/** A scalar as a one-element tensor map, for compareTensors. */
export const scalar = (name: string, v: number): Map<string, HostTensor> =>
  new Map([[name, { dtype: 'f32', shape: [], data: Float64Array.of(v) }]]);
