// Lowering: a checked model function becomes a graph IR. The checker itself runs again in
// lowering mode (checker/emit.ts): every call is inlined with its real arguments, every
// tensor value carries the node that computes it, and params become nodes named by their
// block path. Lowering only runs on programs that check clean.

import type * as A from './ast.js';
import { checkFiles } from './check.js';
import { instantiate } from './checker/blocks.js';
import { Checker } from './checker/context.js';
import { Lowering, LoweringBudget, LoweringError, nodeOf } from './checker/emit.js';
import { checkFnBody, evalSignature, instantiatePattern } from './checker/functions.js';
import { newUnifier } from './checker/calls.js';
import { type HParamSet, prepareOverrides } from './checker/overrides.js';
import { blockTable, paramTable } from './checker/lower-params.js';
import { type Diagnostic, diag } from './diagnostics.js';
import type { Host } from './program.js';
import { nodeHost, type Program } from './program.js';
import type { Span } from './source.js';
import type { V } from './types.js';
import { dimKey, dimSym, dimSymbols } from '../ir/dims.js';
import { type Graph, liveNodes, type Node, type NodeOf } from '../ir/graph.js';
import { type Module, type SparseHint, withPrecision } from '../ir/module.js';
import { sparseText, withSparsity } from '../ir/sparsity.js';
import type { Dtype } from '../ir/dtype.js';
import { modelIntent } from './intent.js';

export interface LowerOptions {
  /** The model to lower when the file has several (default: the only one). */
  readonly model?: string;
  /** The model function to lower (default `forward`). */
  readonly fn?: string;
  /** Lower the training variant (`training` is true: dropout on, buffer updates). */
  readonly training?: boolean;
  /**
   * Hyperparameter overrides (`--set d=64`): the model is checked and lowered with these
   * values instead of its defaults (see CheckOptions.set).
   */
  readonly set?: HParamSet;
  /** The name `set`'s diagnostics give as their file (default `--set`). */
  readonly setSource?: string;
  /** The model-level compute precision (`--precision`), in place of its `@precision` and train section's (withPrecision). */
  readonly precision?: Dtype;
  /** Sparsity for every weight of rank ≥ 2 (`--sparsity`), in place of the model's `@sparse` (withSparsity). */
  readonly sparsity?: SparseHint;
}

/** What lowering produces: an IR-level Module (the graph and the model's intent). */
export type Lowered = Module;

export type LowerResult =
  | { readonly ok: true; readonly lowered: Lowered; readonly program: Program }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[]; readonly program: Program };

/** Checks `file` and lowers one function of one of its models. */
export function lowerFile(file: string, options: LowerOptions = {}, host: Host = nodeHost): LowerResult {
  const { program, diagnostics } = checkFiles([file], host, {
    set: options.set,
    model: options.model,
    ...(options.setSource ? { setSource: options.setSource } : {}),
  });
  if (diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics, program };
  const root = program.roots[0];
  if (!root) return { ok: false, diagnostics, program };
  const models = root.parse.ast.items.filter((i): i is A.BlockDecl => i.kind === 'Block' && i.isModel);
  const fileSpan = { file: root.path, start: 0, end: 0 };
  const fail = (code: 'FM0800' | 'FM0801' | 'FM0802' | 'FM0803', span: Span, args: string[]): LowerResult => ({
    ok: false,
    diagnostics: [diag(code, span, args)],
    program,
  });
  const decl = options.model ? models.find((m) => m.name.name === options.model) : models[0];
  if (!decl || (!options.model && models.length > 1)) {
    const names = models.map((m) => `\`${m.name.name}\``).join(', ') || 'none';
    const why = options.model
      ? `no model named \`${options.model}\``
      : models.length === 0
        ? 'no model to compile'
        : 'several models (choose one with --model)';
    return fail('FM0801', fileSpan, [root.path, why, names]);
  }
  const checker = new Checker(program);
  checker.lowering = new Lowering(options.training ?? false);
  checker.overrides = prepareOverrides(program, options.set, decl.name.name, options.setSource).overrides;
  try {
    const lowered = lowerModel(checker, decl, root.path, options.fn ?? 'forward');
    if (typeof lowered === 'string')
      return fail('FM0802', decl.name.span, [decl.name.name, options.fn ?? 'forward', lowered]);
    // Only lowering finds some errors (FM08xx: a `require` that cannot become a run-time check).
    if (checker.diagnostics.length > 0 && checker.diagnostics.every((d) => d.code.startsWith('FM08')))
      return { ok: false, diagnostics: checker.diagnostics, program };
    if (checker.diagnostics.length > 0) {
      const first = checker.diagnostics[0]!;
      throw new Error(`lowering reported ${first.code} (${first.message}) on a program that checks clean`);
    }
    const precise = options.precision ? withPrecision(lowered, options.precision) : lowered;
    const sparse = options.sparsity ? withSparsity(precise, options.sparsity) : precise;
    if ('reason' in sparse)
      return { ok: false, diagnostics: [sparsityDiag(precise, options.sparsity!, sparse, decl)], program };
    return { ok: true, lowered: sparse, program };
  } catch (e) {
    if (e instanceof LoweringBudget)
      return fail('FM0803', e.span ?? decl.name.span, [decl.name.name, e.message, String(e.limit)]);
    if (e instanceof LoweringError) return fail('FM0800', e.span ?? decl.name.span, [decl.name.name, e.message]);
    throw e;
  }
}

function lowerModel(checker: Checker, decl: A.BlockDecl, module: string, fnName: string): Lowered | string {
  const L = checker.lowering!;
  const inst = instantiate(checker, decl, module, undefined);
  if (!inst) throw new Error('lowering: the model did not instantiate');
  const functions = [...inst.scope].filter(([, b]) => b.what === 'function').map(([k]) => k);
  const fb = inst.scope.get(fnName)?.value;
  if (fb?.kind !== 'fn' || fb.fn === 'builtin-elementwise') return functions.map((f) => `\`${f}\``).join(', ');
  const fn = fb.fn;
  const sig = evalSignature(checker, fn);
  if (!sig) throw new Error('lowering: no signature');
  // Inputs: the function's tensor parameters, their dim variables as symbols.
  const u = newUnifier();
  const inputs: NodeOf<'input'>[] = [];
  const args: (V | undefined)[] = sig.params.map((p) => {
    const span = p.decl.span;
    if (!p.tensor) {
      if (!p.hasDefault)
        throw new LoweringError(`the parameter \`${p.name}\` is not a tensor and has no default`, span);
      return undefined;
    }
    if (p.tensor.dims.some((d) => d.kind !== 'dim') || p.tensor.dtype.kind !== 'exact')
      throw new LoweringError(
        `the input \`${p.name}\` needs a dtype and named dims (no \`...\`, \`_\` or dtype class)`,
        span,
      );
    for (const [sym, name] of p.tensor.vars) if (!u.dims.has(sym)) u.dims.set(sym, { dim: dimSym(name), span });
    const t = instantiatePattern(p.tensor, u, u);
    const node = L.builder.node(
      'input',
      { name: p.name, index: inputs.length, dtype: t.dtype, shape: t.shape.dims },
      [],
    );
    inputs.push(node);
    L.spans.set(node, span);
    return { kind: 'tensor', t: { ...t, origin: span, node } };
  });
  L.inputDims = new Set(inputs.flatMap((n) => n.type.shape.flatMap(dimSymbols)));
  const result = checkFnBody(checker, fn, { args, unifier: u, site: fn.decl.span, path: '' });
  const items = fn.decl.tupleResult ? (result.kind === 'tuple' ? result.items : []) : [result];
  const outputs = items.map((v, i) => {
    if (v.kind !== 'tensor') throw new LoweringError(`result ${i + 1} is not a tensor`, fn.decl.span);
    return { name: outputName(fn.decl, i), node: nodeOf(v.t) };
  });
  const dims = [...new Set(inputs.flatMap((n) => n.type.shape.flatMap(dimSymbols)))].sort();
  const params = paramTable(checker, inst);
  let updates = [...L.updates].map(([path, node]: [string, Node]) => ({ path, node }));
  // An update's buffer must be in the graph (the IR's invariant: its type and init come
  // from there). A buffer that is set but never read gets `where(true, value, buffer)`.
  const live = liveNodes({ name: fnName, dims, inputs, outputs, updates });
  const read = new Set(live.flatMap((n) => (n.op === 'param' ? [n.args.path] : [])));
  updates = updates.map(({ path, node }) => {
    const p = params.find((q) => q.path === path);
    if (read.has(path) || !p) return { path, node };
    const at = path.split('.').slice(0, -1).join('.');
    const buffer = L.builder.node('param', p, [], at);
    const yes = L.builder.node('full', { value: 1, dtype: 'bool', shape: [] }, [], at);
    return { path, node: L.builder.node('where', {}, [yes, node, buffer], at) };
  });
  const graph: Graph = { name: fnName, dims, inputs, outputs, updates };
  // A function called many times (a repeated layer) records its checks once.
  const requires = [...new Map(L.requires.map((r) => [`${dimKey(r.value)}|${r.what}`, r])).values()];
  return {
    model: decl.name.name,
    graph,
    params,
    functions,
    ...modelIntent(checker, inst),
    ...(requires.length > 0 ? { requires } : {}),
    blocks: blockTable(inst),
    spans: L.spans,
  };
}

/** A result's name: declared (`(logits: ...)`), else `output`, `output_1`, ... */
export function outputName(d: A.FnDecl, i: number): string {
  return d.results?.[i]?.name?.name ?? (i === 0 ? 'output' : `output_${i}`);
}

/** `--sparsity` not legal on a param: FM0504/FM0505 at the param's use in the source (else the model's name). */
function sparsityDiag(m: Module, h: SparseHint, bad: { path: string; reason: string }, decl: A.BlockDecl): Diagnostic {
  const node = liveNodes(m.graph).find((n) => n.op === 'param' && n.args.path === bad.path);
  const span: Span = (node && m.spans?.of(node)) ?? decl.name.span;
  const help = `\`--sparsity ${sparseText(h)}\` applies to every weight of rank 2 or more; annotate the layers with \`@sparse\` instead`;
  return h.kind === 'n:m'
    ? diag('FM0504', span, [sparseText(h), bad.path, bad.reason], { help })
    : diag('FM0505', span, [bad.path, bad.reason], { help });
}
