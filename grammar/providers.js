// The editor features of the fm extension, forwarded to the language server: conversions
// between LSP values and VS Code's, and the providers (hover, definition, outline,
// formatting, completion, signature help, inlay hints, references, rename, quick fixes).
// `client.request(method, params, token)` sends a request once the server is ready.

'use strict';

const vscode = require('vscode');

const SELECTOR = { language: 'fm' };

const toPosition = (p) => new vscode.Position(p.line, p.character);
const toRange = (r) => new vscode.Range(toPosition(r.start), toPosition(r.end));
const fromPosition = (p) => ({ line: p.line, character: p.character });
const fromRange = (r) => ({ start: fromPosition(r.start), end: fromPosition(r.end) });
const toLocation = (l) => new vscode.Location(vscode.Uri.parse(l.uri), toRange(l.range));
const toEdit = (e) => vscode.TextEdit.replace(toRange(e.range), e.newText);

function toDiagnostic(d) {
  const severity = [undefined, 0, 1, 2, 3][d.severity || 1];
  const out = new vscode.Diagnostic(toRange(d.range), d.message, severity);
  if (d.code !== undefined)
    out.code = d.codeDescription ? { value: d.code, target: vscode.Uri.parse(d.codeDescription.href) } : d.code;
  if (d.source) out.source = d.source;
  if (d.relatedInformation) {
    out.relatedInformation = d.relatedInformation.map(
      (r) => new vscode.DiagnosticRelatedInformation(toLocation(r.location), r.message),
    );
  }
  return out;
}

function toSymbol(s) {
  const sym = new vscode.DocumentSymbol(
    s.name,
    s.detail || '',
    s.kind - 1,
    toRange(s.range),
    toRange(s.selectionRange),
  );
  sym.children = (s.children || []).map(toSymbol);
  return sym;
}

function toCompletion(c) {
  const label = c.labelDetails ? { label: c.label, description: c.labelDetails.description } : c.label;
  const item = new vscode.CompletionItem(label, c.kind === undefined ? undefined : c.kind - 1);
  item.detail = c.detail;
  item.sortText = c.sortText;
  item.filterText = c.filterText;
  if (c.textEdit) {
    item.insertText = c.textEdit.newText;
    item.range = toRange(c.textEdit.range);
  }
  if (c.additionalTextEdits) item.additionalTextEdits = c.additionalTextEdits.map(toEdit);
  return item;
}

function toSignatureHelp(h) {
  const help = new vscode.SignatureHelp();
  help.signatures = h.signatures.map((s) => {
    const info = new vscode.SignatureInformation(s.label, s.documentation);
    info.parameters = (s.parameters || []).map((p) => new vscode.ParameterInformation(p.label));
    return info;
  });
  help.activeSignature = h.activeSignature || 0;
  help.activeParameter = h.activeParameter || 0;
  return help;
}

function toWorkspaceEdit(w) {
  const edit = new vscode.WorkspaceEdit();
  for (const [uri, edits] of Object.entries(w.changes || {}))
    for (const e of edits) edit.replace(vscode.Uri.parse(uri), toRange(e.range), e.newText);
  return edit;
}

const textDocument = (doc) => ({ uri: doc.uri.toString() });
const at = (doc, pos) => ({ textDocument: textDocument(doc), position: fromPosition(pos) });

/** Registers every provider; returns their disposables (a provider the VS Code API lacks is skipped). */
function registerProviders(client) {
  const ask = (method, params, token) => client.request(method, params, token);
  const register = (name, ...args) =>
    typeof vscode.languages[name] === 'function' ? vscode.languages[name](SELECTOR, ...args) : undefined;
  return [
    register('registerHoverProvider', {
      provideHover: (doc, pos, token) =>
        ask('textDocument/hover', at(doc, pos), token).then(
          (h) => h && new vscode.Hover(new vscode.MarkdownString(h.contents.value), h.range && toRange(h.range)),
        ),
    }),
    register('registerDefinitionProvider', {
      provideDefinition: (doc, pos, token) =>
        ask('textDocument/definition', at(doc, pos), token).then((d) =>
          d ? (Array.isArray(d) ? d.map(toLocation) : toLocation(d)) : undefined,
        ),
    }),
    register('registerDocumentSymbolProvider', {
      provideDocumentSymbols: (doc, token) =>
        ask('textDocument/documentSymbol', { textDocument: textDocument(doc) }, token).then((s) =>
          (s || []).map(toSymbol),
        ),
    }),
    register('registerDocumentFormattingEditProvider', {
      provideDocumentFormattingEdits: (doc, options, token) =>
        ask(
          'textDocument/formatting',
          {
            textDocument: textDocument(doc),
            options: { tabSize: options.tabSize, insertSpaces: options.insertSpaces },
          },
          token,
        ).then((edits) => (edits || []).map(toEdit)),
    }),
    register(
      'registerCompletionItemProvider',
      {
        provideCompletionItems: (doc, pos, token) =>
          ask('textDocument/completion', at(doc, pos), token).then(
            (list) => list && new vscode.CompletionList(list.items.map(toCompletion), list.isIncomplete),
          ),
      },
      '.',
      '[',
      '(',
      ',',
    ),
    register(
      'registerSignatureHelpProvider',
      {
        provideSignatureHelp: (doc, pos, token) =>
          ask('textDocument/signatureHelp', at(doc, pos), token).then((h) => h && toSignatureHelp(h)),
      },
      { triggerCharacters: ['(', ','], retriggerCharacters: [','] },
    ),
    register('registerInlayHintsProvider', {
      provideInlayHints: (doc, range, token) =>
        ask('textDocument/inlayHint', { textDocument: textDocument(doc), range: fromRange(range) }, token).then(
          (hints) => (hints || []).map((h) => new vscode.InlayHint(toPosition(h.position), h.label, h.kind)),
        ),
    }),
    register('registerReferenceProvider', {
      provideReferences: (doc, pos, context, token) =>
        ask('textDocument/references', { ...at(doc, pos), context }, token).then((ls) => (ls || []).map(toLocation)),
    }),
    register('registerRenameProvider', {
      prepareRename: (doc, pos, token) =>
        ask('textDocument/prepareRename', at(doc, pos), token).then((r) => {
          if (!r) throw new Error('there is no name here that can be renamed');
          return { range: toRange(r.range), placeholder: r.placeholder };
        }),
      provideRenameEdits: (doc, pos, newName, token) =>
        ask('textDocument/rename', { ...at(doc, pos), newName }, token).then((w) => w && toWorkspaceEdit(w)),
    }),
    register(
      'registerCodeActionsProvider',
      {
        provideCodeActions: (doc, range, context, token) =>
          ask(
            'textDocument/codeAction',
            { textDocument: textDocument(doc), range: fromRange(range), context: { diagnostics: [] } },
            token,
          ).then((actions) =>
            (actions || []).map((a) => {
              const action = new vscode.CodeAction(a.title, vscode.CodeActionKind.QuickFix);
              if (a.edit) action.edit = toWorkspaceEdit(a.edit);
              action.isPreferred = a.isPreferred;
              const codes = new Set((a.diagnostics || []).map((d) => d.code));
              action.diagnostics = (context.diagnostics || []).filter((d) =>
                codes.has(typeof d.code === 'object' ? d.code.value : d.code),
              );
              return action;
            }),
          ),
      },
      { providedCodeActionKinds: vscode.CodeActionKind ? [vscode.CodeActionKind.QuickFix] : [] },
    ),
  ].filter((d) => d !== undefined);
}

/** What the client tells the server it supports. */
const CLIENT_CAPABILITIES = {
  textDocument: {
    synchronization: { dynamicRegistration: false },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true },
    documentSymbol: { hierarchicalDocumentSymbolSupport: true },
    completion: { completionItem: { labelDetailsSupport: true } },
    signatureHelp: { signatureInformation: { parameterInformation: { labelOffsetSupport: true } } },
    inlayHint: {},
    references: {},
    rename: { prepareSupport: true },
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } },
  },
};

module.exports = { registerProviders, toDiagnostic, fromRange, CLIENT_CAPABILITIES };
