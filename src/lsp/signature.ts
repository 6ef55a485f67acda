// Signature help: the parameters of the call at the cursor, with their declared types and
// defaults, and the one being written. Calls of blocks (`Linear(d, 4 * d)`: hyperparameters),
// functions (user and std) and child blocks (`proj(x)`: the block's `forward`); a named
// argument (`eps = `) makes its parameter the active one.

import type { SignatureHelp } from 'vscode-languageserver';
import type * as A from '../frontend/ast.js';
import type { Module } from '../frontend/program.js';
import type { Analysis } from './analysis.js';
import { type CallContext, cursorAt } from './cursor.js';
import { stdNames } from './imports.js';
import { childBlock, visibleAt } from './scope.js';

export interface Called {
  /** What the label starts with: the block's, function's or child's name. */
  readonly name: string;
  readonly what: 'block' | 'model' | 'fn' | 'child';
  readonly decl: A.BlockDecl | A.FnDecl;
  /** The file of the declaration (for its text). */
  readonly file: Module;
  /** Where it comes from when it is not imported yet (`std/nn`). */
  readonly module: string | undefined;
}

/** The block, function or child `forward` a call at `call` invokes. */
export function calledAt(a: Analysis, m: Module, call: CallContext): Called | undefined {
  if (call.receiver) {
    // `child.f(`: a function of the child's block.
    const target = visibleAt(a, m, call.calleeStart).find((d) => d.name === call.receiver);
    const block = target && childBlock(m, target);
    const fn = block?.members.find((x): x is A.FnDecl => x.kind === 'Fn' && x.name.name === call.callee);
    const file = block && a.program.moduleByPath(block.span.file);
    return fn && file
      ? { name: `${call.receiver}.${call.callee}`, what: 'fn', decl: fn, file, module: undefined }
      : undefined;
  }
  const d = visibleAt(a, m, call.calleeStart).find((x) => x.name === call.callee);
  if (d?.kind === 'child') {
    const block = childBlock(m, d);
    const fn = block?.members.find((x): x is A.FnDecl => x.kind === 'Fn' && x.name.name === 'forward');
    const file = block && a.program.moduleByPath(block.span.file);
    return fn && file ? { name: d.name, what: 'child', decl: fn, file, module: undefined } : undefined;
  }
  if (d && (d.node.kind === 'Block' || d.node.kind === 'Fn')) {
    const file = a.program.moduleByPath(d.node.span.file);
    const what = d.node.kind === 'Fn' ? 'fn' : d.node.isModel ? 'model' : 'block';
    return file ? { name: d.name, what, decl: d.node, file, module: undefined } : undefined;
  }
  if (d) return undefined;
  const s = stdNames().get(call.callee);
  if (!s || s.decl.kind === 'Const') return undefined;
  const what = s.decl.kind === 'Fn' ? 'fn' : s.decl.isModel ? 'model' : 'block';
  return { name: s.name, what, decl: s.decl, file: s.file, module: s.module };
}

/** The parameters of what is called: hyperparameters of a block, parameters of a function. */
export function parametersOf(c: Called): { name: string; text: string }[] {
  const src = c.file.parse.source.text;
  const params: readonly (A.HParam | A.FnParam)[] = c.decl.kind === 'Block' ? c.decl.hparams : c.decl.params;
  return params
    .filter((p) => p.name.name !== '')
    .map((p) => ({ name: p.name.name, text: src.slice(p.span.start, p.span.end).replace(/\s+/g, ' ') }));
}

export function signatureAt(a: Analysis, m: Module, offset: number): SignatureHelp | null {
  const cursor = cursorAt(m.parse.source.text, offset);
  const call = cursor.call;
  if (!call || call.declaration || cursor.inert) return null;
  const c = calledAt(a, m, call);
  if (!c) return null;
  const params = parametersOf(c);
  const src = c.file.parse.source.text;
  let label = `${c.what === 'child' || c.what === 'fn' ? '' : `${c.what} `}${c.name}(`;
  const infos = params.map((p) => {
    const start = label.length;
    label += p.text;
    const info = { label: [start, label.length] as [number, number] };
    label += ', ';
    return info;
  });
  if (params.length) label = label.slice(0, -2);
  label += ')';
  if (c.decl.kind === 'Fn' && c.decl.results) {
    const results = c.decl.results.map((r) => src.slice(r.span.start, r.span.end).replace(/\s+/g, ' '));
    label += ` -> ${c.decl.tupleResult ? `(${results.join(', ')})` : results.join('')}`;
  }
  const named = call.named ? params.findIndex((p) => p.name === call.named) : -1;
  const active = named >= 0 ? named : call.argIndex;
  return {
    signatures: [
      {
        label,
        parameters: infos,
        ...(c.module ? { documentation: `from ${c.module} (not imported yet)` } : {}),
      },
    ],
    activeSignature: 0,
    activeParameter: Math.min(active, Math.max(0, params.length - 1)),
  };
}
