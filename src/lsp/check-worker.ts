// The worker thread that checks one open document (checking.ts starts one per document).
// It keeps the document's latest Analysis and answers the requests that read it (hover,
// definition, outline), so a document whose check takes seconds blocks only its own
// requests: the server's thread and the other documents' workers keep answering.

import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { Diagnostic as LspDiagnostic, TextEdit } from 'vscode-languageserver';
import { MarkupKind } from 'vscode-languageserver';
import { type Host, nodeHost, STD_DIR } from '../frontend/program.js';
import { analyze, type Analysis } from './analysis.js';
import { LineIndex, location, type SpanResolver, toLspDiagnostic, Uris } from './convert.js';
import type { ModelFlops } from './flops.js';
import { modelNames } from './flops.js';
import { codeActions } from './actions.js';
import { completionAt } from './complete.js';
import { hoverAt } from './hover.js';
import { inlayHints } from './inlay.js';
import { definitionAt, documentSymbols } from './navigate.js';
import { badNewName, referencesTo, renameRefusal, targetAt } from './references.js';
import { signatureAt } from './signature.js';

/** A request the document's analysis refuses (the server answers it with an error). */
class Refusal extends Error {}

/** Checks the document of `uri` as it is in `files` (every open document: URI and text). */
export interface CheckRequest {
  readonly type: 'check';
  readonly gen: number;
  readonly uri: string;
  readonly root: string;
  readonly files: readonly (readonly [string, string])[];
}

export interface CheckReply {
  readonly type: 'checked';
  readonly gen: number;
  readonly diagnostics: LspDiagnostic[];
  /** Display path of the document (for logs). */
  readonly display: string | undefined;
  /** Absolute paths of every file the check read. */
  readonly files: string[];
  /** Whether an import was not found (the missing file may be opened later). */
  readonly missingImport: boolean;
  /** When the check is clean and the file declares models: what the FLOPs lowering needs. */
  readonly lower: { readonly abs: string; readonly models: string[] } | undefined;
  readonly ms: number;
  readonly cpuMs: number;
}

type Pos = { line: number; character: number };
type Rng = { start: Pos; end: Pos };

export type Query =
  | { readonly method: 'hover' | 'definition' | 'completion' | 'signature' | 'prepareRename'; readonly position: Pos }
  | { readonly method: 'symbols' }
  | { readonly method: 'references'; readonly position: Pos; readonly includeDeclaration: boolean }
  | { readonly method: 'rename'; readonly position: Pos; readonly newName: string }
  | { readonly method: 'inlay' | 'actions'; readonly range: Rng };

export interface QueryRequest {
  readonly type: 'query';
  readonly id: number;
  readonly query: Query;
}

export interface QueryReply {
  readonly type: 'answer';
  readonly id: number;
  readonly result: unknown;
  /** The request is refused with this message (a rename of a std name, an invalid new name). */
  readonly error?: string;
}

/** The FLOPs of the analysis of generation `gen` (from the server's background lowering). */
export interface FlopsMessage {
  readonly type: 'flops';
  readonly gen: number;
  readonly models: ModelFlops[];
}

export interface ReadyMessage {
  readonly type: 'ready';
}

export type ToWorker = CheckRequest | QueryRequest | FlopsMessage;
export type FromWorker = CheckReply | QueryReply | ReadyMessage | { readonly type: 'error'; readonly message: string };

const port = parentPort;
if (!port) throw new Error('check-worker.js runs as a worker thread');

const encoder = new TextEncoder();
let uris = new Uris(process.cwd());
let open = new Map<string, string>();
const host: Host = {
  read(abs) {
    const text = open.get(abs);
    return text === undefined ? nodeHost.read(abs) : encoder.encode(text);
  },
  display: (abs) => uris.display(abs),
};

let current: { gen: number; a: Analysis; flops: ModelFlops[] | undefined } | undefined;

const resolver = (a: Analysis): SpanResolver => ({
  lines: (file) => a.lines(file),
  uri: (file) => uris.toUri(a.program.moduleByPath(file)?.abs ?? path.resolve(uris.root, file)),
});

function check(r: CheckRequest): CheckReply {
  uris = new Uris(r.root);
  open = new Map(r.files.map(([uri, text]) => [uris.toPath(uri), text]));
  const a = analyze(uris.toPath(r.uri), host);
  current = { gen: r.gen, a, flops: undefined };
  const root = a.root;
  const models = root ? modelNames(root) : [];
  const clean = !a.diagnostics.some((d) => d.severity === 'error');
  return {
    type: 'checked',
    gen: r.gen,
    diagnostics: lspDiagnostics(a),
    display: root?.path,
    files: a.files,
    missingImport: a.diagnostics.some((d) => d.code === 'FM0202'),
    lower: root && clean && models.length > 0 ? { abs: root.abs, models } : undefined,
    ms: a.times.ms,
    cpuMs: a.times.cpuMs,
  };
}

/** The document's diagnostics; those in imported files shown where this file leads to them. */
function lspDiagnostics(a: Analysis): LspDiagnostic[] {
  const r = resolver(a);
  const own = a.root?.path;
  const out: LspDiagnostic[] = [];
  for (const d of a.diagnostics) {
    if (d.span.file === own) {
      out.push(toLspDiagnostic(d, r));
      continue;
    }
    // An error in an imported file: shown where this file leads to it (the first note in
    // this file, e.g. the instantiation), else on the import that brings it in.
    const site = d.notes.find((n) => n.span?.file === own)?.span;
    const imp = site ?? (own ? importLeadingTo(a, d.span.file) : undefined);
    const lines = own ? a.lines(own) : undefined;
    const where = a.lines(d.span.file)?.position(d.span.start);
    if (imp && lines)
      out.push(
        toLspDiagnostic(d, r, {
          range: lines.range(imp),
          prefix: `${d.span.file}${where ? `:${where.line + 1}:${where.character + 1}` : ''}: `,
        }),
      );
  }
  return out;
}

/** The span of the import in the root file through which `file` was loaded. */
function importLeadingTo(a: Analysis, file: string): { start: number; end: number } | undefined {
  const root = a.root;
  if (!root) return undefined;
  for (const imp of a.index(root).imports) {
    const seen = new Set<string>();
    const stack = [imp.abs];
    while (stack.length) {
      const abs = stack.pop()!;
      if (seen.has(abs)) continue;
      seen.add(abs);
      const m = a.program.modules.get(abs);
      if (!m) continue;
      if (m.path === file) return imp.span;
      for (const item of m.parse.ast.items)
        if (item.kind === 'Import' && item.path !== '') stack.push(a.program.resolvePath(item.path, m.abs));
    }
  }
  return undefined;
}

function answer(q: Query): unknown {
  const a = current?.a;
  if (!a?.root) return null;
  const root = a.root;
  if (q.method === 'symbols') return documentSymbols(root, new LineIndex(root.parse.source.text));
  const lines = a.lines(root.path);
  if (!lines) return null;
  const r = resolver(a);
  if ('range' in q) {
    const [start, end] = [lines.offset(q.range.start), lines.offset(q.range.end)];
    if (q.method === 'inlay') return inlayHints(a, root, lines, start, end);
    return codeActions(a, root, lines, uris.toUri(root.abs), start, end, (d) => toLspDiagnostic(d, r));
  }
  const offset = lines.offset(q.position);
  switch (q.method) {
    case 'hover': {
      const h = hoverAt(a, root, offset, current?.flops);
      if (!h) return null;
      return { contents: { kind: MarkupKind.Markdown, value: h.markdown }, range: lines.range(h.span) };
    }
    case 'completion':
      return completionAt(a, root, offset, lines);
    case 'signature':
      return signatureAt(a, root, offset);
    case 'references': {
      const t = targetAt(a, root, offset);
      return t ? referencesTo(a, t, q.includeDeclaration).flatMap((s) => location(r, s) ?? []) : null;
    }
    case 'prepareRename':
    case 'rename': {
      const t = targetAt(a, root, offset);
      if (!t) return null;
      const why = renameRefusal(a, t) ?? ('newName' in q ? badNewName(q.newName) : undefined);
      if (why) throw new Refusal(`cannot rename: ${why}`);
      if (!('newName' in q)) return { range: lines.range(t.at), placeholder: t.name };
      const changes: Record<string, TextEdit[]> = {};
      for (const s of referencesTo(a, t)) {
        const loc = location(r, s);
        if (loc) (changes[loc.uri] ??= []).push({ range: loc.range, newText: q.newName });
      }
      return { changes };
    }
    default:
      break;
  }
  const t = definitionAt(a, root, offset);
  if (!t) return null;
  if ('file' in t) {
    const zero = { line: 0, character: 0 };
    return { uri: uris.toUri(t.file), range: { start: zero, end: zero } };
  }
  return location(r, t.span) ?? null;
}

port.on('message', (m: ToWorker) => {
  let reply: FromWorker | undefined;
  try {
    if (m.type === 'check') reply = check(m);
    else if (m.type === 'query') {
      try {
        reply = { type: 'answer', id: m.id, result: answer(m.query) };
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        reply = { type: 'answer', id: m.id, result: null, error: e.message };
      }
    } else if (current?.gen === m.gen) current.flops = m.models;
  } catch (e) {
    const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
    if (m.type === 'check') {
      current = undefined;
      reply = {
        type: 'checked',
        gen: m.gen,
        diagnostics: [],
        display: undefined,
        files: [],
        missingImport: false,
        lower: undefined,
        ms: 0,
        cpuMs: 0,
      };
    } else if (m.type === 'query') reply = { type: 'answer', id: m.id, result: null };
    port.postMessage({ type: 'error', message } satisfies FromWorker);
  }
  if (reply) port.postMessage(reply);
});

// Warm up before the first document arrives: checking the standard library once fills the
// parse cache and compiles the checker, so the first real check is faster. The server keeps
// one warmed worker spare, so a newly opened document rarely waits for this.
for (const f of ['math', 'nn', 'attention', 'conv', 'moe']) {
  try {
    analyze(path.join(STD_DIR, `${f}.fm`), nodeHost);
  } catch {
    // a broken standard library shows in the documents' own checks
  }
}
port.postMessage({ type: 'ready' } satisfies FromWorker);
