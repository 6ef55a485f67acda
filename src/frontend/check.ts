// The frontend's entry point: load a program, check every file, return sorted diagnostics.
// Never throws for user input; a bug in the checker becomes FM9999.

import * as path from 'node:path';
import type * as A from './ast.js';
import type { V } from './types.js';
import { type Diagnostic, diag, sortDiagnostics } from './diagnostics.js';
import { checkGeneric } from './checker/blocks.js';
import { checkAnnotations } from './checker/annotations.js';
import { Checker, type Ctx, staticCtx } from './checker/context.js';
import { checkFnBody, checkInferredNames } from './checker/functions.js';
import { hasOpenList } from './checker/hparams.js';
import { type HParamSet, prepareOverrides, withOverrides } from './checker/overrides.js';
import { resolveTopLevel } from './checker/toplevel.js';
import { DimTooComplex } from '../ir/dims.js';
import { type Host, nodeHost, Program, STD_DIR } from './program.js';
import { MAX_BRACKET_DEPTH } from './parse.js';

export interface CheckResult {
  readonly program: Program;
  readonly diagnostics: readonly Diagnostic[];
}

/** Loads and checks files from disk (or through `host`). */
export function checkFiles(paths: readonly string[], host: Host = nodeHost, options: CheckOptions = {}): CheckResult {
  const program = new Program(host);
  for (const p of paths) program.addFile(p);
  return { program, diagnostics: checkProgram(program, options) };
}

export interface CheckOptions {
  /** Sees every expression's value as it is evaluated (see Checker.observer). */
  readonly observer?: (e: A.Expr, v: V) => void;
  /**
   * Hyperparameter overrides (`--set d=64`): each replaces the default of the hyperparameter
   * of that name in every model of the root files that declares one (or only in `model`).
   * A name no such model declares is FM0314; a value that does not parse FM0315. Strings
   * are compile-time expressions (`'2 * 64'`, `'relu'`); see checker/overrides.ts.
   */
  readonly set?: HParamSet;
  /** The name `set`'s diagnostics give as their file (default `--set`). */
  readonly setSource?: string;
  /** The model `set` applies to (default: every model of the root files). */
  readonly model?: string;
}

/** Checks a program whose files are loaded. */
export function checkProgram(program: Program, options: CheckOptions = {}): Diagnostic[] {
  program.checkCycles();
  const checker = new Checker(program);
  checker.observer = options.observer;
  const prepared = prepareOverrides(program, options.set, options.model, options.setSource);
  checker.overrides = prepared.overrides;
  checker.diagnostics.push(...prepared.diagnostics);
  try {
    for (const m of program.modules.values()) {
      if (m.broken) continue;
      // The std library is checked by its own tests; imported, it is checked where used.
      if (!program.roots.includes(m) && m.abs.startsWith(STD_DIR + path.sep)) continue;
      for (const item of m.parse.ast.items) {
        if (item.kind === 'Import' || item.name.name === '') continue;
        const ctx: Ctx = staticCtx(checker, m.path);
        if (item.kind === 'Const') {
          checkAnnotations(ctx, item.annotations, { kind: 'other', what: 'a constant' });
          resolveTopLevel(ctx, item.name.name, item.name.span);
        } else if (item.kind === 'Fn') {
          checkAnnotations(ctx, item.annotations, { kind: 'fn', name: item.name.name });
          const fn = { decl: item, owner: undefined, module: m.path };
          if (item.results && !hasOpenList(item.params)) checkFnBody(checker, fn);
          else checkInferredNames(checker, fn);
        } else {
          withOverrides(checker, item, () => checkGeneric(checker, item, m.path));
        }
      }
    }
    checker.checkRecursion();
  } catch (e) {
    const first = [...program.modules.values()][0];
    const span = { file: first?.path ?? '<input>', start: 0, end: 0 };
    if (e instanceof DimTooComplex) {
      checker.diagnostics.push(diag('FM0300', span, [`a dimension expression that is too complex (${e.message})`]));
    } else if (e instanceof RangeError && /call stack/i.test(e.message)) {
      checker.diagnostics.push(diag('FM0109', span, [MAX_BRACKET_DEPTH]));
    } else {
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      checker.diagnostics.push(diag('FM9999', span, [why]));
    }
  }
  return sortDiagnostics([...program.diagnostics, ...checker.diagnostics]);
}
