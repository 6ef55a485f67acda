// Delta debugging of a failing fuzz program: remove functions, blocks, members, statements
// and results, or replace a statement by one of its same-typed operands, keeping each change
// while the program still fails the same way (the same signature: failure kind, stage and, for
// crashes and diagnostics, the first line of the message with numbers blanked). Changes that
// break the program (a diagnostic where there was none) fail differently and are dropped.

import type { BlockDecl, FnDecl, FuzzProgram, Stmt } from './gen.js';
import type { Failure } from './pipeline.js';

/** What a failure is, for "fails the same way". */
export function signature(f: Failure): string {
  const first = f.message.split('\n')[0] ?? '';
  const detail =
    f.kind === 'mismatch'
      ? ''
      : f.kind === 'diagnostic'
        ? (/FM\d{4}/.exec(first)?.[0] ?? '')
        : first
            .replace(/fuzz-\d+\.fm/g, 'F')
            .replace(/\d+/g, 'N')
            .slice(0, 160);
  return `${f.kind}:${f.stage}:${detail}`;
}

const refers = (text: string, name: string): boolean => new RegExp(`\\b${name}\\b`).test(text);
const rhs = (s: Stmt): string => s.text.slice(s.text.indexOf('=') + 1);

function fnText(f: FnDecl): string {
  return f.stmts.map(rhs).join('\n') + f.results.map((r) => r.expr).join('\n');
}

/** Every one-step simplification of `p`, the biggest first. */
function* candidates(p: FuzzProgram): Generator<FuzzProgram> {
  const withModel = (model: BlockDecl): FuzzProgram => ({ ...p, model });
  // whole functions
  for (let i = 0; i < p.model.fns.length; i++) {
    if (p.model.fns[i]!.name === 'forward') continue;
    yield withModel({ ...p.model, fns: p.model.fns.filter((_, j) => j !== i) });
  }
  // whole blocks, with the members that instantiate them
  for (let i = 0; i < p.blocks.length; i++) {
    const b = p.blocks[i]!;
    const uses = new RegExp(`\\b${b.name}\\(`);
    yield {
      ...p,
      blocks: p.blocks.filter((_, j) => j !== i),
      model: { ...p.model, members: p.model.members.filter((m) => !uses.test(m.text)) },
    };
  }
  // each declaration (the model, then the blocks): results, statements, members
  const decls: { d: BlockDecl; put: (d: BlockDecl) => FuzzProgram }[] = [
    { d: p.model, put: withModel },
    ...p.blocks.map((d, i) => ({
      d,
      put: (n: BlockDecl): FuzzProgram => ({ ...p, blocks: p.blocks.map((b, j) => (j === i ? n : b)) }),
    })),
  ];
  for (const { d, put } of decls) {
    const withFn = (i: number, f: FnDecl): FuzzProgram => put({ ...d, fns: d.fns.map((g, j) => (j === i ? f : g)) });
    for (let i = 0; i < d.fns.length; i++) {
      const f = d.fns[i]!;
      if (f.results.length > 1)
        for (let k = 0; k < f.results.length; k++)
          yield withFn(i, { ...f, results: f.results.filter((_, j) => j !== k) });
      // statements, last first: dead ones go, live ones are bypassed by a same-typed operand
      for (let k = f.stmts.length - 1; k >= 0; k--) {
        const s = f.stmts[k]!;
        const later = { ...f, stmts: f.stmts.slice(k + 1) };
        const used = s.names.some((n) => refers(fnText(later), n));
        const stmts = f.stmts.filter((_, j) => j !== k);
        if (!used) {
          yield withFn(i, { ...f, stmts });
          continue;
        }
        for (const b of s.bypass) {
          const name = s.names[0]!;
          const re = new RegExp(`\\b${name}\\b`, 'g');
          yield withFn(i, {
            ...f,
            stmts: stmts.map((t, j) =>
              j < k ? t : { ...t, text: t.text.replace(/=(.*)$/s, (_m, r: string) => `=${r.replace(re, b)}`) },
            ),
            results: f.results.map((r) => ({ ...r, expr: r.expr.replace(re, b) })),
          });
        }
      }
      // type annotations
      for (let k = 0; k < f.stmts.length; k++) {
        const s = f.stmts[k]!;
        const plain = s.text.replace(/^let (\w+): [^=]+=/, 'let $1 =');
        if (plain !== s.text)
          yield withFn(i, { ...f, stmts: f.stmts.map((t, j) => (j === k ? { ...t, text: plain } : t)) });
      }
    }
    // members nothing refers to any more
    const body = d.fns.map(fnText).join('\n');
    for (let k = d.members.length - 1; k >= 0; k--) {
      const m = d.members[k]!;
      const others = d.members
        .filter((_, j) => j !== k)
        .map((x) => x.text)
        .join('\n');
      if (!refers(body, m.name) && !refers(others, m.name))
        yield put({ ...d, members: d.members.filter((_, j) => j !== k) });
    }
  }
}

export interface ShrinkResult {
  readonly program: FuzzProgram;
  readonly failure: Failure;
  /** Candidates tried. */
  readonly tries: number;
}

/**
 * Greedy delta debugging: take the first candidate that still fails the same way, start over,
 * until none does or the budget is spent. `run` evaluates a candidate (its first failure with
 * the wanted signature, else undefined).
 */
export async function shrink(
  p: FuzzProgram,
  failure: Failure,
  run: (q: FuzzProgram) => Promise<readonly Failure[]>,
  budgetMs: number,
): Promise<ShrinkResult> {
  const want = signature(failure);
  const deadline = Date.now() + budgetMs;
  let best = p;
  let bestFailure = failure;
  let tries = 0;
  let progress = true;
  while (progress && Date.now() < deadline) {
    progress = false;
    for (const q of candidates(best)) {
      if (Date.now() >= deadline) break;
      tries++;
      const fs = await run(q);
      const same = fs.find((f) => signature(f) === want);
      if (same) {
        best = q;
        bestFailure = same;
        progress = true;
        break;
      }
    }
  }
  return { program: best, failure: bestFailure, tries };
}
