// grammar/extension.js, the extension's hand-written LSP client, driven by a stand-in for
// the `vscode` API (only what the client uses): it starts the real `fmc lsp` (bin/fmc.js,
// so the build must exist), syncs a document and turns the server's answers into VS Code
// diagnostics, hovers, locations, symbols and edits.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(__dirname, '../..');

// ---------------------------------------------------------------- a stand-in for `vscode`

class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}
class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
}
class Location {
  constructor(
    readonly uri: Uri,
    readonly range: Range,
  ) {}
}
class Diagnostic {
  code: unknown;
  source: string | undefined;
  relatedInformation: DiagnosticRelatedInformation[] | undefined;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number,
  ) {}
}
class DiagnosticRelatedInformation {
  constructor(
    readonly location: Location,
    readonly message: string,
  ) {}
}
class MarkdownString {
  constructor(readonly value: string) {}
}
class Hover {
  constructor(
    readonly contents: MarkdownString,
    readonly range: Range | undefined,
  ) {}
}
class DocumentSymbol {
  children: DocumentSymbol[] = [];
  constructor(
    readonly name: string,
    readonly detail: string,
    readonly kind: number,
    readonly range: Range,
    readonly selectionRange: Range,
  ) {}
}
class CompletionItem {
  detail: string | undefined;
  sortText: string | undefined;
  filterText: string | undefined;
  insertText: string | undefined;
  range: Range | undefined;
  additionalTextEdits: { range: Range; newText: string }[] | undefined;
  constructor(
    readonly label: string | { label: string; description?: string },
    readonly kind: number | undefined,
  ) {}
}
class CompletionList {
  constructor(
    readonly items: CompletionItem[],
    readonly isIncomplete: boolean,
  ) {}
}
class SignatureHelp {
  signatures: SignatureInformation[] = [];
  activeSignature = 0;
  activeParameter = 0;
}
class SignatureInformation {
  parameters: ParameterInformation[] = [];
  constructor(
    readonly label: string,
    readonly documentation?: string,
  ) {}
}
class ParameterInformation {
  constructor(readonly label: string | [number, number]) {}
}
class InlayHint {
  constructor(
    readonly position: Position,
    readonly label: string,
    readonly kind?: number,
  ) {}
}
class WorkspaceEdit {
  readonly edits: { uri: string; range: Range; newText: string }[] = [];
  replace(uri: Uri, range: Range, newText: string): void {
    this.edits.push({ uri: uri.toString(), range, newText });
  }
}
class CodeAction {
  edit: WorkspaceEdit | undefined;
  isPreferred: boolean | undefined;
  diagnostics: unknown[] | undefined;
  constructor(
    readonly title: string,
    readonly kind: string,
  ) {}
}
class Uri {
  constructor(private readonly s: string) {}
  static parse(s: string): Uri {
    return new Uri(s);
  }
  static file(p: string): Uri {
    return new Uri(pathToFileURL(p).href);
  }
  get fsPath(): string {
    return fileURLToPath(this.s);
  }
  toString(): string {
    return this.s;
  }
}

type Listener<T> = (e: T) => void;
class Emitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
}

interface FakeDoc {
  uri: Uri;
  languageId: string;
  version: number;
  getText(): string;
}

const diagnostics = new Map<string, Diagnostic[]>();
const diagnosticWaiters: (() => void)[] = [];
const providers: Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> = {};
const opened = new Emitter<FakeDoc>();
const changed = new Emitter<{ document: FakeDoc; contentChanges: { range: Range; text: string }[] }>();
const closed = new Emitter<FakeDoc>();
const errors: string[] = [];
const textDocuments: FakeDoc[] = [];
let folder = '';

const token = { onCancellationRequested: () => ({ dispose() {} }) };
const register =
  (kind: string) => (_selector: unknown, provider: Record<string, (...a: unknown[]) => Promise<unknown>>) => {
    providers[kind] = provider;
    return { dispose() {} };
  };

const vscode = {
  Position,
  Range,
  Location,
  Diagnostic,
  DiagnosticRelatedInformation,
  MarkdownString,
  Hover,
  DocumentSymbol,
  Uri,
  CompletionItem,
  CompletionList,
  SignatureHelp,
  SignatureInformation,
  ParameterInformation,
  InlayHint,
  WorkspaceEdit,
  CodeAction,
  CodeActionKind: { QuickFix: 'quickfix' },
  TextEdit: { replace: (range: Range, newText: string) => ({ range, newText }) },
  workspace: {
    get workspaceFolders() {
      return [{ uri: Uri.file(folder), name: 'ws' }];
    },
    textDocuments,
    getConfiguration: () => ({
      get: (key: string, dflt: unknown) => (key === 'server.path' ? path.join(ROOT, 'bin', 'fmc.js') : dflt),
    }),
    onDidOpenTextDocument: opened.event,
    onDidChangeTextDocument: changed.event,
    onDidCloseTextDocument: closed.event,
  },
  languages: {
    createDiagnosticCollection: () => ({
      set: (uri: Uri, ds: Diagnostic[]) => {
        diagnostics.set(uri.toString(), ds);
        for (const w of diagnosticWaiters.splice(0)) w();
      },
      delete: (uri: Uri) => diagnostics.delete(uri.toString()),
      clear: () => diagnostics.clear(),
      dispose() {},
    }),
    registerHoverProvider: register('hover'),
    registerDefinitionProvider: register('definition'),
    registerDocumentSymbolProvider: register('symbols'),
    registerDocumentFormattingEditProvider: register('formatting'),
    registerCompletionItemProvider: register('completion'),
    registerSignatureHelpProvider: register('signature'),
    registerInlayHintsProvider: register('inlay'),
    registerReferenceProvider: register('references'),
    registerRenameProvider: register('rename'),
    registerCodeActionsProvider: register('actions'),
  },
  window: {
    createOutputChannel: () => ({ append() {}, appendLine() {}, dispose() {} }),
    showErrorMessage: (m: string) => void errors.push(m),
    showInformationMessage: () => undefined,
  },
  commands: { registerCommand: () => ({ dispose() {} }) },
};

/** Waits until the diagnostics of `uri` satisfy `pred`. */
async function diagnosticsOf(uri: string, pred: (ds: Diagnostic[]) => boolean): Promise<Diagnostic[]> {
  for (let i = 0; i < 400; i++) {
    const ds = diagnostics.get(uri);
    if (ds && pred(ds)) return ds;
    await new Promise<void>((resolve) => {
      diagnosticWaiters.push(resolve);
      setTimeout(resolve, 100);
    });
  }
  throw new Error(`no matching diagnostics for ${uri}: ${JSON.stringify(diagnostics.get(uri))}`);
}

// ---------------------------------------------------------------- the test

const BROKEN = `import { Linear } from "std/nn"

block Twice(d: int) {
  up = Linear(d, 2 * d)
  fn forward(x: f32[B, d]) -> f32[B, d] {
    let y = up(x)
    return   up(y)
  }
}
`;

describe('the VS Code extension client (grammar/extension.js)', () => {
  let ext: { activate(c: unknown): unknown; deactivate(): Promise<void> | undefined };
  let doc: FakeDoc;
  let text = BROKEN;

  beforeAll(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-ext-'));
    const file = path.join(folder, 'twice.fm');
    fs.writeFileSync(file, BROKEN);
    doc = { uri: Uri.file(file), languageId: 'fm', version: 1, getText: () => text };
    textDocuments.push(doc);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Module = require('node:module') as { _load: (req: string, ...rest: unknown[]) => unknown };
    const load = Module._load;
    Module._load = function (req: string, ...rest: unknown[]) {
      return req === 'vscode' ? vscode : load.call(this, req, ...rest);
    };
    try {
      ext = require(path.join(ROOT, 'grammar', 'extension.js')) as typeof ext;
    } finally {
      Module._load = load;
    }
    ext.activate({ subscriptions: [] });
  });

  afterAll(async () => {
    await ext.deactivate();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('starts the server and shows its diagnostics for open documents', async () => {
    const ds = await diagnosticsOf(doc.uri.toString(), (x) => x.length > 0);
    expect(errors).toEqual([]);
    const code = (d: Diagnostic) => d.code as { value: string; target: Uri };
    expect(ds.map((d) => [code(d).value, d.source, d.severity, d.range.start.line, d.range.start.character])).toEqual([
      ['FM0422', 'fmc', 0, 6, 16], // the `y` of `up(y)`
    ]);
    // The code links to its section of docs/diagnostics.md.
    expect(code(ds[0]!).target.toString()).toBe(
      `${pathToFileURL(path.join(ROOT, 'docs', 'diagnostics.md')).href}#dtypes-and-shapes`,
    );
    expect(ds[0]!.relatedInformation?.[0]?.location.uri.toString()).toBe(doc.uri.toString());
  });

  it('sends edits and clears the diagnostics when they are fixed', async () => {
    text = BROKEN.replace('return   up(y)', 'return   y[:, :d]');
    doc.version = 2;
    changed.fire({
      document: doc,
      contentChanges: [{ range: new Range(new Position(6, 13), new Position(6, 18)), text: 'y[:, :d]' }],
    });
    expect(await diagnosticsOf(doc.uri.toString(), (x) => x.length === 0)).toEqual([]);
  });

  it('provides hovers, definitions, symbols and formatting', async () => {
    const h = (await providers.hover!.provideHover!(doc, new Position(5, 8), token)) as Hover;
    expect(h.contents.value).toContain('(let) y: f32[B, 2*d]');
    expect(h.range).toEqual(new Range(new Position(5, 8), new Position(5, 9)));

    const d = (await providers.definition!.provideDefinition!(doc, new Position(6, 13), token)) as Location;
    expect(d.uri.toString()).toBe(doc.uri.toString());
    expect(d.range.start).toEqual(new Position(5, 8));

    const syms = (await providers.symbols!.provideDocumentSymbols!(doc, token)) as DocumentSymbol[];
    expect(syms.map((s) => [s.name, s.kind, s.children.map((c) => c.name)])).toEqual([
      ['Twice', 4, ['d', 'up', 'forward']], // SymbolKind.Class is 4 in VS Code (5 in LSP)
    ]);

    const edits = (await providers.formatting!.provideDocumentFormattingEdits!(
      doc,
      { tabSize: 2, insertSpaces: true },
      token,
    )) as { range: Range; newText: string }[];
    expect(edits).toHaveLength(1);
    expect(edits[0]!.newText).toContain('    return y[:, :d]\n');
  });

  it('provides completion, signature help, inlay hints, references, rename and quick fixes', async () => {
    // `text` is the fixed version: `let y = up(x)` on line 5, `return   y[:, :d]` on line 6.
    const list = (await providers.completion!.provideCompletionItems!(
      doc,
      new Position(6, 13),
      token,
    )) as CompletionList;
    const y = list.items.find((i) => i.label === 'y')!;
    expect([y.kind, y.detail, y.insertText]).toEqual([5, '(let) y: f32[B, 2*d]', 'y']); // Variable is 5 in VS Code
    const std = list.items.find((i) => typeof i.label === 'object' && i.label.label === 'LayerNorm')!;
    expect(std.label).toEqual({ label: 'LayerNorm', description: 'std/nn' });
    expect(std.additionalTextEdits?.map((e) => e.newText)).toEqual([', LayerNorm']);

    const help = (await providers.signature!.provideSignatureHelp!(doc, new Position(3, 14), token)) as SignatureHelp;
    expect(help.signatures[0]!.label).toBe('block Linear(in_dim: int, out_dim: int, bias: bool = true)');
    expect(help.activeParameter).toBe(0);

    const hints = (await providers.inlay!.provideInlayHints!(
      doc,
      new Range(new Position(0, 0), new Position(9, 0)),
      token,
    )) as InlayHint[];
    expect(hints.map((h) => [h.position.line, h.position.character, h.label])).toEqual([[5, 9, ': f32[B, 2*d]']]);

    const refs = (await providers.references!.provideReferences!(
      doc,
      new Position(5, 8),
      { includeDeclaration: true },
      token,
    )) as Location[];
    expect(refs.map((l) => [l.range.start.line, l.range.start.character])).toEqual([
      [5, 8],
      [6, 13],
    ]);
    const prepared = (await providers.rename!.prepareRename!(doc, new Position(6, 13), token)) as {
      placeholder: string;
    };
    expect(prepared.placeholder).toBe('y');
    const edit = (await providers.rename!.provideRenameEdits!(
      doc,
      new Position(6, 13),
      'hidden',
      token,
    )) as WorkspaceEdit;
    expect(edit.edits.map((e) => [e.range.start.line, e.range.start.character, e.newText])).toEqual([
      [5, 8, 'hidden'],
      [6, 13, 'hidden'],
    ]);
    await expect(providers.rename!.provideRenameEdits!(doc, new Position(6, 13), 'let', token)).rejects.toThrow(
      /`let` is a keyword/,
    );
  });

  it('offers the quick fix of a did-you-mean', async () => {
    text = BROKEN.replace('return   up(y)', 'return   up(yy)');
    doc.version = 3;
    changed.fire({
      document: doc,
      contentChanges: [{ range: new Range(new Position(0, 0), new Position(9, 0)), text }],
    });
    const ds = await diagnosticsOf(doc.uri.toString(), (x) =>
      x.some((d) => (d.code as { value: string }).value === 'FM0200'),
    );
    const actions = (await providers.actions!.provideCodeActions!(
      doc,
      ds[0]!.range,
      { diagnostics: ds },
      token,
    )) as CodeAction[];
    expect(actions.map((a) => [a.title, a.kind, a.edit?.edits.map((e) => e.newText), a.diagnostics?.length])).toEqual([
      ['Change `yy` to `y`', 'quickfix', ['y'], 1],
    ]);
  });
});
