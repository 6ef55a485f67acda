// The .fm language server (`fmc lsp`): JSON-RPC over stdio with vscode-languageserver.
// Diagnostics on open and change, hover, go to definition, document symbols and
// formatting, all from the compiler's own parser, checker and formatter.
//
// Each open document is checked as a root file with the other open documents read from
// memory (so an unsaved edit to an imported file is seen). A check runs at most once per
// document version: a change schedules it (debounced), a request that arrives first runs it
// then; hovers and definitions read the stored Analysis.
//
// After a document checks clean and declares a model, its models' `forward` is lowered on a
// worker thread (lowering.ts) some time after the check, for the FLOPs in hovers on child
// blocks. The result is kept with the Analysis it was made for: a hover shows FLOPs only
// when they belong to the analysis it reads, and never waits for them.

import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  createConnection,
  type Connection,
  type Definition,
  type Diagnostic as LspDiagnostic,
  type DocumentSymbol,
  type Hover,
  type InitializeResult,
  MarkupKind,
  ProposedFeatures,
  type TextEdit,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node.js';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { nodeHost, type Host, STD_DIR } from '../frontend/program.js';
import { analyze, type Analysis } from './analysis.js';
import { LineIndex, location, type SpanResolver, toLspDiagnostic, Uris } from './convert.js';
import { flopsText, type ModelFlops, modelNames } from './flops.js';
import { BackgroundLowering } from './lowering.js';
import { hoverAt } from './hover.js';
import { definitionAt, documentSymbols } from './navigate.js';

/** How long edits are collected before a check runs (a request runs it at once). */
const DEBOUNCE_MS = 30;
/** How long after a clean check the lowering for FLOPs starts (typing on postpones it). */
const LOWER_DELAY_MS = 1000;

interface DocState {
  analysis: Analysis | undefined;
  version: number;
  timer: NodeJS.Timeout | undefined;
  /** The FLOPs of the document's models, for the analysis they were computed from. */
  flops: { readonly analysis: Analysis; readonly models: readonly ModelFlops[] } | undefined;
  lowerTimer: NodeJS.Timeout | undefined;
}

const newState = (): DocState => ({
  analysis: undefined,
  version: -1,
  timer: undefined,
  flops: undefined,
  lowerTimer: undefined,
});

/** Serves one client on the given streams (stdin/stdout for `fmc lsp`). */
export function startServer(input: Readable = process.stdin, output: Writable = process.stdout): Connection {
  const connection = createConnection(ProposedFeatures.all, input, output);
  const documents = new TextDocuments(TextDocument);
  const state = new Map<string, DocState>();
  let uris = new Uris(process.cwd());

  const encoder = new TextEncoder();
  const openByPath = (abs: string) => {
    for (const d of documents.all()) if (uris.toPath(d.uri) === abs) return d;
    return undefined;
  };
  const host: Host = {
    read(abs) {
      const doc = openByPath(abs);
      return doc ? encoder.encode(doc.getText()) : nodeHost.read(abs);
    },
    display: (abs) => uris.display(abs),
  };

  const lowering = new BackgroundLowering<string>(new URL('./lower-worker.js', import.meta.url), (m) =>
    connection.console.log(m),
  );

  /**
   * After a new analysis: the document's running or queued lowering is stale (cancelled);
   * when the check is clean and the file declares a model, a lowering of the models'
   * `forward` is queued after LOWER_DELAY_MS, unless the analysis is replaced by then.
   */
  const lowerLater = (uri: string, s: DocState, a: Analysis) => {
    if (s.lowerTimer) clearTimeout(s.lowerTimer);
    s.lowerTimer = undefined;
    lowering.cancel(uri);
    const root = a.root;
    const models = root ? modelNames(root) : [];
    if (!root || models.length === 0 || a.diagnostics.some((d) => d.severity === 'error')) return;
    s.lowerTimer = setTimeout(() => {
      s.lowerTimer = undefined;
      if (state.get(uri) !== s || s.analysis !== a) return;
      const files = documents.all().map((d) => [uris.toPath(d.uri), d.getText()] as const);
      const t0 = performance.now();
      const version = s.version;
      lowering.submit(uri, { abs: root.abs, root: uris.root, models, files }, (result) => {
        const fresh = state.get(uri) === s && s.analysis === a;
        for (const m of result) {
          const total = m.byPath?.get('');
          const what = total ? `FLOPs ${flopsText(total)}` : `no FLOPs: ${m.error ?? '?'}`;
          connection.console.log(
            `lowered ${root.path} ${m.model}.${m.fn} (version ${version}${fresh ? '' : ', stale: dropped'}) in ${m.ms.toFixed(1)} ms, ${(performance.now() - t0).toFixed(1)} ms after the request; ${what}`,
          );
        }
        if (fresh) s.flops = { analysis: a, models: result };
      });
    }, LOWER_DELAY_MS);
  };

  /** The analysis of a document's current text (checked now if stale). */
  const current = (uri: string): { doc: TextDocument; a: Analysis; s: DocState } | undefined => {
    const doc = documents.get(uri);
    if (!doc) return undefined;
    let s = state.get(uri);
    if (!s) state.set(uri, (s = newState()));
    if (!s.analysis || s.version !== doc.version) {
      s.analysis = analyze(uris.toPath(uri), host);
      s.version = doc.version;
      connection.console.log(
        `checked ${s.analysis.root?.path ?? uri} (version ${doc.version}) in ${s.analysis.times.ms.toFixed(1)} ms (cpu ${s.analysis.times.cpuMs.toFixed(1)} ms)`,
      );
      lowerLater(uri, s, s.analysis);
    }
    return { doc, a: s.analysis, s };
  };

  /** The FLOPs for exactly this analysis, when its lowering is done. */
  const flopsOf = (s: DocState, a: Analysis) => (s.flops?.analysis === a ? s.flops.models : undefined);

  const resolver = (a: Analysis): SpanResolver => ({
    lines: (file) => a.lines(file),
    uri: (file) => uris.toUri(a.program.moduleByPath(file)?.abs ?? path.resolve(uris.root, file)),
  });

  const publish = (uri: string) => {
    const cur = current(uri);
    if (!cur) return;
    const { doc, a } = cur;
    const r = resolver(a);
    const own = a.root?.path;
    const diagnostics: LspDiagnostic[] = [];
    for (const d of a.diagnostics) {
      if (d.span.file === own) {
        diagnostics.push(toLspDiagnostic(d, r));
        continue;
      }
      // An error in an imported file: shown where this file leads to it (the first note in
      // this file, e.g. the instantiation), else on the import that brings it in.
      const site = d.notes.find((n) => n.span?.file === own)?.span;
      const imp = site ?? (own ? importLeadingTo(a, d.span.file) : undefined);
      const lines = own ? a.lines(own) : undefined;
      const where = a.lines(d.span.file)?.position(d.span.start);
      if (imp && lines)
        diagnostics.push(
          toLspDiagnostic(d, r, {
            range: lines.range(imp),
            prefix: `${d.span.file}${where ? `:${where.line + 1}:${where.character + 1}` : ''}: `,
          }),
        );
    }
    void connection.sendDiagnostics({ uri, version: doc.version, diagnostics });
  };

  // The formatter (prettier) takes a while to load: load it when idle after the first check.
  let formatter: Promise<typeof import('../format/format.js')> | undefined;
  const loadFormatter = () => (formatter ??= import('../format/format.js'));

  const schedule = (uri: string, delay = DEBOUNCE_MS) => {
    let s = state.get(uri);
    if (!s) state.set(uri, (s = newState()));
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      try {
        publish(uri);
        if (!formatter) setTimeout(() => void loadFormatter(), 200);
      } catch (e) {
        connection.console.error(`fmc lsp: checking ${uri} failed: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }, delay);
  };

  /**
   * Other open documents whose last check read `uri`'s file, or could not find an import
   * (FM0202: the document may be the missing file): their results are stale now.
   */
  const dependents = (uri: string): string[] => {
    const abs = uris.toPath(uri);
    const stale = (s: DocState) =>
      s.analysis?.files.includes(abs) || s.analysis?.diagnostics.some((d) => d.code === 'FM0202');
    return [...state.entries()].filter(([u, s]) => u !== uri && stale(s)).map(([u]) => u);
  };

  connection.onInitialize((params): InitializeResult => {
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    const root = folder?.startsWith('file:') ? fileURLToPath(folder) : (params.rootPath ?? process.cwd());
    uris = new Uris(root);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        definitionProvider: true,
        documentSymbolProvider: true,
        documentFormattingProvider: true,
      },
      serverInfo: { name: 'fmc', version: '0.1.0' },
    };
  });

  documents.onDidChangeContent((e) => {
    // Clients may repeat or reuse version numbers: any change makes the last check stale.
    const own = state.get(e.document.uri);
    const checkedBefore = own?.analysis !== undefined;
    if (own) {
      own.analysis = undefined;
      if (own.lowerTimer) clearTimeout(own.lowerTimer);
      own.lowerTimer = undefined;
    }
    lowering.cancel(e.document.uri);
    schedule(e.document.uri, checkedBefore ? DEBOUNCE_MS : 0);
    for (const u of dependents(e.document.uri)) {
      const s = state.get(u);
      if (s) s.analysis = undefined;
      schedule(u);
    }
  });

  documents.onDidClose((e) => {
    const s = state.get(e.document.uri);
    if (s?.timer) clearTimeout(s.timer);
    if (s?.lowerTimer) clearTimeout(s.lowerTimer);
    lowering.cancel(e.document.uri);
    const deps = dependents(e.document.uri);
    state.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    // Those that imported it now read it from disk.
    for (const u of deps) {
      const d = state.get(u);
      if (d) d.analysis = undefined;
      schedule(u);
    }
  });

  connection.onHover((p): Hover | null => {
    const cur = current(p.textDocument.uri);
    if (!cur?.a.root) return null;
    const lines = cur.a.lines(cur.a.root.path);
    if (!lines) return null;
    const h = hoverAt(cur.a, cur.a.root, lines.offset(p.position), flopsOf(cur.s, cur.a));
    if (!h) return null;
    return { contents: { kind: MarkupKind.Markdown, value: h.markdown }, range: lines.range(h.span) };
  });

  connection.onDefinition((p): Definition | null => {
    const cur = current(p.textDocument.uri);
    if (!cur?.a.root) return null;
    const lines = cur.a.lines(cur.a.root.path);
    if (!lines) return null;
    const t = definitionAt(cur.a, cur.a.root, lines.offset(p.position));
    if (!t) return null;
    if ('file' in t) {
      const zero = { line: 0, character: 0 };
      return { uri: uris.toUri(t.file), range: { start: zero, end: zero } };
    }
    return location(resolver(cur.a), t.span) ?? null;
  });

  connection.onDocumentSymbol((p): DocumentSymbol[] | null => {
    const cur = current(p.textDocument.uri);
    if (!cur?.a.root) return null;
    return documentSymbols(cur.a.root, new LineIndex(cur.a.root.parse.source.text));
  });

  connection.onDocumentFormatting(async (p): Promise<TextEdit[] | null> => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return null;
    const text = doc.getText();
    let formatted: string;
    try {
      const { formatFm } = await loadFormatter();
      formatted = await formatFm(text, uris.display(uris.toPath(doc.uri)));
    } catch {
      return null; // syntax errors: the diagnostics already show them
    }
    if (formatted === text) return [];
    const lines = new LineIndex(text);
    return [{ range: lines.range({ start: 0, end: text.length }), newText: formatted }];
  });

  connection.onShutdown(() => lowering.dispose());

  documents.listen(connection);
  // Warm up while the client starts: checking the standard library once fills the parse
  // cache and compiles the checker, so the first real document checks faster.
  // One file per turn of the event loop, and none once a document is open, so a client's
  // first request waits for at most one of them.
  connection.onInitialized(() => {
    const files = ['math', 'nn', 'attention', 'conv', 'moe'];
    const next = () => {
      const f = files.shift();
      if (f === undefined || state.size > 0) return;
      analyze(path.join(STD_DIR, `${f}.fm`), nodeHost);
      setImmediate(next);
    };
    setImmediate(next);
  });

  connection.listen();
  return connection;
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

/** `fmc lsp`: serves on stdin/stdout until the client exits. */
export function runLsp(): Promise<never> {
  startServer();
  return new Promise<never>(() => undefined);
}
