// The VS Code side of the .fm language server: starts `fmc lsp` and connects it to the
// editor. It is a small hand-written LSP client (JSON-RPC with Content-Length framing over
// the server's stdin/stdout) covering what the server offers: document sync, diagnostics,
// and the providers of providers.js. It has no dependencies, so the extension packages
// offline and needs no `npm install`.
//
// Which server: the `fm.server.path` setting (an `fmc` executable, or a `.js` file run
// with VS Code's own Node), else `node_modules/.bin/fmc` or `bin/fmc.js` in a workspace
// folder (the project's own fmc), else the server bundled in the package (server/fmc.js,
// written by scripts/package-vscode.mjs, run with VS Code's own Node), else `fmc` on the PATH.

'use strict';

const cp = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const { CLIENT_CAPABILITIES, fromRange, registerProviders, toDiagnostic } = require('./providers.js');

/** Finds the server command: [command, args, options]. */
function serverCommand() {
  const config = vscode.workspace.getConfiguration('fm');
  const args = config.get('server.args', ['lsp']);
  let exe = config.get('server.path', '');
  if (!exe) {
    for (const f of vscode.workspace.workspaceFolders || []) {
      const root = f.uri.fsPath;
      const bin = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'fmc.cmd' : 'fmc');
      const repo = path.join(root, 'bin', 'fmc.js');
      if (fs.existsSync(bin)) exe = bin;
      else if (fs.existsSync(repo) && fs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) exe = repo;
      if (exe) break;
    }
  }
  if (!exe) {
    const bundled = path.join(__dirname, 'server', 'fmc.js');
    exe = fs.existsSync(bundled) ? bundled : 'fmc';
  }
  if (exe.endsWith('.js')) {
    // VS Code's own executable runs JavaScript as Node with ELECTRON_RUN_AS_NODE.
    return [process.execPath, [exe, ...args], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } }];
  }
  return [exe, args, { shell: process.platform === 'win32' }];
}

/** JSON-RPC 2.0 over a child process's stdio. */
class Connection {
  constructor(proc, log) {
    this.proc = proc;
    this.log = log;
    this.buffer = Buffer.alloc(0);
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Map();
    proc.stdout.on('data', (d) => this.receive(d));
    proc.stderr.on('data', (d) => log.append(d.toString()));
  }

  receive(data) {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const match = /Content-Length: *(\d+)/i.exec(this.buffer.subarray(0, end).toString('ascii'));
      const length = match ? Number(match[1]) : 0;
      if (this.buffer.length < end + 4 + length) return;
      const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(end + 4 + length);
      let msg;
      try {
        msg = JSON.parse(body);
      } catch (e) {
        this.log.appendLine(`fm: bad message from the server: ${e}`);
        continue;
      }
      this.dispatch(msg);
    }
  }

  dispatch(msg) {
    if (msg.id !== undefined && msg.method === undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
      return;
    }
    const handler = this.handlers.get(msg.method);
    if (msg.id !== undefined) {
      // A request from the server (capability registration, configuration): nothing to add.
      this.send({ jsonrpc: '2.0', id: msg.id, result: null });
    }
    if (handler) handler(msg.params);
  }

  send(msg) {
    if (!this.proc.stdin.writable) return;
    const body = Buffer.from(JSON.stringify(msg), 'utf8');
    this.proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.proc.stdin.write(body);
  }

  request(method, params, token) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ jsonrpc: '2.0', id, method, params });
      if (token) token.onCancellationRequested(() => this.notify('$/cancelRequest', { id }));
    });
  }

  notify(method, params) {
    this.send({ jsonrpc: '2.0', method, params });
  }

  on(method, handler) {
    this.handlers.set(method, handler);
  }
}

// ---------------------------------------------------------------- the client

let client;

class Client {
  constructor(context) {
    this.context = context;
    this.log = vscode.window.createOutputChannel('fm language server');
    this.diagnostics = vscode.languages.createDiagnosticCollection('fm');
    this.disposables = [];
    this.ready = undefined;
  }

  start() {
    const [command, args, options] = serverCommand();
    this.log.appendLine(`fm: starting ${command} ${args.join(' ')}`);
    const proc = cp.spawn(command, args, { ...options, stdio: 'pipe' });
    this.proc = proc;
    const conn = new Connection(proc, this.log);
    this.conn = conn;
    proc.on('error', (e) => {
      this.ready = Promise.reject(e);
      this.ready.catch(() => undefined);
      void vscode.window.showErrorMessage(
        `fm: could not start the language server (\`${command} ${args.join(' ')}\`: ${e.message}). ` +
          'Install fmc or set "fm.server.path"; highlighting works without it.',
      );
    });
    proc.on('exit', (code) => this.log.appendLine(`fm: the language server exited (${code})`));
    conn.on('textDocument/publishDiagnostics', (p) => {
      this.diagnostics.set(vscode.Uri.parse(p.uri), p.diagnostics.map(toDiagnostic));
    });
    conn.on('window/logMessage', (p) => this.log.appendLine(p.message));
    conn.on('window/showMessage', (p) => void vscode.window.showInformationMessage(p.message));
    const folders = (vscode.workspace.workspaceFolders || []).map((f) => ({ uri: f.uri.toString(), name: f.name }));
    this.ready = conn
      .request('initialize', {
        processId: process.pid,
        clientInfo: { name: 'vscode-fm' },
        rootUri: folders[0] ? folders[0].uri : null,
        workspaceFolders: folders.length ? folders : null,
        capabilities: CLIENT_CAPABILITIES,
      })
      .then((result) => {
        conn.notify('initialized', {});
        for (const doc of vscode.workspace.textDocuments) this.didOpen(doc);
        return result;
      });
    this.ready.catch((e) => this.log.appendLine(`fm: initialize failed: ${e.message}`));

    const ws = vscode.workspace;
    this.disposables.push(
      ws.onDidOpenTextDocument((doc) => this.whenReady(() => this.didOpen(doc))),
      ws.onDidChangeTextDocument((e) => this.whenReady(() => this.didChange(e))),
      ws.onDidCloseTextDocument((doc) => this.whenReady(() => this.didClose(doc))),
      ...registerProviders(this),
    );
  }

  whenReady(f) {
    this.ready.then(f, () => undefined);
  }

  request(method, params, token) {
    return this.ready.then(
      () => this.conn.request(method, params, token),
      () => undefined,
    );
  }

  didOpen(doc) {
    if (doc.languageId !== 'fm') return;
    this.conn.notify('textDocument/didOpen', {
      textDocument: { uri: doc.uri.toString(), languageId: 'fm', version: doc.version, text: doc.getText() },
    });
  }

  didChange(e) {
    if (e.document.languageId !== 'fm' || e.contentChanges.length === 0) return;
    this.conn.notify('textDocument/didChange', {
      textDocument: { uri: e.document.uri.toString(), version: e.document.version },
      contentChanges: e.contentChanges.map((c) => ({ range: fromRange(c.range), text: c.text })),
    });
  }

  didClose(doc) {
    if (doc.languageId !== 'fm') return;
    this.conn.notify('textDocument/didClose', { textDocument: { uri: doc.uri.toString() } });
    this.diagnostics.delete(doc.uri);
  }

  async stop() {
    for (const d of this.disposables) d.dispose();
    this.disposables = [];
    this.diagnostics.clear();
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    try {
      await Promise.race([this.conn.request('shutdown', null), new Promise((r) => setTimeout(r, 2000))]);
      this.conn.notify('exit', null);
    } catch {
      // the server is gone already
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (proc.exitCode === null) proc.kill();
  }

  dispose() {
    this.diagnostics.dispose();
    this.log.dispose();
  }
}

function activate(context) {
  client = new Client(context);
  client.start();
  context.subscriptions.push(
    vscode.commands.registerCommand('fm.restartServer', async () => {
      await client.stop();
      client.start();
    }),
    { dispose: () => client && client.dispose() },
  );
  return client;
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
