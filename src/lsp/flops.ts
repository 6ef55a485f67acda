// FLOPs in hovers: a model's `forward` is lowered to the graph IR (in the background, see
// lowering.ts), every live node's FLOPs are counted symbolically (`nodeFlopsDim`) and summed
// per block path, each node counted in its own path and in every enclosing one. A hover on
// a child block then reads the sum at the child's path: `attn` in the model itself, or
// `blocks.0.attn`, `blocks.1.attn`, ... for a child of a block the model instantiates
// (found by walking the checker's instance tree of the model, with `repeat`/`stack N`
// children at `name.0` ... `name.N-1`, as the lowering names them).

import type * as A from '../frontend/ast.js';
import { lowerFile } from '../frontend/lower.js';
import type { Host } from '../frontend/program.js';
import type { BlockInstance } from '../frontend/types.js';
import { flopsByPath } from '../ir/cost.js';
import { type Dim, dimAdd, dimConst, dimConstFrac, dimConstValue, DimTooComplex, dimToString } from '../ir/dims.js';
import type { Analysis } from './analysis.js';
import type { Def } from './resolve.js';

/** The FLOPs of one lowered model function, by block path. */
export interface ModelFlops {
  readonly model: string;
  readonly fn: string;
  /**
   * FLOPs per path prefix of the live nodes (`''` is the whole function): the nodes whose
   * path is that prefix or starts with it and a dot. Undefined when the model did not lower.
   */
  readonly byPath: ReadonlyMap<string, Dim> | undefined;
  /** Why there is no table (the lowering's diagnostic), for the log. */
  readonly error?: string;
  /** Milliseconds the lowering and the count took. */
  readonly ms: number;
}

/** The models a file declares (lowering runs only for files that have one). */
export function modelNames(m: { parse: { ast: A.File } }): string[] {
  return m.parse.ast.items.filter((i): i is A.BlockDecl => i.kind === 'Block' && i.isModel).map((b) => b.name.name);
}

/** Lowers `fn` of each model of `abs` (read through `host`) and counts its FLOPs per block path. */
export function lowerFlops(abs: string, host: Host, models: readonly string[], fn = 'forward'): ModelFlops[] {
  return models.map((model) => {
    const t0 = performance.now();
    const done = (byPath: ReadonlyMap<string, Dim> | undefined, error?: string): ModelFlops => ({
      model,
      fn,
      byPath,
      ...(error === undefined ? {} : { error }),
      ms: performance.now() - t0,
    });
    const r = lowerFile(abs, { model, fn }, host);
    if (!r.ok) {
      const d = r.diagnostics.find((x) => x.severity === 'error') ?? r.diagnostics[0];
      return done(undefined, d ? `${d.code} ${d.message}` : 'it did not lower');
    }
    try {
      return done(flopsByPath(r.lowered.graph));
    } catch (e) {
      if (e instanceof DimTooComplex || e instanceof RangeError) return done(undefined, e.message);
      throw e;
    }
  });
}

/** `72*B`; a constant as `1,234,567 (1.23 M)`. */
export function flopsText(d: Dim): string {
  const c = dimConstFrac(d);
  if (!c || c.den !== 1n) return dimToString(d);
  const grouped = c.num.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  let x = Number(c.num);
  if (x < 1000) return grouped;
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let u = 0;
  while (x >= 1000 && u < units.length - 1) {
    x /= 1000;
    u++;
  }
  return `${grouped} (${x.toFixed(2)} ${units[u]})`;
}

/** Where the instances of each block sit in a model: block paths by declaration. */
type Placement = Map<A.BlockDecl, string[]>;

const placements = new WeakMap<Analysis, Map<string, Placement | undefined>>();

/** The paths of every block instance in `model`'s instance tree (the model itself at `''`). */
function placementOf(a: Analysis, model: string): Placement | undefined {
  let byModel = placements.get(a);
  if (!byModel) placements.set(a, (byModel = new Map()));
  if (byModel.has(model)) return byModel.get(model);
  const decl = a.root?.parse.ast.items.find(
    (i): i is A.BlockDecl => i.kind === 'Block' && i.isModel && i.name.name === model,
  );
  const inst = decl && a.instancesOf(decl)[0];
  let out: Placement | undefined;
  if (inst) {
    out = new Map();
    const walk = (i: BlockInstance, path: string, depth: number): void => {
      const list = out!.get(i.decl) ?? [];
      list.push(path);
      out!.set(i.decl, list);
      if (depth > 64) return;
      for (const [name, b] of i.scope) {
        if (b.what !== 'child block' || b.value.kind !== 'child') continue;
        const { inst: child, multi } = b.value.child;
        const at = path ? `${path}.${name}` : name;
        if (!multi) walk(child, at, depth + 1);
        else for (let k = 0; k < (dimConstValue(multi.count) ?? 0); k++) walk(child, `${at}.${k}`, depth + 1);
      }
    };
    walk(inst, '', 0);
  }
  byModel.set(model, out);
  return out;
}

/**
 * The hover lines for the child `def` (a call such as `attn(x)` or the child's declaration):
 * its FLOPs per call of each lowered model function whose instance tree holds the block that
 * declares the child. A block placed several times (`repeat 12 DecoderLayer`) shows the
 * first instance and the sum over all of them.
 */
export function childFlopsLines(a: Analysis, models: readonly ModelFlops[], def: Def): string[] {
  if (def.kind !== 'child' || !def.owner) return [];
  const out: string[] = [];
  for (const m of models) {
    if (!m.byPath) continue;
    const owners = placementOf(a, m.model)?.get(def.owner);
    if (!owners?.length) continue;
    const paths = owners.map((p) => (p ? `${p}.${def.name}` : def.name));
    const at = (p: string) => m.byPath!.get(p) ?? dimConst(0);
    const per = `per call of \`${m.model}.${m.fn}\``;
    if (paths.length === 1) {
      const where = owners[0] ? ` (at \`${paths[0]}\`)` : '';
      out.push(`FLOPs: \`${flopsText(at(paths[0]!))}\` ${per}${where}`);
      continue;
    }
    let total = dimConst(0);
    try {
      for (const p of paths) total = dimAdd(total, at(p));
    } catch (e) {
      if (e instanceof DimTooComplex) continue;
      throw e;
    }
    out.push(
      `FLOPs: \`${flopsText(at(paths[0]!))}\` at \`${paths[0]}\` (the first of ${paths.length} instances), ` +
        `\`${flopsText(total)}\` for all ${paths.length}, ${per}`,
    );
  }
  return out;
}

/** The hover line for a model declaration: the FLOPs of its lowered function. */
export function modelFlopsLines(models: readonly ModelFlops[], decl: A.BlockDecl): string[] {
  const m = models.find((x) => x.model === decl.name.name && x.byPath);
  const total = m?.byPath?.get('');
  return m && total ? [`FLOPs: \`${flopsText(total)}\` per call of \`${m.model}.${m.fn}\``] : [];
}
