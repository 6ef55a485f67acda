// The .fm language server (`fmc lsp`): JSON-RPC over stdio with vscode-languageserver.
// Diagnostics on open and change, hover, go to definition, document symbols, formatting,
// completion, signature help, inlay hints, references, rename and quick fixes, all from the
// compiler's own parser, checker and formatter.
//
// Each open document is checked as a root file with the other open documents read from
// memory (so an unsaved edit to an imported file is seen), on a worker thread of its own
// (check-worker.ts) that keeps the Analysis and answers the hovers, definitions and outlines
// that read it. A check runs at most once per text: a change schedules it (debounced), a
// request that arrives first runs it then. A check of an older text that has run a while is
// cancelled by an edit, and one that runs past a time limit is stopped, with a diagnostic, so
// that one pathological document never holds up the others. The input is re-framed by
// framing.ts, which skips malformed frames to the next valid header.
//
// After a document checks clean and declares a model, its models' `forward` is lowered on a
// worker thread (lowering.ts) some time after the check, for the FLOPs in hovers on child
// blocks. The result is kept with the Analysis it was made for: a hover shows FLOPs only
// when they belong to the analysis it reads, and never waits for them.

import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type CodeAction,
  CodeActionKind,
  type CompletionList,
  createConnection,
  type Connection,
  type Definition,
  type Diagnostic as LspDiagnostic,
  DiagnosticSeverity,
  type DocumentSymbol,
  ErrorCodes,
  type Hover,
  type InitializeResult,
  type InlayHint,
  type Location,
  ProposedFeatures,
  type Range,
  ResponseError,
  type SignatureHelp,
  type TextEdit,
  TextDocuments,
  TextDocumentSyncKind,
  type WorkspaceEdit,
} from 'vscode-languageserver/node.js';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CheckReply, FromWorker, Query, ToWorker } from './check-worker.js';
import { LineIndex, Uris } from './convert.js';
import { flopsText } from './flops.js';
import { FrameSanitizer } from './framing.js';
import { BackgroundLowering } from './lowering.js';

/** How long edits are collected before a check runs (a request runs it at once). */
const DEBOUNCE_MS = 30;
/** How long after a clean check the lowering for FLOPs starts (typing on postpones it). */
const LOWER_DELAY_MS = 1000;
/**
 * A check of an older text that has run this long is cancelled by an edit (its worker is
 * terminated and a fresh one checks the new text); a shorter one finishes first, since a
 * fresh worker costs more than that.
 */
const CANCEL_AFTER_MS = 300;
/** A check that runs longer than this is stopped, with a diagnostic saying so ($FMC_LSP_CHECK_LIMIT_MS). */
const CHECK_LIMIT_MS =
  Number(process.env.FMC_LSP_CHECK_LIMIT_MS) > 0 ? Number(process.env.FMC_LSP_CHECK_LIMIT_MS) : 20_000;
/** The heap of one document's checker (a runaway check fails alone, not the server). */
const WORKER_HEAP_MB = 2048;

interface Pending {
  readonly id: number;
  readonly query: Query;
  /** With the result, or with the message of a refusal. */
  readonly resolve: (result: unknown, error?: string) => void;
}

/** One open document: its text's generation, its checker thread and the requests waiting on it. */
interface Doc {
  readonly uri: string;
  /** Bumped on every change of the text or of an open file its last check read. */
  gen: number;
  /** The client's version of the current text. */
  version: number;
  worker: Worker | undefined;
  /** The check the worker is running. */
  checking: { gen: number; started: number; limit: NodeJS.Timeout | undefined } | undefined;
  /** The generation of the worker's analysis (-1: none). */
  checkedGen: number;
  /** The generation whose check was stopped (too slow, or the worker died): not retried. */
  failedGen: number;
  /** The last check's reply (for dependents and FLOPs). */
  result: CheckReply | undefined;
  /** Requests not yet sent to the worker, and those it holds (sent again if it is replaced). */
  waiting: Pending[];
  readonly posted: Map<number, Pending>;
  timer: NodeJS.Timeout | undefined;
  lowerTimer: NodeJS.Timeout | undefined;
}

/**
 * Serves one client on the given streams (stdin/stdout for `fmc lsp`). Each open document is
 * checked on its own worker thread (check-worker.ts), which keeps its analysis and answers
 * hovers, definitions and outlines from it: a document whose check takes seconds delays only
 * its own requests, an edit cancels its stale check, and a check over CHECK_LIMIT_MS is stopped.
 */
export function startServer(input: Readable = process.stdin, output: Writable = process.stdout): Connection {
  let log: (message: string) => void = () => undefined;
  const frames = new FrameSanitizer((why) => log(`fmc lsp: bad input: ${why}`));
  input.pipe(frames);
  const connection = createConnection(ProposedFeatures.all, frames, output);
  log = (m) => connection.console.log(m);
  const documents = new TextDocuments(TextDocument);
  const docs = new Map<string, Doc>();
  let uris = new Uris(process.cwd());
  let nextId = 1;
  const workerUrl = new URL('./check-worker.js', import.meta.url);
  const owners = new Map<Worker, Doc>();
  /** Workers done warming up. */
  const ready = new WeakSet<Worker>();
  let spare: Worker | undefined;

  const lowering = new BackgroundLowering<string>(new URL('./lower-worker.js', import.meta.url), log);

  const newWorker = (): Worker => {
    // stdout and stderr are piped here, never to the process's stdout (the LSP channel).
    const w = new Worker(workerUrl, {
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    w.unref();
    const forward = (d: Buffer) => log(`checker: ${d.toString().trimEnd()}`);
    w.stdout.on('data', forward);
    w.stderr.on('data', forward);
    w.on('message', (m: FromWorker) => onWorkerMessage(w, m));
    w.on('error', (e) => log(`checker failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
    w.on('exit', (code) => onWorkerExit(w, code));
    return w;
  };

  /** A worker for `doc`: the warmed spare when there is one (and a new spare behind it). */
  const takeWorker = (doc: Doc): Worker => {
    const w = spare ?? newWorker();
    spare = newWorker();
    owners.set(w, doc);
    return w;
  };

  const stopWorker = (doc: Doc) => {
    const w = doc.worker;
    doc.worker = undefined;
    if (doc.checking) clearTimeout(doc.checking.limit);
    doc.checking = undefined;
    doc.checkedGen = -1;
    // The requests it held are sent again, after the check of the new worker.
    doc.waiting = [...doc.posted.values(), ...doc.waiting];
    doc.posted.clear();
    if (w) {
      owners.delete(w);
      void w.terminate();
    }
  };

  const filesNow = () => documents.all().map((d) => [d.uri, d.getText()] as const);

  /**
   * Sends what the document needs next: a check of its current text when it is stale and
   * `force` (its debounce ran out) or a request waits, then the waiting requests, which the
   * worker answers after that check.
   */
  const pump = (doc: Doc, force = false) => {
    if (docs.get(doc.uri) !== doc) return;
    if (doc.checking && doc.checking.gen !== doc.gen) return; // a reply comes, then the new text
    const stale = doc.checkedGen !== doc.gen && !doc.checking;
    if (stale && doc.failedGen === doc.gen) {
      for (const p of doc.waiting.splice(0)) p.resolve(null);
      return;
    }
    if (stale && (force || doc.waiting.length > 0)) {
      if (doc.timer) clearTimeout(doc.timer);
      doc.timer = undefined;
      doc.worker ??= takeWorker(doc);
      doc.checking = { gen: doc.gen, started: performance.now(), limit: undefined };
      if (ready.has(doc.worker)) startClock(doc);
      post(doc, { type: 'check', gen: doc.gen, uri: doc.uri, root: uris.root, files: filesNow() });
    }
    if (doc.checkedGen !== doc.gen && !doc.checking) return; // debouncing: requests wait for it
    for (const p of doc.waiting.splice(0)) {
      doc.posted.set(p.id, p);
      post(doc, { type: 'query', id: p.id, query: p.query });
    }
  };

  /** The time limit of the running check counts from when its worker is ready (warmed up). */
  const startClock = (doc: Doc) => {
    const c = doc.checking;
    if (!c || c.limit) return;
    c.started = performance.now();
    c.limit = setTimeout(() => giveUp(doc, c.gen, `took over ${CHECK_LIMIT_MS / 1000} s`), CHECK_LIMIT_MS);
    c.limit.unref();
  };

  const post = (doc: Doc, m: ToWorker) => {
    doc.worker ??= takeWorker(doc);
    doc.worker.postMessage(m);
  };

  /** Stops the check of generation `gen` (too slow, or its worker died) and says so. */
  const giveUp = (doc: Doc, gen: number, why: string) => {
    if (docs.get(doc.uri) !== doc || doc.checking?.gen !== gen) return;
    log(`checking ${doc.uri} (version ${doc.version}) stopped: it ${why}`);
    stopWorker(doc);
    doc.failedGen = gen;
    for (const p of doc.waiting.splice(0)) p.resolve(null);
    if (gen === doc.gen) {
      const zero = { line: 0, character: 0 };
      const diagnostic: LspDiagnostic = {
        range: { start: zero, end: zero },
        severity: DiagnosticSeverity.Warning,
        source: 'fmc',
        message: `fmc stopped checking this file: the check ${why} (run \`fmc check\` on it for the full result)`,
      };
      void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: [diagnostic] });
    }
    pump(doc);
  };

  const onWorkerExit = (w: Worker, code: number) => {
    if (spare === w) spare = undefined;
    const doc = owners.get(w);
    owners.delete(w);
    if (!doc || doc.worker !== w) return;
    log(`checker of ${doc.uri} exited (code ${code})`);
    const gen = doc.checking?.gen ?? doc.gen;
    if (doc.checking) giveUp(doc, gen, `ran out of resources (its thread exited with code ${code})`);
    else {
      stopWorker(doc);
      pump(doc);
    }
  };

  const onWorkerMessage = (w: Worker, m: FromWorker) => {
    const doc = owners.get(w);
    if (m.type === 'error') log(`checker: ${m.message}`);
    if (m.type === 'ready') {
      ready.add(w);
      if (doc?.worker === w) startClock(doc);
      return;
    }
    if (!doc || doc.worker !== w || docs.get(doc.uri) !== doc) return;
    if (m.type === 'answer') {
      const p = doc.posted.get(m.id);
      doc.posted.delete(m.id);
      p?.resolve(m.result, m.error);
    } else if (m.type === 'checked') {
      if (doc.checking) clearTimeout(doc.checking.limit);
      doc.checking = undefined;
      doc.checkedGen = m.gen;
      log(
        `checked ${m.display ?? doc.uri} (version ${doc.version}${m.gen === doc.gen ? '' : ', stale'}) in ${m.ms.toFixed(1)} ms (cpu ${m.cpuMs.toFixed(1)} ms)`,
      );
      if (m.gen === doc.gen) {
        doc.result = m;
        void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: m.diagnostics });
        lowerLater(doc, m);
        if (!formatter) setTimeout(() => void loadFormatter(), 200);
      }
      pump(doc, true);
    }
  };

  /**
   * After a new check: the document's running or queued lowering is stale (cancelled); when
   * the check is clean and the file declares a model, a lowering of the models' `forward` is
   * queued after LOWER_DELAY_MS, unless the text changes by then. Its FLOPs go to the
   * document's worker, for the hovers of that check.
   */
  const lowerLater = (doc: Doc, r: CheckReply) => {
    if (doc.lowerTimer) clearTimeout(doc.lowerTimer);
    doc.lowerTimer = undefined;
    lowering.cancel(doc.uri);
    const job = r.lower;
    if (!job) return;
    const fresh = () => docs.get(doc.uri) === doc && doc.gen === r.gen && doc.checkedGen === r.gen;
    doc.lowerTimer = setTimeout(() => {
      doc.lowerTimer = undefined;
      if (!fresh()) return;
      const files = documents.all().map((d) => [uris.toPath(d.uri), d.getText()] as const);
      const t0 = performance.now();
      const version = doc.version;
      lowering.submit(doc.uri, { abs: job.abs, root: uris.root, models: job.models, files }, (result) => {
        const ok = fresh();
        for (const m of result) {
          const total = m.byPath?.get('');
          const what = total ? `FLOPs ${flopsText(total)}` : `no FLOPs: ${m.error ?? '?'}`;
          log(
            `lowered ${r.display ?? doc.uri} ${m.model}.${m.fn} (version ${version}${ok ? '' : ', stale: dropped'}) in ${m.ms.toFixed(1)} ms, ${(performance.now() - t0).toFixed(1)} ms after the request; ${what}`,
          );
        }
        if (ok) post(doc, { type: 'flops', gen: r.gen, models: result });
      });
    }, LOWER_DELAY_MS);
  };

  /** Answers `query` from the analysis of the document's current text (a refusal rejects). */
  const ask = <T>(uri: string, query: Query): Promise<T | null> => {
    const doc = docs.get(uri);
    if (!doc) return Promise.resolve(null);
    return new Promise<T | null>((resolve, reject) => {
      const done = (r: unknown, error?: string) =>
        error === undefined ? resolve(r as T | null) : reject(new ResponseError(ErrorCodes.InvalidRequest, error));
      doc.waiting.push({ id: nextId++, query, resolve: done });
      pump(doc);
    });
  };

  // The formatter (prettier) takes a while to load: load it when idle after the first check.
  let formatter: Promise<typeof import('../format/format.js')> | undefined;
  const loadFormatter = () => (formatter ??= import('../format/format.js'));

  const schedule = (doc: Doc, delay = DEBOUNCE_MS) => {
    if (doc.timer) clearTimeout(doc.timer);
    doc.timer = setTimeout(() => {
      doc.timer = undefined;
      pump(doc, true);
    }, delay);
  };

  /** The document's text (or an open file its last check read) changed: its check is stale. */
  const invalidate = (doc: Doc, delay: number) => {
    doc.gen++;
    if (doc.lowerTimer) clearTimeout(doc.lowerTimer);
    doc.lowerTimer = undefined;
    lowering.cancel(doc.uri);
    cancelStale(doc);
    schedule(doc, delay);
  };

  /**
   * A check of an older text is cancelled once it has run CANCEL_AFTER_MS (a fresh worker
   * then checks the new text); a younger one gets the rest of that time to finish.
   */
  const cancelStale = (doc: Doc) => {
    const c = doc.checking;
    if (!c || c.gen === doc.gen || docs.get(doc.uri) !== doc) return;
    const left = c.limit ? CANCEL_AFTER_MS - (performance.now() - c.started) : CANCEL_AFTER_MS;
    if (left > 0) {
      setTimeout(() => cancelStale(doc), left).unref();
      return;
    }
    log(`checking ${doc.uri} cancelled: the text changed`);
    stopWorker(doc);
    pump(doc, true);
  };

  /**
   * Other open documents whose last check read `uri`'s file, or could not find an import
   * (FM0202: the document may be the missing file): their results are stale now.
   */
  const dependents = (uri: string): Doc[] => {
    const abs = uris.toPath(uri);
    return [...docs.values()].filter(
      (d) => d.uri !== uri && (d.result?.files.includes(abs) || d.result?.missingImport),
    );
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
        completionProvider: { triggerCharacters: ['.', '[', '(', ','] },
        signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [','] },
        inlayHintProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: 'fmc', version: '0.1.0' },
    };
  });

  documents.onDidChangeContent((e) => {
    // Clients may repeat or reuse version numbers: any change makes the last check stale.
    const uri = e.document.uri;
    let doc = docs.get(uri);
    const checkedBefore = doc?.result !== undefined;
    if (!doc) {
      doc = {
        uri,
        gen: 0,
        version: e.document.version,
        worker: undefined,
        checking: undefined,
        checkedGen: -1,
        failedGen: -1,
        result: undefined,
        waiting: [],
        posted: new Map(),
        timer: undefined,
        lowerTimer: undefined,
      };
      docs.set(uri, doc);
      doc.worker = takeWorker(doc);
    }
    doc.version = e.document.version;
    invalidate(doc, checkedBefore ? DEBOUNCE_MS : 0);
    for (const d of dependents(uri)) invalidate(d, DEBOUNCE_MS);
  });

  documents.onDidClose((e) => {
    const doc = docs.get(e.document.uri);
    const deps = dependents(e.document.uri);
    if (doc) {
      if (doc.timer) clearTimeout(doc.timer);
      if (doc.lowerTimer) clearTimeout(doc.lowerTimer);
      stopWorker(doc);
      for (const p of doc.waiting.splice(0)) p.resolve(null);
      docs.delete(e.document.uri);
    }
    lowering.cancel(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    // Those that imported it now read it from disk.
    for (const d of deps) invalidate(d, DEBOUNCE_MS);
  });

  connection.onHover((p) => ask<Hover>(p.textDocument.uri, { method: 'hover', position: p.position }));
  connection.onDefinition((p) => ask<Definition>(p.textDocument.uri, { method: 'definition', position: p.position }));
  connection.onDocumentSymbol((p) => ask<DocumentSymbol[]>(p.textDocument.uri, { method: 'symbols' }));
  connection.onCompletion((p) =>
    ask<CompletionList>(p.textDocument.uri, { method: 'completion', position: p.position }),
  );
  connection.onSignatureHelp((p) =>
    ask<SignatureHelp>(p.textDocument.uri, { method: 'signature', position: p.position }),
  );
  connection.languages.inlayHint.on((p) => ask<InlayHint[]>(p.textDocument.uri, { method: 'inlay', range: p.range }));
  connection.onReferences((p) =>
    ask<Location[]>(p.textDocument.uri, {
      method: 'references',
      position: p.position,
      includeDeclaration: p.context.includeDeclaration,
    }),
  );
  connection.onPrepareRename((p) =>
    ask<{ range: Range; placeholder: string }>(p.textDocument.uri, { method: 'prepareRename', position: p.position }),
  );
  connection.onRenameRequest((p) =>
    ask<WorkspaceEdit>(p.textDocument.uri, { method: 'rename', position: p.position, newName: p.newName }),
  );
  connection.onCodeAction((p) => ask<CodeAction[]>(p.textDocument.uri, { method: 'actions', range: p.range }));

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

  connection.onShutdown(() => {
    lowering.dispose();
    for (const doc of docs.values()) stopWorker(doc);
    if (spare) void spare.terminate();
    spare = undefined;
  });

  documents.listen(connection);
  // Start a checker while the client starts: it warms up on the standard library, so the
  // first document opened is checked by a warm worker.
  connection.onInitialized(() => {
    spare ??= newWorker();
  });

  connection.listen();
  return connection;
}

/** `fmc lsp`: serves on stdin/stdout until the client exits. */
export function runLsp(): Promise<never> {
  startServer();
  return new Promise<never>(() => undefined);
}
